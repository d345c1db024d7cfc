"""PEP 751 lock files: read as pip reads them, checked under pip's lock rules, fixed in place."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqhash_check.cli import discover_files, main
from reqhash_check.lockfile.read import parse_lock
from tests.fakeindex import FakeIndex
from tests.lockproject import (
    LINUX_312,
    MAC_312,
    Published,
    line_of,
    mutate,
    publish,
    write_pip_style,
    write_uv_style,
)

LINUX = "linux-x86_64-glibc2.28-cp312"
LINUX_311_TARGET = "linux-x86_64-glibc2.28-cp311"
MAC = "macos-arm64-11-cp312"
WINDOWS = "windows-amd64-cp312"


@pytest.fixture(scope="module")
def project() -> Iterator[Published]:
    index = FakeIndex().start()
    try:
        yield publish(index)
    finally:
        index.close()


def run_json(
    capsys: pytest.CaptureFixture[str], path: Path, index_url: str, *extra: str
) -> tuple[int, list[dict[str, object]]]:
    code = main(["--no-cache", "--format", "json", "--index-url", index_url, *extra, str(path)])
    out = capsys.readouterr().out
    return code, json.loads(out)["findings"]


def targets(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--target", name)]


def summary(findings: list[dict[str, object]]) -> list[tuple[str, object, object, object]]:
    return sorted((str(f["rule"]), f["line"], f["severity"], f["target"]) for f in findings)


# ------------------------------------------------------------------------------- clean


@pytest.mark.parametrize("style", ["uv", "uv-crlf", "pip"])
def test_untouched_lock_is_clean(
    style: str, project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        write_pip_style(project)
        if style == "pip"
        else write_uv_style(project, crlf=style == "uv-crlf")
    )
    path = tmp_path / "pylock.toml"
    path.write_bytes(text.encode())
    chosen = targets(LINUX_311_TARGET) if style == "pip" else targets(LINUX, MAC, WINDOWS)
    code, findings = run_json(capsys, path, project.index.simple_url, *chosen)
    assert (code, findings) == (0, [])


# ------------------------------------------------------------------------------- faults


def test_flipped_hash_is_reported_at_its_line_on_the_target_that_installs_it(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = mutate(write_uv_style(project), "flip-linux312", project)
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    line = line_of(text, "alpha-1.0-" + LINUX_312)
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(LINUX, MAC))
    assert code == 1
    assert summary(findings) == [
        ("foreign-hash", line, "error", LINUX),
        ("uncovered-target", line, "error", LINUX),
    ]
    # On a target that installs another file, the same fault does not fail pip.
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(MAC))
    assert code == 0
    assert summary(findings) == [("foreign-hash", line, "warning", None)]


def test_other_platforms_hash_is_stale_and_says_whose_it_is(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = mutate(write_uv_style(project), "other-platform-hash", project)
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    line = line_of(text, "alpha-1.0-" + LINUX_312)
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(LINUX))
    assert code == 1
    assert summary(findings) == [
        ("stale-hash", line, "error", LINUX),
        ("uncovered-target", line, "error", LINUX),
    ]
    stale = next(f for f in findings if f["rule"] == "stale-hash")
    assert "alpha-1.0-cp312-cp312-macosx_11_0_arm64.whl" in str(stale["message"])
    assert "checked against its own hashes only" in str(stale["message"])
    assert stale["kb"] == "pip/hash-mismatch-requirements-file"


def test_version_bumped_without_new_hashes(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = mutate(write_uv_style(project), "bump-alpha", project)
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(MAC))
    assert code == 1
    stale = [f for f in findings if f["rule"] == "stale-hash"]
    assert len(stale) == 1
    assert stale[0]["line"] == line_of(text, "alpha-2.0.tar.gz")
    assert "(alpha 1.0): the version was changed" in str(stale[0]["message"])
    uncovered = [f for f in findings if f["rule"] == "uncovered-target"]
    assert [(f["line"], f["target"]) for f in uncovered] == [
        (line_of(text, "alpha-2.0-" + MAC_312), MAC)
    ]


def test_removed_wheel_entry(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_uv_style(project)
    path = tmp_path / "pylock.toml"
    # alpha keeps its sdist: pip builds it on macOS instead of installing the wheel.
    path.write_text(mutate(base, "drop-alpha-mac-wheel", project))
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(MAC, LINUX))
    assert code == 0
    assert summary(findings) == [
        ("fallback-target", line_of(base, 'name = "alpha"') - 1, "warning", MAC)
    ]
    # gamma has no sdist: pip stops at selection.
    text = mutate(base, "drop-gamma-mac-wheel", project)
    path.write_text(text)
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(MAC, LINUX))
    assert code == 1
    assert summary(findings) == [
        ("no-installable-file", line_of(text, 'name = "gamma"') - 1, "error", MAC)
    ]
    assert "No wheel found matching the provided tags for package 'gamma'" in str(
        findings[0]["message"]
    )
    assert "gamma-1.0-cp312-cp312-macosx_11_0_arm64.whl" in str(findings[0]["message"])


def test_missing_dependency_per_target(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = mutate(write_uv_style(project), "drop-beta", project)
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(LINUX, WINDOWS))
    assert code == 1
    assert [(f["rule"], f["project"], f["line"]) for f in findings] == [
        ("missing-dependency", "alpha", line_of(text, 'name = "alpha"') - 1)
    ]
    assert "beta" in str(findings[0]["message"])


def test_lock_requires_python_excludes_a_target(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = write_uv_style(project).replace(
        'requires-python = ">=3.11"', 'requires-python = ">=3.13"'
    )
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(LINUX))
    assert code == 1
    assert summary(findings) == [
        ("no-installable-file", line_of(text, "requires-python"), "error", LINUX)
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # A target naming no patch release: the bound holds on 3.12.7 and later only.
        (LINUX, [(0, "warning")]),
        ("linux-x86_64-glibc2.28-cp3.12.6", [(1, "error")]),
        ("linux-x86_64-glibc2.28-cp3.12.7", []),
    ],
)
def test_a_patch_release_bound_is_a_warning_unless_the_target_names_its_patch(
    target: str,
    expected: list[tuple[int, str]],
    project: Published,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uv writes `requires-python = ">=3.12.7"`: on a target given as cp312 pip may or may
    not install, so it is a warning that says to name the patch release; named, it is
    decided."""
    text = write_uv_style(project).replace(
        'requires-python = ">=3.11"', 'requires-python = ">=3.12.7"'
    )
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(target))
    line = line_of(text, "requires-python")
    assert [
        (f["line"] == line and f["rule"] == "no-installable-file", f["severity"]) for f in findings
    ] == [(True, severity) for _, severity in expected]
    assert code == (expected[0][0] if expected else 0)
    if expected and expected[0][1] == "warning":
        assert "cpX.Y.Z" in str(findings[0]["message"])


# ------------------------------------------------------------------------------- invalid

HOSTILE = [
    ("not toml", 'lock-version = "1.0"\ncreated-by = \n', "parse-error", 2),
    ("no packages", 'lock-version = "1.0"\ncreated-by = "x"\n', "parse-error", 1),
    (
        "packages not a list",
        'lock-version = "1.0"\ncreated-by = "x"\npackages = 3\n',
        "parse-error",
        3,
    ),
    (
        "future lock version",
        'lock-version = "2.0"\ncreated-by = "x"\npackages = []\n',
        "parse-error",
        1,
    ),
    ("deep nesting", "a = " + "[" * 5000 + "]" * 5000 + "\n", "parse-error", 1),
    ("not utf-8", b'lock-version = "1.0"\n# \xff\xfe\n', "parse-error", 2),
]


@pytest.mark.parametrize(
    ("text", "rule", "line"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_invalid_lock_is_a_finding_never_a_traceback(
    text: str | bytes, rule: str, line: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pylock.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    code = main(
        ["--offline", "--cache-dir", str(tmp_path / "cache"), "--format", "json", str(path)]
    )
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert [(f["rule"], f["line"]) for f in findings][:1] == [(rule, line)]


def test_invalid_packages_are_reported_each_at_its_line(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = write_uv_style(project)
    beta_hash = line_of(text, "beta-1.0-py3-none-any.whl")
    lines = text.splitlines(keepends=True)
    lines[beta_hash - 1] = lines[beta_hash - 1].split(", hashes")[0] + ", hashes = {} },\n"
    text = "".join(lines).replace('name = "gamma"', 'name = "Gamma"')
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    code = main(
        ["--offline", "--cache-dir", str(tmp_path / "cache"), "--format", "json", str(path)]
    )
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    got = sorted(
        (f["rule"], f["line"], f["project"]) for f in findings if f["rule"] != "unverifiable"
    )
    assert got == sorted(
        [
            ("missing-hash", beta_hash, "beta"),
            ("parse-error", line_of(text, 'name = "Gamma"'), "Gamma"),
        ]
    )
    missing = next(f for f in findings if f["rule"] == "missing-hash")
    assert "At least one hash must be provided" in str(missing["message"])


def test_invalid_hash_names_and_digests(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = write_uv_style(project)
    linux = line_of(text, "alpha-1.0-" + LINUX_312)
    mac = line_of(text, "alpha-1.0-" + MAC_312)
    lines = text.splitlines(keepends=True)
    lines[linux - 1] = lines[linux - 1].replace("sha256 = ", "bogus = ")
    lines[mac - 1] = lines[mac - 1].split('sha256 = "')[0] + 'sha256 = "abc" } },\n'
    path = tmp_path / "pylock.toml"
    path.write_text("".join(lines))
    code, findings = run_json(capsys, path, project.index.simple_url, *targets(LINUX))
    assert code == 1
    assert summary(findings) == [
        ("invalid-hash", linux, "error", LINUX),
        ("invalid-hash", mac, "warning", None),
    ]


def test_line_map_of_both_layouts(project: Published) -> None:
    for text in (write_uv_style(project), write_pip_style(project)):
        lock = parse_lock("pylock.toml", text.encode())
        assert lock.problems == []
        for package in lock.packages:
            assert text.splitlines()[package.location.line - 1] == "[[packages]]"
            for file in package.files:
                [line] = file.hash_lines.values()
                assert file.hashes["sha256"] in text.splitlines()[line - 1]


# ------------------------------------------------------------------------------- fix


@pytest.mark.parametrize("crlf", [False, True])
def test_fix_rewrites_the_entries_and_nothing_else(
    crlf: bool, project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_uv_style(project, crlf=crlf)
    broken = mutate(good, "other-platform-hash", project)
    broken = mutate(broken, "drop-gamma-mac-wheel", project)
    path = tmp_path / "pylock.toml"
    path.write_bytes(broken.encode())
    args = ["--no-cache", "-q", "--index-url", project.index.simple_url, *targets(LINUX, MAC)]
    assert main([*args, "--fix", str(path)]) == 0
    fixed = path.read_bytes().decode()
    assert (
        fixed.replace(f'    {{ url = "{project.index.url}/files/gamma-1.0-{MAC_312}.whl"', "\0")
        != fixed
    )
    # The hash is back; the dropped wheel is added at the end of gamma's list.
    assert fixed.count("\r\n") == (fixed.count("\n") if crlf else 0)
    assert [line for line in fixed.splitlines() if "gamma-1.0-" not in line] == [
        line for line in good.splitlines() if "gamma-1.0-" not in line
    ]
    assert sorted(line.strip() for line in fixed.splitlines() if "gamma-1.0-" in line) == sorted(
        line.strip() for line in good.splitlines() if "gamma-1.0-" in line
    )
    capsys.readouterr()
    assert main([*args, "--fix", str(path)]) == 0
    assert path.read_bytes().decode() == fixed  # a second --fix changes nothing


def test_fix_keeps_the_table_layout(
    project: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_pip_style(project)
    path = tmp_path / "pylock.toml"
    path.write_text(mutate(good, "flip-linux311", project))
    args = ["--no-cache", "-q", "--index-url", project.index.simple_url]
    assert main([*args, *targets(LINUX_311_TARGET), "--diff", str(path)]) == 1
    diff = capsys.readouterr().out
    assert diff.count("\n-sha256") == 1 and diff.count("\n+sha256") == 1
    assert main([*args, *targets(LINUX_311_TARGET), "--fix", str(path)]) == 0
    assert path.read_text() == good


# ------------------------------------------------------------------------------- untrusted


def test_an_index_named_by_the_lock_gets_no_credentials(
    project: Published,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = FakeIndex().start()
    try:
        publish(other)
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login someone password secret\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        text = write_uv_style(project).replace(
            'name = "alpha"\nversion = "1.0"\n',
            f'name = "alpha"\nversion = "1.0"\nindex = "{other.simple_url}"\n',
        )
        path = tmp_path / "pylock.toml"
        path.write_text(text)
        configured = project.index.simple_url.replace("http://", "http://user:pw@")
        code, findings = run_json(capsys, path, configured, *targets(LINUX))
        assert (code, findings) == (0, [])
        asked = [(p, h) for m, p, h in other.requests if p.startswith("/simple/")]
        assert asked and all("authorization" not in h for _, h in asked)
        assert any(p.startswith("/simple/alpha") for p, _ in asked)
    finally:
        other.close()


def test_discover_finds_lock_files(tmp_path: Path) -> None:
    for name in ("pylock.toml", "pylock.dev.toml", "pylock.a.b.toml", "requirements.txt"):
        (tmp_path / name).write_text("")
    assert discover_files(tmp_path) == ("requirements.txt", "pylock.dev.toml", "pylock.toml")


def test_too_large_lock_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reqhash_check.lockfile import read

    monkeypatch.setattr(read, "MAX_LOCK_BYTES", 100)
    path = tmp_path / "pylock.toml"
    path.write_text("#" * 200)
    assert main(["--offline", "--cache-dir", str(tmp_path / "cache"), str(path)]) == 2
    assert os.path.getsize(path) == 200
