"""Which indexes each source sends its requests to, built from the one `Settings` and the
source's own options: a requirements file set (`plan_indexes`), a locked package
(`plan_lock_package`) and an `explain` run (`configured_plan`). Asking them is
`reqhash_check.index.lookup`'s work.

Every index keeps its origin: the command line, the environment and pip's configuration
are trusted; the checked tree's configuration, a requirements file and a lock are not (see
each plan's `untrusted`, `refused`, `from_files` and `own_client`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from reqhash_check import fs, watch
from reqhash_check.config import Sourced, refusal, tree_refusals
from reqhash_check.findings import IndexUse, Location
from reqhash_check.requirements import RequirementSet
from reqhash_check.settings import Settings
from reqhash_check.urls import (
    local_path,
    redact_url,
    split_credentials,
    url_host,
    url_parses,
)

__all__ = [
    "FILE_HOST_INDEXES",
    "IndexPlan",
    "configured_plan",
    "plan_indexes",
    "plan_lock_package",
]


@dataclass(frozen=True)
class IndexPlan:
    """The sources one file set sends pip to, and which of them may be contacted."""

    urls: tuple[str, ...]
    """Index URLs, primary first, as requests use them (environment values expanded)."""
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    """URL or location → how it is shown and keyed in the cache (as written, redacted)."""
    refused: Mapping[str, str] = field(default_factory=dict)
    """URL or location → why it is not contacted."""
    uses: tuple[IndexUse, ...] = ()
    expanded: frozenset[str] = frozenset()
    """Locations built from an environment value: asked without the cache, never quoted."""
    untrusted: frozenset[str] = frozenset()
    """Indexes named only by the checked tree's configuration: asked without credentials
    (neither netrc's nor those of the indexes the command line or pip's configuration name)."""
    from_files: frozenset[str] = frozenset()
    """URLs and locations only a requirements file names (netrc's credentials are not
    bound to them; see `HttpClient.distrust`)."""

    roots: Mapping[str, fs.Root] = field(default_factory=dict)
    """Local location → where reading it may lead (see `reqhash_check.fs`)."""
    own_client: bool = False
    """Named by a lock: asked with a client of its own that sends no credentials except
    those written in its URL (no netrc, none of the configured indexes')."""
    no_index_given: bool = False
    """The run's --no-index (or pip's): no index is asked for a source with no index
    options of its own, not even one a lock names."""
    allow_index: frozenset[str] | None = None
    """--allow-index, for the indexes a lock names (None: any host)."""

    @property
    def key(self) -> tuple[object, ...]:
        roots = tuple(sorted((k, r.path, r.allow_outside) for k, r in self.roots.items()))
        return (
            self.urls,
            self.find_links,
            self.no_index,
            tuple(sorted(self.refused.items())),
            tuple(sorted(self.untrusted)),
            tuple(sorted(self.expanded)),
            roots,
            self.own_client,
            self.no_index_given,
        )

    @property
    def shown(self) -> str:
        sources = [] if self.no_index else list(self.urls)
        sources += list(self.find_links)
        return ", ".join(self.labels.get(u, redact_url(u)) for u in sources) or "no index"


def plan_indexes(settings: Settings, req_set: RequirementSet) -> IndexPlan:
    """Where pip looks, in pip's order: its configuration and PIP_* variables, then the
    command line, then the file's own options (its --index-url replaces the one before;
    extra indexes and find-links add up; --no-index drops every index).

    A location from a file is contacted only if it names its host literally (no ${VAR}),
    is within --allow-index when that is given, and, for a folder or page on this machine,
    lies inside the repository; what is read there stays inside it too (`roots`)."""
    configured = settings.configured_indexes()
    primary = configured.urls[0].value
    extras = [s.value for s in configured.urls[1:]]
    find_links = [s.value for s in configured.find_links]
    no_index = configured.no_index
    # Only trusted origins name hosts that may receive expanded values: the checked tree's
    # own configuration cannot vouch for a host its requirements files then send secrets to.
    trusted_hosts = {url_host(u) for u in configured.trusted if url_host(u)}
    trusted_hosts |= set(settings.allow_index or ())
    labels = {s.value: redact_url(s.value) for s in configured.every}
    refused = tree_refusals(
        configured, allow_index=settings.allow_index, allow_outside=settings.allow_outside
    )
    origins: dict[str, IndexUse] = {
        s.value: IndexUse(labels[s.value], s.location, "index", s.value not in refused)
        for s in configured.every
        if not s.origin.trusted
    }
    expanded: set[str] = set()
    repository = fs.Root.at(
        fs.repository_root(req_set.top_level), allow_outside=settings.allow_outside
    )
    # A local location the command line, the environment or pip's configuration names is
    # read where it is; one the checked tree names stays inside the repository.
    trusted_locations = set(configured.trusted)
    roots = {
        u: fs.trusted_root(path, allow_outside=settings.allow_outside)
        if u in trusted_locations
        else repository
        for u in [primary, *extras, *find_links]
        if (path := local_path(u)) is not None
    }
    for option in req_set.options:
        if option.name not in ("index_url", "extra_index_url", "find_links", "no_index"):
            continue
        if option.name == "no_index":
            no_index = no_index or bool(option.value)
            continue
        value = str(option.value)
        written = str(getattr(option, "written", None) or value)
        where = f"{option.location.path}:{option.location.line}" if option.location else ""
        from_variable = written != value  # before a relative find-links path is made absolute
        if option.name == "find_links":
            value = _find_links_location(value, option.location.path if option.location else "")
        if not from_variable:
            written = value
        label = redact_url(written)
        reason = _refusal(settings, value, written, trusted_hosts, option.location)
        if local_path(value) is not None:
            roots[value] = repository
        if option.name == "index_url":
            primary = value
        elif option.name == "extra_index_url":
            extras.append(value)
        else:
            find_links.append(value)
        labels[value] = label
        if from_variable:
            expanded.add(value)
        if reason:
            refused[value] = f"{label} ({where}) {reason}"
        kind = "find-links" if option.name == "find_links" else "index"
        origins[value] = IndexUse(label, option.location, kind, reason is None)
    urls = tuple(dict.fromkeys([primary, *extras]))
    links = tuple(dict.fromkeys(find_links))
    shown = [] if no_index else list(urls)
    uses = tuple(
        origins.get(u) or IndexUse(labels.get(u, redact_url(u)), None, kind)
        for kind, group in (("index", shown), ("find-links", links))
        for u in group
    )
    untrusted = frozenset(s.value for s in configured.every if not s.origin.trusted)
    trusted = frozenset(configured.trusted)
    return IndexPlan(
        urls,
        links,
        no_index,
        labels,
        refused,
        uses,
        frozenset(expanded),
        untrusted - trusted,
        frozenset(origins) - trusted,
        roots,
    )


def _find_links_location(value: str, including: str) -> str:
    """pip reads a relative find-links path in a file relative to that file when it exists."""
    if "://" in value or value.startswith("file:") or os.path.isabs(value) or not including:
        return value
    beside = os.path.join(os.path.dirname(os.path.abspath(including)), value)
    watch.path(beside)
    return beside if os.path.exists(beside) else value


def _refusal(
    settings: Settings,
    value: str,
    written: str,
    trusted_hosts: set[str],
    origin: Location | None,
) -> str | None:
    return refusal(
        value,
        written,
        trusted_hosts,
        origin,
        allow_index=settings.allow_index,
        allow_outside=settings.allow_outside,
    )


# -- the configured indexes alone: explain, and a locked package -----------------------------


def configured_plan(settings: Settings) -> IndexPlan:
    """The configured indexes as a source with no index options of its own uses them:
    `explain` (whose log never decides where a request goes) and a locked package that names
    no other index. Those the checked tree's configuration names are asked without
    credentials, and not at all when they fall outside --allow-index or are places outside
    the repository; a local index a trusted origin names is read where it is."""
    configured = settings.configured_indexes()
    urls = tuple(dict.fromkeys(s.value for s in configured.urls if s.value))
    untrusted = frozenset(s.value for s in configured.urls if not s.origin.trusted)
    if configured.no_index:
        return _no_index_plan(settings, urls, configured.find_links)
    return IndexPlan(
        urls,
        allow_index=settings.allow_index,
        refused=tree_refusals(
            configured, allow_index=settings.allow_index, allow_outside=settings.allow_outside
        ),
        untrusted=untrusted,
        roots={
            url: fs.trusted_root(path)
            for url in urls
            if (path := local_path(url)) is not None and url not in untrusted
        },
    )


NOT_ASKED_NO_INDEX = "not asked (--no-index, and no --find-links)"


def _no_index_plan(
    settings: Settings, urls: tuple[str, ...], find_links: Iterable[Sourced]
) -> IndexPlan:
    """--no-index (the command line's or pip's) for a source with no options of its own:
    only the find-links locations (trusted origins all) are read; with none, nothing is
    asked and every question is an index failure, never a finding."""
    links = tuple(dict.fromkeys(s.value for s in find_links))
    if links:
        return IndexPlan(
            urls,
            links,
            no_index=True,
            labels={u: redact_url(u) for u in links},
            roots={
                u: fs.trusted_root(path, allow_outside=settings.allow_outside)
                for u in links
                if (path := local_path(u)) is not None
            },
            no_index_given=True,
        )
    return IndexPlan(
        urls,
        refused={u: f"{redact_url(u)} {NOT_ASKED_NO_INDEX}" for u in urls},
        no_index_given=True,
    )


FILE_HOST_INDEXES = {
    "files.pythonhosted.org": "https://pypi.org/simple",
    "test-files.pythonhosted.org": "https://test.pypi.org/simple",
}
"""Where a file host's files are listed: PyPI and TestPyPI serve files from their own hosts."""
_MAX_URL = 2048


def _comparable(url: str) -> str:
    bare, _ = split_credentials(url)
    parts = urlsplit(bare)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _usable_index_url(url: str | None) -> bool:
    if not url or len(url) > _MAX_URL or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return False
    if not url_parses(url):  # an unclosed `[`, a port past 65535
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def plan_lock_package(
    configured: IndexPlan, index: str | None, file_urls: Iterable[str]
) -> IndexPlan:
    """The index to ask about a locked package: its own `index` key, else the index its file
    URLs belong to (files on files.pythonhosted.org are PyPI's), else the `configured` plan.

    An index the lock names is untrusted: unless it is one of the configured indexes, it is
    asked with a client of its own (`own_client`) that sends no credentials except those
    written in that very URL."""
    if configured.no_index_given:
        return configured
    known = {_comparable(url) for url in configured.urls}
    named = index if _usable_index_url(index) else None
    if named is None:
        hosts = {
            urlsplit(url).hostname
            for url in file_urls
            if url and url_parses(url) and urlsplit(url).hostname in FILE_HOST_INDEXES
        }
        if len(hosts) == 1:
            named = FILE_HOST_INDEXES[str(hosts.pop())]
    if named is None or _comparable(named) in known:
        return configured
    allowed = configured.allow_index
    if allowed is not None and url_host(named) not in allowed:
        reason = f"{redact_url(named)} (named by the lock) is not in --allow-index; not contacted"
        return IndexPlan((named,), refused={named: reason}, own_client=True)
    return IndexPlan((named,), own_client=True)
