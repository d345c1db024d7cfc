"""Secrets do not leave transformed (issue 18, class 3).

A value expanded from `${VAR}` is used as pip uses it, but what derives from it (a name
normalised or cut short, a digest in lower case, a URL percent-encoded, a file URL joined
to an expanded page URL) is shown nowhere and stored nowhere: outputs show `${VAR}`, and
the cache holds neither the value nor a key shared between runs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.parse
from pathlib import Path

import pytest

from tests.hostile import WHEEL_SHA, HostileIndex
from tests.security.conftest import FORMATS, pinned, run

# Long (cut short in messages), mixed case with separators a project name normalises,
# and characters a URL percent-encodes.
NAME_SECRET = "Corp_Secret.Project-" + "Q7x9Zt4Kw2" * 10
DIGEST_SECRET = "ABCDEF0123456789" * 4
PATH_SECRET = "T0k3n^Séc|ret-9f8e7d6c5b4a"


def forms(secret: str) -> dict[str, str]:
    """The secret, and what names, messages and URLs make of it."""
    lower = secret.lower()
    return {
        "as is": secret,
        "lower": lower,
        "upper": secret.upper(),
        "prefix": secret[:20],
        "lower prefix": lower[:20],
        "normalised": re.sub(r"[-_.]+", "-", lower),
        "normalised prefix": re.sub(r"[-_.]+", "-", lower)[:20],
        "quoted": urllib.parse.quote(secret),
        "quoted, no safe": urllib.parse.quote(secret, safe=""),
        "quoted lower": urllib.parse.quote(lower, safe=""),
    }


def assert_nowhere(text: str, secret: str, where: str) -> None:
    for form, value in forms(secret).items():
        assert value not in text, f"{form} form of the secret in {where}"


def cache_bytes(tmp_path: Path) -> str:
    path = tmp_path / "cache" / "index-cache.sqlite3"
    return path.read_bytes().decode("latin-1") if path.exists() else ""


@pytest.fixture(autouse=True)
def _no_pip_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)


def test_a_project_name_from_a_variable_appears_in_no_form(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). A name normalised, lower-cased or cut to fit a
    message is still the secret: the line is shown as written, and nothing about the name
    is cached."""
    monkeypatch.setenv("PRIVATE_NAME", NAME_SECRET)
    (repo / "r.txt").write_text(
        f"${{PRIVATE_NAME}}==1.0 --hash=sha256:{WHEEL_SHA}\n" + pinned("six")
    )
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "-v", "r.txt")
        assert_nowhere(result.out + result.err, NAME_SECRET, fmt)
        assert "${PRIVATE_NAME}" in result.out.replace("\\_", "_"), fmt
    assert any("/simple/corp-secret-project" in path for path, _ in hostile.requests)
    assert_nowhere(cache_bytes(tmp_path), NAME_SECRET, "the cache")


def test_a_digest_from_a_variable_is_not_shown_in_lower_case_nor_written_back(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). A digest pip compares in lower case is the secret
    in lower case: not shown, and --fix/--diff do not write it into the file."""
    monkeypatch.setenv("PINNED_DIGEST", DIGEST_SECRET)
    written = "demo==1.0 --hash=sha256:${PINNED_DIGEST}\n"
    (repo / "r.txt").write_text(written)
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "-v", "r.txt")
        assert result.code == 1, fmt
        assert_nowhere(result.out + result.err, DIGEST_SECRET, fmt)
    result = run(capsys, "--index-url", hostile.simple_url, "--diff", "r.txt")
    assert_nowhere(result.out + result.err, DIGEST_SECRET, "--diff")
    result = run(capsys, "--index-url", hostile.simple_url, "--fix", "r.txt")
    assert_nowhere(result.out + result.err, DIGEST_SECRET, "--fix")
    assert (repo / "r.txt").read_text() == written
    assert_nowhere(cache_bytes(tmp_path), DIGEST_SECRET, "the cache")


def test_an_index_path_from_a_variable_leaves_no_derived_url(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). An index on a host the command line names, at a
    path from a variable: it is asked, but neither the percent-encoded path nor the file
    URLs joined to it reach an output or the cache."""
    monkeypatch.setenv("INDEX_PATH", PATH_SECRET)
    hostile.behaviour = "relative"
    (repo / "r.txt").write_text(
        f"--extra-index-url {hostile.url}/${{INDEX_PATH}}/simple\n" + pinned()
    )
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "-v", "r.txt")
        assert result.code == 0, result.out + result.err
        assert_nowhere(result.out + result.err, PATH_SECRET, fmt)
    asked = [path for path, _ in hostile.requests if "/simple/demo/" in path]
    sent = [path.split("/")[1] for path in asked if path.startswith("/T0k3n")]
    assert sent, asked  # asked, with the value as the HTTP client encodes it
    cache = cache_bytes(tmp_path)
    assert_nowhere(cache, PATH_SECRET, "the cache")
    assert sent[0] not in cache
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "-v", "r.txt")
        assert sent[0] not in result.out + result.err, fmt


def test_a_failing_index_at_a_path_from_a_variable_is_not_quoted(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). The error of an index whose URL was expanded
    names it as written; the URL it failed at (percent-encoded) is not quoted."""
    monkeypatch.setenv("INDEX_PATH", PATH_SECRET)
    hostile.behaviour = "error-page"
    (repo / "r.txt").write_text(
        f"--extra-index-url {hostile.url}/${{INDEX_PATH}}/simple\n" + pinned()
    )
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "r.txt")
        assert result.code == 3, fmt
        assert_nowhere(result.out + result.err, PATH_SECRET, fmt)
        assert "%C3%A9" not in result.out + result.err, fmt
        if fmt in ("text", "json"):
            assert "${INDEX_PATH}" in result.out, fmt


def test_runs_with_different_values_never_share_cache_rows(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). Rows are never keyed by a URL as written with
    `${VAR}` (runs with other values would share them) nor by the expanded URL."""
    (repo / "r.txt").write_text(
        f"--extra-index-url {hostile.url}/${{INDEX_PATH}}/simple\n" + pinned()
    )
    for value in ("first-value-1234", "other-value-5678"):
        monkeypatch.setenv("INDEX_PATH", value)
        assert run(capsys, "--index-url", hostile.simple_url, "r.txt").code == 0
    with sqlite3.connect(tmp_path / "cache" / "index-cache.sqlite3") as conn:
        keys = [row[0] for row in conn.execute("SELECT index_url FROM answers")]
    assert keys, "the command line's index is cached"
    assert not any("${" in key or "value-" in key for key in keys), keys


def test_an_expanded_secret_in_a_json_report_is_only_ever_its_name(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The finding on a line that expands a variable keeps its rule and place, and says
    what was written; it carries no fix (a fix would write the value into the file)."""
    monkeypatch.setenv("PINNED_DIGEST", DIGEST_SECRET)
    (repo / "r.txt").write_text("demo==1.0 --hash=sha256:${PINNED_DIGEST}\n")
    result = run(capsys, "--index-url", hostile.simple_url, "--format", "json", "r.txt")
    document = json.loads(result.out)
    (finding,) = document["findings"]
    assert finding["path"] == "r.txt" and finding["line"] == 1
    assert "${PINNED_DIGEST}" in finding["message"]
    assert finding.get("fix") is None


def test_explain_does_not_show_what_a_requirements_line_expands(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). `explain --requirements` names the line that
    expands a variable, but neither shows nor compares the values it expands to."""
    from tests.test_explain import mismatch

    monkeypatch.setenv("PINNED_DIGEST", DIGEST_SECRET)
    (repo / "requirements.txt").write_text("demo==1.0 --hash=sha256:${PINNED_DIGEST}\n")
    log = mismatch(repo, expected=("ab" * 32,), got=WHEEL_SHA)
    for fmt in ("text", "json", "markdown", "github"):
        result = run(
            capsys,
            "explain",
            "--index-url",
            hostile.simple_url,
            "--requirements",
            "requirements.txt",
            "--format",
            fmt,
            "-v",
            str(log),
        )
        assert_nowhere(result.out + result.err, DIGEST_SECRET, fmt)
        assert "expands an environment variable" in result.out, fmt


@pytest.mark.parametrize("behaviour", ["relative", "error-page"])
def test_a_find_links_page_from_a_variable_leaves_no_derived_url(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    behaviour: str,
) -> None:
    """Promise: no-leak (derived values). A find-links page at a path from a variable, whose
    file URLs are joined to the page's: neither they nor a failure quote the path."""
    monkeypatch.setenv("PAGE_PATH", PATH_SECRET)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    hostile.behaviour = behaviour
    (repo / "r.txt").write_text(
        f"--find-links {hostile.url}/${{PAGE_PATH}}/simple/demo/\n" + pinned()
    )
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "-v", "r.txt")
        assert_nowhere(result.out + result.err, PATH_SECRET, fmt)
        assert "%C3%A9" not in result.out + result.err, fmt
    assert any(path.startswith("/T0k3n") for path, _ in hostile.requests)
    assert_nowhere(cache_bytes(tmp_path), PATH_SECRET, "the cache")
    assert "%C3%A9" not in cache_bytes(tmp_path)


def test_the_backstop_replaces_transformed_forms_the_construction_missed(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). Were a finding on a tainted line ever left as it
    was, the last pass over every output string still replaces the value cut short,
    case-folded and normalised (here the withholding is switched off to show it)."""
    from reqhash_check import runner

    monkeypatch.setattr(runner, "withheld", lambda report, lines: report)
    monkeypatch.setenv("PRIVATE_NAME", NAME_SECRET)
    (repo / "r.txt").write_text(f"${{PRIVATE_NAME}}==1.0 --hash=sha256:{WHEEL_SHA}\n")
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "-v", "r.txt")
        assert_nowhere(result.out + result.err, NAME_SECRET, fmt)
        assert "${PRIVATE_NAME}" in result.out.replace("\\_", "_"), fmt
