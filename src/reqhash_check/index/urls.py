"""The URL helpers live in `reqhash_check.urls` (configuration, settings, scrubbing and the
rules use them too, below the index layer); the index modules import them from here."""

from reqhash_check.urls import (
    DEFAULT_INDEX_URL,
    PYPI_HOSTS,
    UNPARSED,
    Origin,
    cache_key,
    index_urls,
    is_pypi_simple_url,
    local_path,
    pypi_base_url,
    redact_url,
    split_credentials,
    stored_api,
    url_host,
    url_origin,
    url_parses,
    without_userinfo,
)

__all__ = [
    "DEFAULT_INDEX_URL",
    "PYPI_HOSTS",
    "UNPARSED",
    "Origin",
    "cache_key",
    "index_urls",
    "is_pypi_simple_url",
    "local_path",
    "pypi_base_url",
    "redact_url",
    "split_credentials",
    "stored_api",
    "url_host",
    "url_origin",
    "url_parses",
    "without_userinfo",
]
