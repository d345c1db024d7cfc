"""An outside attacker's cases against the reshaped engine, through the real command line:
hostile Pipfile.lock JSON against the key/line scanner, markers crafted to turn a real error
into a warning, `--fix` against both lock formats, file names no source or two sources claim,
suppressions that hide what they should not, and sheer size.

Each test names the promise of docs/security.md it holds.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.pipfile import pipenv_dumps
from tests.hostile import WHEEL, WHEEL_SHA, HostileIndex
from tests.security.conftest import FORMATS, Run, run

LINUX = "linux-x86_64-glibc2.28-cp312"
STALE = "ef" * 32


def _no_traceback(result: Run) -> None:
    shown = result.out + result.err
    assert "Traceback" not in shown and "internal error" not in shown, shown


def _one_line(result: Run) -> None:
    _no_traceback(result)
    errors = [line for line in result.err.splitlines() if line.startswith("reqhash-check:")]
    assert len(errors) == 1, result.err


def _entry(digest: str = WHEEL_SHA, **extra: Any) -> dict[str, Any]:
    return {"hashes": [f"sha256:{digest}"], "version": "==1.0", **extra}


def _lock(url: str, default: dict[str, Any], **top: Any) -> str:
    return pipenv_dumps(
        {
            "_meta": {
                "hash": {"sha256": "ab" * 32},
                "pipfile-spec": 6,
                "requires": {"python_version": "3.12"},
                "sources": [{"name": "pypi", "url": url, "verify_ssl": True}],
            },
            "default": default,
            "develop": {},
            **top,
        }
    )


def _line_of(text: str, needle: str) -> int:
    return 1 + next(n for n, line in enumerate(text.splitlines()) if needle in line)


def _findings(result: Run) -> list[dict[str, Any]]:
    return list(json.loads(result.out)["findings"])


def _check_json(capsys: pytest.CaptureFixture[str], path: str) -> Run:
    return run(capsys, "--isolated", "--target", LINUX, "--format", "json", path)


# -- Pipfile.lock JSON against `key_lines` -----------------------------------------------------


def _hostile_texts(url: str) -> dict[str, str]:
    """Locks whose stale `demo` entry sits after something meant to fool the scanner; the
    finding must be at the line of `"demo": {` that JSON keeps."""
    stale = json.dumps(_entry(STALE))
    good = json.dumps(_entry())
    meta = f'"_meta": {{"sources": [{{"url": "{url}", "verify_ssl": true}}]}}'
    return {
        "escaped-quotes-and-braces": (
            f'{{\n{meta},\n"x\\"{{[": "\\\\\\"}}]\\"",\n"y\\\\": {good},\n'
            f'"default": {{\n"demo": {stale}\n}}\n}}\n'
        ),
        "key-named-like-a-package-in-a-string": (
            f'{{\n{meta},\n"note": "\\"default\\": {{\\"demo\\": 1",\n'
            f'"default": {{\n"demo": {stale}\n}}\n}}\n'
        ),
        "keys-inside-lists": (
            f'{{\n{meta},\n"x": [{{"default": {{"demo": 1}}}}, [{{"demo": {{}}}}]],\n'
            f'"default": {{\n"demo": {stale}\n}}\n}}\n'
        ),
        "non-string-last-values": (
            f'{{\n{meta},\n"n": 1,\n"t": true,\n"default": {{\n'
            f'"a": {{"hashes": ["sha256:{WHEEL_SHA}"], "version": "==1.0", "z": null}},\n'
            f'"demo": {{"hashes": ["sha256:{STALE}"],\n"version": "==1.0", "q": -1.5e3}}\n'
            '},\n"f": false\n}\n'
        ),
        "duplicate-category": (
            f'{{\n{meta},\n"default": {{\n"demo": {good}\n}},\n'
            f'"default": {{\n"demo": {stale}\n}}\n}}\n'
        ),
        "deep-nesting-before": (
            f'{{\n{meta},\n"deep": {"[" * 500}{"]" * 500},\n'
            f'"default": {{\n"demo": {stale}\n}}\n}}\n'
        ),
        "unicode-escaped-category": (
            f'{{\n{meta},\n"d\\u0065fault": {{\n"demo": {stale}\n}}\n}}\n'
        ),
        "line-separator-in-a-string": (
            f'{{\n{meta},\n"x": "a\u2028b\u2029c\\n",\n"default": {{\n"demo": {stale}\n}}\n}}\n'
        ),
    }


HOSTILE_IDS = list(_hostile_texts("u"))


@pytest.mark.parametrize("case", HOSTILE_IDS)
def test_the_lock_scanner_finds_the_line_json_keeps(
    case: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bad-input (Pipfile.lock). Strings holding quotes, braces and escapes, keys
    inside lists, numbers, true/false/null as last values, a repeated category, deep
    nesting and line separators inside strings do not move a finding off the package's
    line, crash or hang."""
    text = _hostile_texts(hostile.simple_url)[case]
    json.loads(text)  # the case is valid JSON
    (repo / "Pipfile.lock").write_text(text)
    started = time.monotonic()
    result = _check_json(capsys, "Pipfile.lock")
    assert time.monotonic() - started < 20
    _no_traceback(result)
    stale = [f for f in _findings(result) if f["rule"] == "stale-hash"]
    assert result.code == 1 and len(stale) == 1, result
    last = text.rindex('"demo": {"hashes": ["sha256:' + STALE[:8])
    assert stale[0]["line"] == text[:last].count("\n") + 1, (stale, case)


HUGE = {
    "ten-megabytes-of-brackets": lambda: "[" * 10_000_000,
    "deep-object-nesting": lambda: '{"a":' * 100_000 + "1" + "}" * 100_000,
    "bom": lambda: "\ufeff{}",
    "top-level-list": lambda: "[]",
    "huge-number": lambda: '{"default": {}, "n": ' + "9" * 100_000 + "}",
    "lone-surrogate-key": lambda: '{"default": {"d\\ud800": {"version": "==1.0"}}}',
    "lone-surrogate-source": lambda: (
        '{"_meta": {"sources": [{"url": "http://127.0.0.1:9/\\udfff"}]}, "default": {}}'
    ),
    "lone-surrogate-marker": lambda: (
        '{"default": {"demo": {"version": "==1.0", "markers": "os_name == \\"\\ud800\\""}}}'
    ),
    "entry-a-list": lambda: '{"default": {"demo": []}}',
    "hashes-a-string": lambda: '{"default": {"demo": {"version": "==1.0", "hashes": "x"}}}',
    "category-a-number": lambda: '{"default": 7}',
    "sources-an-object": lambda: '{"_meta": {"sources": {"url": "x"}}, "default": {}}',
    "nul-in-a-key": lambda: '{"default": {"de\\u0000mo": {"version": "==1.0"}}}',
    "truncated": lambda: '{"default": {"demo": {"version": "==1.0"',
}


@pytest.mark.parametrize("case", list(HUGE))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_lock_that_is_not_one_is_one_line_exit_2_in_bounded_time(
    case: str, fmt: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bad-input (Pipfile.lock). Ten megabytes of `[`, deep nesting, a BOM, a
    number past the digit limit, a `\\ud800` escape (no output can encode it), entries of
    the wrong type: one line, exit 2, no traceback, in bounded time."""
    (repo / "Pipfile.lock").write_text(HUGE[case](), encoding="utf-8", errors="surrogatepass")
    started = time.monotonic()
    result = run(capsys, "--isolated", "--offline", "--format", fmt, "Pipfile.lock")
    assert time.monotonic() - started < 20
    assert result.code == 2, result
    _one_line(result)


def test_a_huge_string_in_the_lock_is_scanned_in_bounded_time_and_memory(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded (Pipfile.lock). An 8 MB string of escapes before the packages: the
    scanner walks it once; the finding is still at its line."""
    text = _lock(hostile.simple_url, {"demo": _entry(STALE)}, aaa='\\"' * 2_000_000)
    (repo / "Pipfile.lock").write_text(text)
    tracemalloc.start()
    started = time.monotonic()
    result = _check_json(capsys, "Pipfile.lock")
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 30 and peak < 400 * 1024 * 1024
    _no_traceback(result)
    [finding] = [f for f in _findings(result) if f["rule"] == "stale-hash"]
    assert finding["line"] == _line_of(text, '"demo": {')


def test_a_meta_sources_finding_is_at_the_sources_line(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bad-input (Pipfile.lock). `_meta.sources` written with escaped keys
    (`"_m\\u0065ta"`, `"s\\u006furces"`): its findings are at the line of `sources`."""
    text = (
        '{\n"_m\\u0065ta": {\n"hash": {"sources": 1},\n'
        f'"s\\u006furces": [{{"url": "{hostile.simple_url}", "verify_ssl": false}}]\n}},\n'
        f'"default": {{\n"demo": {json.dumps(_entry())}\n}}\n}}\n'
    )
    (repo / "Pipfile.lock").write_text(text)
    result = _check_json(capsys, "Pipfile.lock")
    _no_traceback(result)
    lines = {f["line"] for f in _findings(result) if f["rule"] == "insecure-index"}
    assert lines == {_line_of(text, "s\\u006furces")}, result.out


# -- markers that would turn an error into a warning -------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        'platform_release != ""',
        'platform_release >= "0"',
        'platform_version != "no such kernel build"',
        'python_version ~= "3"',
        'implementation_name == "cpython" and platform_release > "1"',
        "python_version >= '3' or extra == 'x'",
    ],
)
@pytest.mark.parametrize("where", ["requirements", "Pipfile.lock", "pylock.toml"])
def test_a_marker_that_may_hold_never_turns_an_error_into_a_warning(
    marker: str, where: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK. A marker the named target cannot settle (it reads the kernel's
    `platform_release`, which a target named on the command line does not know) or cannot
    evaluate at all (`~=` with one number, pip fails on it) keeps the stale hash an error:
    pip on the real machine installs, or fails on, that line. (pip 26.3 on Linux tries to
    install `demo==1.0 ; platform_release != ""` and fails on `python_version ~= "3"` with
    UndefinedComparison.)"""
    if where == "requirements":
        path = "r.txt"
        (repo / path).write_text(
            f"--index-url {hostile.simple_url}\ndemo==1.0 ; {marker} --hash=sha256:{STALE}\n"
        )
    elif where == "Pipfile.lock":
        path = "Pipfile.lock"
        (repo / path).write_text(_lock(hostile.simple_url, {"demo": _entry(STALE, markers=marker)}))
    else:
        path = "pylock.toml"
        if "extra" in marker:
            return  # `extra` is no variable of a lock file's package marker
        text = _pylock(hostile.simple_url, STALE).replace(
            'version = "1.0"\n', f"version = \"1.0\"\nmarker = '{marker}'\n"
        )
        (repo / path).write_text(text)
    result = run(capsys, "--isolated", "--target", LINUX, "--format", "json", path)
    _no_traceback(result)
    assert result.code == 1, result
    errors = [f for f in _findings(result) if f["severity"] == "error"]
    assert {f["rule"] for f in errors} & {"stale-hash", "foreign-hash"}, result.out


@pytest.mark.parametrize("marker", ['extra == "x"', 'python_version < "3"', 'os_name == "nt"'])
def test_a_marker_that_holds_on_no_target_is_a_warning_as_pip_skips_the_line(
    marker: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK (the other side). pip skips a top-level line whose marker is
    false everywhere (`extra` is empty for it): a warning, exit 0, never an error."""
    (repo / "r.txt").write_text(
        f"--index-url {hostile.simple_url}\ndemo==1.0 ; {marker} --hash=sha256:{STALE}\n"
    )
    result = run(capsys, "--isolated", "--target", LINUX, "--format", "json", "r.txt")
    _no_traceback(result)
    assert result.code == 0
    [finding] = _findings(result)
    assert (finding["rule"], finding["severity"]) == ("stale-hash", "warning")


def test_an_invalid_marker_is_never_a_skipped_line(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK. A marker that does not parse fails pip: never OK."""
    (repo / "r.txt").write_text(
        f"--index-url {hostile.simple_url}\n"
        f'demo==1.0 ; python_version >> "3" --hash=sha256:{STALE}\n'
    )
    result = run(capsys, "--isolated", "--target", LINUX, "r.txt")
    _no_traceback(result)
    assert result.code != 0 and "OK:" not in result.out


# -- suppressions ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["requirements-marker", "Pipfile.lock-marker", "url-fragment"])
def test_a_suppression_outside_a_comment_hides_nothing(
    where: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK. `#reqhash: ignore[…]` inside a marker's quoted value or a
    URL is no comment for pip and suppresses nothing; a Pipfile.lock has no comments."""
    marker = "platform_machine != 'x#reqhash:ignore[stale-hash]'"
    if where == "Pipfile.lock-marker":
        path = "Pipfile.lock"
        (repo / path).write_text(_lock(hostile.simple_url, {"demo": _entry(STALE, markers=marker)}))
    else:
        path = "r.txt"
        line = (
            f"demo==1.0 ; {marker}"
            if where == "requirements-marker"
            else f"demo==1.0 --index-url={hostile.simple_url}#reqhash:ignore[stale-hash]"
        )
        (repo / path).write_text(
            f"--index-url {hostile.simple_url}\n{line} --hash=sha256:{STALE}\n"
        )
    result = run(capsys, "--isolated", "--target", LINUX, path)
    _no_traceback(result)
    assert result.code != 0 and "suppressed" not in result.out, result


def test_a_suppression_on_one_line_hides_nothing_on_the_next(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK. A suppression holds for its own requirement only."""
    (repo / "r.txt").write_text(
        f"--index-url {hostile.simple_url}\n"
        f"demo==1.0 --hash=sha256:{WHEEL_SHA}  # reqhash: ignore[stale-hash]\n"
        f"other==1.0 --hash=sha256:{STALE}\n"
    )
    result = run(capsys, "--isolated", "--target", LINUX, "--format", "json", "r.txt")
    _no_traceback(result)
    assert result.code == 1
    assert not any(f.get("suppressed") for f in _findings(result))


@pytest.mark.parametrize("argv", [["--select", "no-such-rule"], ["--ignore", "no-such-rule"]])
def test_an_unknown_rule_id_is_bad_usage_not_a_silent_pass(
    argv: list[str], hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK. A misspelt rule id selects or ignores nothing silently."""
    (repo / "r.txt").write_text(
        f"--index-url {hostile.simple_url}\ndemo==1.0 --hash=sha256:{STALE}\n"
    )
    result = run(capsys, "--isolated", "--target", LINUX, *argv, "r.txt")
    _no_traceback(result)
    assert result.code in (1, 2) and "OK:" not in result.out, result


# -- --fix against both lock formats -----------------------------------------------------------


def _pylock(url: str, digest: str, *, name: str = "demo", count: int = 1) -> str:
    packages = "".join(
        f'[[packages]]\nname = "{name}"\nversion = "1.0"\nindex = "{url}"\n'
        f'wheels = [{{ name = "{WHEEL}", url = "{url.rsplit("/", 1)[0]}/files/{WHEEL}", '
        f'hashes = {{ sha256 = "{digest}" }} }}]\n\n'
        for _ in range(count)
    )
    return f'lock-version = "1.0"\ncreated-by = "hand"\nrequires-python = ">=3.8"\n\n{packages}'


@pytest.mark.parametrize("how", ["symlink-leaving", "read-only", "directory"])
@pytest.mark.parametrize("name", ["pylock.toml", "Pipfile.lock"])
def test_fix_never_writes_a_lock_it_must_not(
    how: str, name: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. A lock that is a symlink leaving the repository, read-only, or
    a directory: no write, no traceback, a documented exit code."""
    text = (
        _pylock(hostile.simple_url, STALE)
        if name == "pylock.toml"
        else _lock(hostile.simple_url, {"demo": _entry(STALE)})
    )
    target = repo / name
    if how == "symlink-leaving":
        target = repo.parent / "outside"
        target.write_text(text)
        (repo / name).symlink_to(target)
    elif how == "read-only":
        target.write_text(text)
        target.chmod(0o444)
    else:
        target.mkdir()
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", name)
    _no_traceback(result)
    assert result.code in (1, 2), result
    if how != "directory":
        assert target.read_text() == text
    if how == "read-only" and os.geteuid() != 0:
        assert "not fixed" in result.err or "read-only" in result.err, result.err


@pytest.mark.parametrize("name", ["pylock.toml", "Pipfile.lock"])
def test_fix_reaches_a_fixed_point_and_a_second_run_writes_nothing(
    name: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. --fix writes the published hash once; the next run is OK and
    writes nothing (no round keeps changing the file)."""
    path = repo / name
    if name == "pylock.toml":
        path.write_text(_pylock(hostile.simple_url, STALE))
    else:
        path.write_text(_lock(hostile.simple_url, {"demo": _entry(STALE)}))
    started = time.monotonic()
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", name)
    _no_traceback(result)
    assert time.monotonic() - started < 30
    fixed = path.read_text()
    assert STALE not in fixed and WHEEL_SHA in fixed, (result, fixed)
    mtime = path.stat().st_mtime_ns
    again = run(capsys, "--isolated", "--target", LINUX, "--fix", name)
    assert again.code == 0, again
    assert path.read_text() == fixed and path.stat().st_mtime_ns == mtime


def test_fix_never_removes_the_last_hash_of_a_pipfile_lock(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. A package the index publishes nothing for keeps its hash."""
    text = _lock(hostile.simple_url, {"ghost": _entry(STALE)})
    (repo / "Pipfile.lock").write_text(text)
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "Pipfile.lock")
    _no_traceback(result)
    assert result.code != 0
    assert (repo / "Pipfile.lock").read_text() == text


def test_fix_of_a_pylock_with_a_package_twice_writes_nothing_wrong(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. Two entries for one package: no traceback; whatever is
    written keeps every hash list non-empty and holds only published digests."""
    path = repo / "pylock.toml"
    path.write_text(_pylock(hostile.simple_url, STALE, count=2))
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "pylock.toml")
    _no_traceback(result)
    written = path.read_text()
    assert written.count("sha256 = ") == 2
    assert all(
        WHEEL_SHA in line or STALE in line for line in written.splitlines() if "sha256" in line
    )


def test_fix_of_a_pipfile_lock_outside_pipenv_s_layout_writes_nothing(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. Keys out of order: rewriting would change bytes the fix has no
    business with; nothing is written."""
    text = json.dumps(
        {
            "default": {"demo": _entry(STALE)},
            "_meta": {"sources": [{"url": hostile.simple_url, "verify_ssl": True}]},
        },
        indent=4,
    )
    (repo / "Pipfile.lock").write_text(text)
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "Pipfile.lock")
    _no_traceback(result)
    assert result.code == 1 and (repo / "Pipfile.lock").read_text() == text


# -- file names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pylock.toml", '{"default": {}}'),
        ("Pipfile.lock", 'lock-version = "1.0"\n[[packages]]\nname = "demo"\n'),
        ("pylock.Pipfile.lock.toml", '{"default": {"demo": {"version": "==1.0"}}}'),
        ("Pipfile.lock.txt", '{"default": {"demo": {"version": "==1.0"}}}'),
    ],
)
def test_a_file_in_the_wrong_format_for_its_name_is_never_ok(
    name: str, content: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bad-input. A name one source claims with another format's content, or a
    name neither lock source claims holding a lock: never "OK", no traceback."""
    (repo / name).write_text(content)
    result = run(capsys, "--isolated", "--offline", name)
    _no_traceback(result)
    assert result.code != 0 and "OK:" not in result.out, result


def test_a_directory_named_like_a_lock_is_one_line_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bad-input. `Pipfile.lock/` and `pylock.toml/` as directories."""
    for name in ("Pipfile.lock", "pylock.toml"):
        (repo / name).mkdir()
        result = run(capsys, "--isolated", "--offline", name)
        assert result.code == 2
        _no_traceback(result)


# -- size --------------------------------------------------------------------------------------


def test_many_packages_and_many_targets_finish_in_bounded_time(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded. 20,000 packages in a Pipfile.lock checked offline with a cold
    cache, for eight targets: bounded time, every output format, no traceback."""
    packages = {f"p{n}": _entry() for n in range(20_000)}
    (repo / "Pipfile.lock").write_text(_lock("http://127.0.0.1:9/simple", packages))
    targets = [
        arg
        for py in ("cp310", "cp311", "cp312", "cp313")
        for plat in ("linux-x86_64-glibc2.28", "macos-arm64-14")
        for arg in ("--target", f"{plat}-{py}")
    ]
    started = time.monotonic()
    result = run(capsys, "--isolated", "--offline", *targets, "--format", "json", "Pipfile.lock")
    assert time.monotonic() - started < 120
    _no_traceback(result)
    assert result.code in (0, 2, 3), result.err[-500:]


@pytest.mark.parametrize("fmt", FORMATS)
def test_many_markers_that_hold_nowhere_stay_warnings_in_every_format(
    fmt: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK / escaping. The warning a skipped line gets quotes its marker:
    a marker's control characters or `::` are escaped in every format."""
    (repo / "r.txt").write_text(
        f"--index-url {hostile.simple_url}\n"
        f"demo==1.0 ; os_name == '::error::x\u200b' --hash=sha256:{STALE}\n"
    )
    result = run(capsys, "--isolated", "--target", LINUX, "--format", fmt, "r.txt")
    _no_traceback(result)
    assert result.code == 0, result
    assert not any(line.startswith("::error::x") for line in result.out.splitlines())
    assert "\u200b" not in result.out


# -- index answers the new behaviour leans on --------------------------------------------------


@pytest.mark.parametrize(
    "requires",
    ['dep ; python_version ~= "3"', 'dep ; platform_release >= "0"', 'dep ; extra ~= "x"'],
)
@pytest.mark.parametrize("path", ["r.txt", "pylock.toml"])
def test_a_dependency_marker_that_raises_is_no_internal_error(
    requires: str,
    path: str,
    hostile: HostileIndex,
    repo: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: no-tracebacks. A Requires-Dist marker from the index that packaging cannot
    evaluate (`~=` with one number) is no internal error, for a requirements file and a
    pylock.toml."""
    from tests.hostile import sha

    hostile.behaviour = "dependencies"
    hostile.requires_dist = [requires]
    if path == "r.txt":
        (repo / path).write_text(
            f"--index-url {hostile.simple_url}\ndemo==1.0 --hash=sha256:{sha('demo')}\n"
        )
    else:
        (repo / path).write_text(_pylock(hostile.simple_url, sha("demo")))
    result = run(capsys, "--isolated", "--target", LINUX, "--timeout", "5", path)
    _no_traceback(result)
    assert result.code in (0, 1, 3), result


@pytest.mark.parametrize("behaviour", ["error-page", "not-found", "wrong-version"])
def test_a_pylock_hash_the_index_cannot_confirm_is_never_ok(
    behaviour: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fail-closed (pylock.toml). An index that fails, knows nothing, or answers
    for another version: the locked hash is unverified or wrong, never "OK"."""
    hostile.behaviour = behaviour
    (repo / "pylock.toml").write_text(_pylock(hostile.simple_url, WHEEL_SHA))
    result = run(capsys, "--isolated", "--target", LINUX, "--timeout", "5", "pylock.toml")
    _no_traceback(result)
    assert result.code in (1, 3) and "OK:" not in result.out, result


def test_offline_reads_no_remote_find_links_page(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded (--offline). A remote find-links page is not asked for offline:
    no request reaches the host, and the pin is not "OK"."""
    (repo / "r.txt").write_text(
        f"--no-index\n--find-links {hostile.url}/links/\ndemo==1.0 --hash=sha256:{WHEEL_SHA}\n"
    )
    result = run(capsys, "--isolated", "--offline", "--target", LINUX, "r.txt")
    _no_traceback(result)
    assert hostile.requests == []
    assert "OK:" not in result.out or "NOT verified" in result.out, result


def test_fix_of_a_package_in_two_categories_ends_in_bounded_time(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes / bounded. The same package stale in `default` and `develop`
    (two lines pip reads): --fix ends in bounded time, writes only published digests and
    leaves no hash list empty; the next run writes nothing more."""
    path = repo / "Pipfile.lock"
    text = _lock(hostile.simple_url, {"demo": _entry(STALE)}).replace(
        '"develop": {}', '"develop": {\n        "demo": ' + json.dumps(_entry(STALE)) + "\n    }"
    )
    path.write_text(text)
    started = time.monotonic()
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "Pipfile.lock")
    assert time.monotonic() - started < 30
    _no_traceback(result)
    data = json.loads(path.read_text())
    for category in ("default", "develop"):
        hashes = data[category]["demo"]["hashes"]
        assert hashes and set(hashes) <= {f"sha256:{WHEEL_SHA}", f"sha256:{STALE}"}
    written = path.read_text()
    again = run(capsys, "--isolated", "--target", LINUX, "--fix", "Pipfile.lock")
    _no_traceback(again)
    assert path.read_text() == written


@pytest.mark.parametrize(
    "group",
    ['"x"', "[1, 2]", '{"other": "==1.0"}', '{"other": {"version": "==1.0", "hashes": []}}'],
)
def test_a_custom_category_of_the_wrong_shape_is_bad_input_or_checked(
    group: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no false OK. `--categories` naming a category that is a string, a list, an
    entry without hashes beside a hashed one (pip's hash-checking mode): one line exit 2, or
    the missing hash reported; never "OK"."""
    text = _lock(hostile.simple_url, {"demo": _entry()})[:-2] + f',\n    "extra": {group}\n}}\n'
    json.loads(text)
    (repo / "Pipfile.lock").write_text(text)
    result = run(
        capsys, "--isolated", "--target", LINUX, "--categories", "default extra", "Pipfile.lock"
    )
    _no_traceback(result)
    assert result.code in (1, 2) and "OK:" not in result.out, result


def test_a_pylock_with_thousands_of_packages_is_bounded_offline(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded. 3,000 packages in a pylock.toml, offline with a cold cache, for
    four targets: bounded time, no traceback, nothing "OK"."""
    packages = "".join(
        f'[[packages]]\nname = "p{n}"\nversion = "1.0"\n'
        f'wheels = [{{ name = "p{n}-1.0-py3-none-any.whl", '
        f'url = "http://127.0.0.1:9/files/p{n}-1.0-py3-none-any.whl", '
        f'hashes = {{ sha256 = "{WHEEL_SHA}" }} }}]\n\n'
        for n in range(3_000)
    )
    (repo / "pylock.toml").write_text(
        f'lock-version = "1.0"\ncreated-by = "hand"\nrequires-python = ">=3.8"\n\n{packages}'
    )
    targets = [
        a
        for py in ("cp311", "cp312")
        for p in ("linux-x86_64-glibc2.28", "windows-amd64")
        for a in ("--target", f"{p}-{py}")
    ]
    started = time.monotonic()
    result = run(capsys, "--isolated", "--offline", *targets, "pylock.toml")
    assert time.monotonic() - started < 120
    _no_traceback(result)
    assert "NOT verified" in result.out or result.code in (2, 3), result.out[-500:]


def test_a_wrong_sha512_beside_the_published_sha256_is_what_pip_accepts(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: agreement (pylock.toml). pip 26.3 accepts an archive when any of its
    entry's hashes matches (checked by hand against the pinned pip): a wrong sha512 beside
    the published sha256 is no error, and --fix leaves such a lock alone."""
    text = _pylock(hostile.simple_url, WHEEL_SHA).replace(
        f'sha256 = "{WHEEL_SHA}"', f'sha256 = "{WHEEL_SHA}", sha512 = "{"ab" * 64}"'
    )
    (repo / "pylock.toml").write_text(text)
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "pylock.toml")
    _no_traceback(result)
    assert result.code == 0, result
    assert (repo / "pylock.toml").read_text() == text
