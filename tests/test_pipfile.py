"""Pipfile.lock: read as pipenv installs it (a hashed requirements file, `pip install
--no-deps -r`), findings at the package's lines, `--fix` in pipenv's own layout."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.cli import main
from reqhash_check.pipfile import pipenv_dumps
from tests.fakeindex import FakeFile, FakeIndex

LINUX = "linux-x86_64-glibc2.28-cp312"
META_HASH = "ab" * 32


def sha(filename: str) -> str:
    return hashlib.sha256(filename.encode()).hexdigest()


@pytest.fixture(scope="module")
def index() -> Iterator[FakeIndex]:
    world = FakeIndex().start()
    try:
        for project, version, requires in [
            ("web", "3.1", ["markup>=2"]),
            ("web", "3.0", ["markup>=2"]),
            ("markup", "3.0.2", []),
            ("tool", "0.9", []),
        ]:
            for name in (f"{project}-{version}-py3-none-any.whl", f"{project}-{version}.tar.gz"):
                world.add(
                    project, version, FakeFile(name, content=name.encode()), requires_dist=requires
                )
        yield world
    finally:
        world.close()


def entry(project: str, version: str, **extra: Any) -> dict[str, Any]:
    files = (f"{project}-{version}-py3-none-any.whl", f"{project}-{version}.tar.gz")
    return {"hashes": [f"sha256:{sha(f)}" for f in files], "version": f"=={version}", **extra}


def lock(index: FakeIndex, default: dict[str, Any], develop: dict[str, Any] | None = None) -> str:
    return pipenv_dumps(
        {
            "_meta": {
                "hash": {"sha256": META_HASH},
                "pipfile-spec": 6,
                "requires": {"python_version": "3.12"},
                "sources": [{"name": "pypi", "url": index.simple_url, "verify_ssl": True}],
            },
            "default": default,
            "develop": develop or {},
        }
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    return root


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["--isolated", "--target", LINUX, "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)["findings"]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_clean_lock_is_ok_and_found_without_naming_it(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "Pipfile.lock").write_text(
        lock(index, {"markup": entry("markup", "3.0.2"), "web": entry("web", "3.1")})
    )
    code, findings = check(capsys, "--index-url", index.simple_url)
    assert (code, findings) == (0, [])
    assert main(["--isolated", "--target", LINUX, "--index-url", index.simple_url]) == 0
    assert "Pipfile.lock" in capsys.readouterr().out


def test_a_stale_entry_is_reported_at_its_package_and_fixed_in_pipenv_s_layout(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = entry("web", "3.1")
    stale["hashes"] = entry("web", "3.0")["hashes"]  # bumped without locking again
    text = lock(index, {"markup": entry("markup", "3.0.2"), "web": stale})
    path = repo / "Pipfile.lock"
    path.write_text(text)
    code, findings = check(capsys, "--index-url", index.simple_url, "Pipfile.lock")
    assert code == 1
    assert [(f["rule"], f["line"], f["project"]) for f in findings] == [
        ("stale-hash", line_of(text, '"web": {'), "web")
    ]
    assert "3.0" in findings[0]["message"]

    main(
        ["--isolated", "--target", LINUX, "--index-url", index.simple_url, "--fix", "Pipfile.lock"]
    )
    assert "fixed 1 finding in 1 file; 0 remain" in capsys.readouterr().err
    fixed = path.read_text()
    assert json.loads(fixed)["default"]["web"] == entry("web", "3.1")
    assert json.loads(fixed)["_meta"]["hash"]["sha256"] == META_HASH
    assert fixed == lock(index, {"markup": entry("markup", "3.0.2"), "web": entry("web", "3.1")})
    assert check(capsys, "--index-url", index.simple_url, "Pipfile.lock") == (0, [])


def test_a_dependency_the_lock_lacks_is_a_warning_under_no_deps(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = lock(index, {"web": entry("web", "3.1")})
    (repo / "Pipfile.lock").write_text(text)
    code, findings = check(capsys, "--index-url", index.simple_url, "Pipfile.lock")
    assert code == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in findings] == [
        ("missing-dependency", "warning", line_of(text, '"web": {'))
    ]
    assert "--no-deps" in findings[0]["message"]
    assert "pipenv lock" in findings[0]["message"]


def test_categories_pick_the_groups_checked(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = entry("tool", "0.9")
    broken["hashes"] = ["sha256:" + "0" * 64]
    text = lock(index, {"tool": entry("tool", "0.9")}, develop={"tool": broken})
    (repo / "Pipfile.lock").write_text(text)
    args = ("--index-url", index.simple_url, "Pipfile.lock")
    assert check(capsys, "--categories", "default", *args) == (0, [])
    code, findings = check(capsys, "--categories", "dev-packages", *args)
    assert (code, [f["rule"] for f in findings]) == (1, ["stale-hash"])
    code, findings = check(capsys, *args)
    assert code == 1  # both groups by default, as pipenv installs them


def test_an_editable_entry_is_unhashable(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = lock(
        index, {"markup": entry("markup", "3.0.2"), "mine": {"editable": True, "path": "."}}
    )
    (repo / "Pipfile.lock").write_text(text)
    code, findings = check(capsys, "--index-url", index.simple_url, "Pipfile.lock")
    assert code == 1
    assert [(f["rule"], f["line"]) for f in findings] == [("unhashable", line_of(text, '"mine"'))]


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "[]",
        '{"default": {"x": {"version": "==1", "hashes": [' + "1" * 5000 + "]}}}",
        "[" * 50_000 + "]" * 50_000,
        '{"default": {"web": {"version": "==3.1", "markers": "os_name == \'x\'\\n-e /etc"}}}',
        '{"default": {"../x": {"version": "==1"}}}',
    ],
    ids=["truncated", "not-an-object", "huge-integer", "deep", "marker-newline", "bad-name"],
)
def test_a_hostile_lock_is_one_line_and_exit_2(
    text: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "Pipfile.lock").write_text(text)
    code = main(["--isolated", "--offline", "Pipfile.lock"])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1 and "Pipfile.lock" in err


def test_fix_refuses_a_lock_not_in_pipenv_s_layout(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = entry("tool", "0.9")
    stale["hashes"] = ["sha256:" + sha("web-3.0.tar.gz")]
    text = json.dumps(
        {"_meta": {"sources": [{"url": index.simple_url}]}, "default": {"tool": stale}}
    )
    path = repo / "Pipfile.lock"
    path.write_text(text)
    main(
        ["--isolated", "--target", LINUX, "--index-url", index.simple_url, "--fix", "Pipfile.lock"]
    )
    assert "not in pipenv's layout" in capsys.readouterr().err
    assert path.read_text() == text


def test_a_marker_is_honoured_as_pipenv_writes_it_before_the_hashes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pipenv writes `name==1.0; marker --hash=…`; pip reads options from the first word
    that starts with "-", so only that order keeps the marker. A package for Windows only
    is skipped on Linux, as pipenv's install skips it."""
    with FakeIndex() as world:
        wheel = "winonly-1.0-cp312-cp312-win_amd64.whl"
        world.add("winonly", "1.0", FakeFile(wheel, content=wheel.encode()))
        only = {"hashes": [f"sha256:{sha(wheel)}"], "version": "==1.0"}
        for markers, expected in (('sys_platform == "win32"', []), (None, ["no-installable-file"])):
            (repo / "Pipfile.lock").write_text(
                lock(world, {"winonly": {**only, **({"markers": markers} if markers else {})}})
            )
            code, findings = check(capsys, "--no-cache", "Pipfile.lock")
            assert ([f["rule"] for f in findings], code) == (expected, 1 if expected else 0)
