"""Reading requirements files the way pip reads them."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from reqhash_check.requirements import Kind, RequirementsFileError, entry_end, load

SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Includes are read only inside the current folder (there is no git tree here)."""
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_continued_entry_spans_its_physical_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.txt",
        "# header\n"
        "six==1.16.0 \\\n"
        f"    --hash=sha256:{SHA_A} \\\n"
        f"    --hash=sha256:{SHA_B}\n"
        "    # via -r requirements.in\n"
        "idna==3.6\n",
    )
    req_set, problems = load(path, environ={})
    assert problems == []
    six, idna = req_set.entries
    assert (six.location.line, six.location.end_line) == (2, 4)
    assert [h.digest for h in six.hashes] == [SHA_A, SHA_B]
    assert six.raw.count("\n") == 3 and six.raw.startswith("six==1.16.0 \\\n")
    assert (idna.location.line, idna.location.end_line) == (6, 6)


def test_crlf_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.txt", f"six==1.16.0 \\\r\n    --hash=sha256:{SHA_A}\r\nidna==3.6\r\n"
    )
    req_set, _ = load(path, environ={})
    assert [e.location.line for e in req_set.entries] == [1, 3]
    assert req_set.entries[0].raw.endswith("\r\n")
    assert req_set.entries[0].hashes[0].digest == SHA_A


@pytest.mark.parametrize(
    ("prefix", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
    ],
)
def test_bom_decides_the_encoding(tmp_path: Path, prefix: bytes, encoding: str) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(prefix + "# café\nsix==1.16.0\n".encode(encoding))
    req_set, problems = load(str(path), environ={})
    assert problems == []
    assert [(e.name, e.pin, e.location.line) for e in req_set.entries] == [("six", "1.16.0", 2)]


def test_coding_line_decides_the_encoding(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.txt", "# -*- coding: latin-1 -*-\n# Müller\nsix==1.16.0\n", "latin-1"
    )
    req_set, problems = load(path, environ={})
    assert problems == [] and req_set.entries[0].name == "six"


def test_env_vars_expand_like_pip(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.txt",
        "--extra-index-url https://${TOKEN}@example.invalid/simple\n"
        "six==${SIX_VERSION}\n"
        "idna==3.6 ; python_version > '${lower}'\n",
    )
    req_set, _ = load(path, environ={"TOKEN": "t0k", "SIX_VERSION": "1.16.0", "lower": "3"})
    urls = [o.value for o in req_set.options if o.name == "extra_index_url"]
    assert urls == ["https://t0k@example.invalid/simple"]
    assert req_set.entries[0].pin == "1.16.0"
    # pip expands only ${UPPER_CASE} names; the raw text keeps what was written.
    assert req_set.entries[1].marker is not None and "${lower}" in req_set.entries[1].marker
    assert "${SIX_VERSION}" in req_set.entries[0].raw


def test_names_extras_markers_and_spellings(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.txt",
        f'Requests[socks,security]==2.31.0 ; python_version >= "3.8" --hash sha256:{SHA_A}\n'
        f"zope.interface===6.0 --hash=sha256:{SHA_B}  # trailing comment\n"
        "Foo_Bar.baz==1.0\n",
    )
    req_set, _ = load(path, environ={})
    requests, zope, foo = req_set.entries
    assert (requests.name, requests.raw_name, requests.extras) == (
        "requests",
        "Requests",
        ("security", "socks"),
    )
    assert requests.marker == 'python_version >= "3.8"'
    assert requests.hashes[0].digest == SHA_A
    assert (zope.name, zope.pin) == ("zope-interface", "6.0")
    assert foo.name == "foo-bar-baz"


def test_kinds(tmp_path: Path) -> None:
    for project in ("src/pkg", "folder"):
        (tmp_path / project).mkdir(parents=True)
        (tmp_path / project / "pyproject.toml").write_text("")
    path = write(
        tmp_path / "r.txt",
        "-e ./src/pkg\n"
        "git+https://example.invalid/x.git#egg=x\n"
        "./folder\n"
        "./dist/x-1.0-py3-none-any.whl\n"
        "y @ https://example.invalid/y-1.0.tar.gz\n",
    )
    kinds = [e.kind for e in load(path, environ={})[0].entries]
    assert kinds == [Kind.EDITABLE, Kind.VCS, Kind.LOCAL_DIR, Kind.LOCAL_FILE, Kind.URL]


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "base.txt", "idna==3.6\n-c ../constraints.txt\n")
    write(tmp_path / "constraints.txt", "certifi==2024.2.2\n")
    path = write(tmp_path / "r.txt", "-r sub/base.txt\nsix==1.16.0\n")
    req_set, problems = load(path, environ={})
    assert problems == []
    by_name = {e.name: e for e in req_set.entries}
    assert Path(by_name["idna"].location.path).name == "base.txt"
    assert by_name["certifi"].is_constraint and not by_name["idna"].is_constraint
    assert len(req_set.files) == 3


def test_include_cycle_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "-r b.txt\nsix==1.16.0\n")
    write(tmp_path / "b.txt", "-r a.txt\n")
    req_set, problems = load(str(tmp_path / "a.txt"), environ={})
    assert [p.rule for p in problems] == ["include-error"]
    assert "cycle" in problems[0].message and Path(problems[0].location.path).name == "b.txt"
    assert [e.name for e in req_set.entries] == ["six"]


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "-r a.txt\n")
    _, problems = load(path, environ={})
    assert [p.rule for p in problems] == ["include-error"]


def test_file_options(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.txt",
        "--index-url https://example.invalid/simple\n"
        "--extra-index-url https://extra.invalid/simple\n"
        "--require-hashes\n--only-binary :all:\n--no-binary foo\n--prefer-binary\n"
        "--trusted-host example.invalid\n",
    )
    options = {(o.name, o.value) for o in load(path, environ={})[0].options}
    assert ("index_url", "https://example.invalid/simple") in options
    assert ("extra_index_url", "https://extra.invalid/simple") in options
    assert ("require_hashes", True) in options
    assert ("prefer_binary", True) in options
    assert {name for name, _ in options} >= {"only_binary", "no_binary", "trusted_host"}


def test_stdin_text(tmp_path: Path) -> None:
    req_set, _ = load("-", text="six==1.16.0\n", environ={})
    assert req_set.entries[0].location.path == "-"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: (p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00"), p)[1], "not a text file"),
        (lambda p: (p.write_bytes(b"six==1.0 \xff\xfe\xfa\n"), p)[1], "cannot decode"),
    ],
    ids=["missing", "directory", "binary", "undecodable"],
)
def test_unreadable_top_level_files(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "r.txt")
    with pytest.raises(RequirementsFileError, match=message):
        load(str(path), environ={})


def test_empty_file(tmp_path: Path) -> None:
    req_set, problems = load(write(tmp_path / "r.txt", ""), environ={})
    assert req_set.entries == [] and problems == []


def test_fifty_thousand_lines(tmp_path: Path) -> None:
    lines = "".join(f"pkg{i}==1.{i} \\\n    --hash=sha256:{SHA_A}\n" for i in range(25_000))
    req_set, problems = load(write(tmp_path / "r.txt", lines), environ={})
    assert problems == []
    assert len(req_set.entries) == 25_000
    assert req_set.entries[-1].location.line == 49_999


@pytest.mark.parametrize(
    ("lines", "start", "end"),
    [
        (["a \\", "  b \\", "  c"], 0, 2),
        (["a \\", "# comment ends it \\", "c"], 0, 1),
        (["a", "b"], 0, 0),
        (["a \\"], 0, 0),
    ],
)
def test_entry_end(lines: list[str], start: int, end: int) -> None:
    assert entry_end(lines, start) == end


def test_config_settings_on_a_requirement_line(tmp_path: Path) -> None:
    # pip 23.1+ accepts --config-settings (and -C) per requirement; 23.0 knows no such option.
    path = write(
        tmp_path / "r.txt",
        "pyyaml==6.0.1 --config-settings=--build-option=--with-libyaml \\\n"
        f"    -C quiet=1 --hash=sha256:{SHA_A}\n",
    )
    req_set, problems = load(path, environ={}, pip_version=(23, 1))
    assert problems == []
    (entry,) = req_set.entries
    assert (entry.name, entry.pin, [h.digest for h in entry.hashes]) == ("pyyaml", "6.0.1", [SHA_A])
    assert entry.config_settings == (("--build-option", "--with-libyaml"), ("quiet", "1"))
    assert "--config-settings=--build-option=--with-libyaml" in entry.raw
    _, problems = load(path, environ={}, pip_version=(23, 0))
    assert ["no such option: --config-settings" in p.message for p in problems] == [True]
