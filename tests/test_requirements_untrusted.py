"""The files, their includes and the environment are untrusted input to the reader."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reqhash_check.requirements import (
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    RequirementsFileError,
    load,
)
from reqhash_check.requirements import loader as loader_module

SHA = "a" * 64


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git work tree (its root is the include boundary), entered as the current folder."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def problems_of(path: Path, **kwargs: object) -> list[tuple[str, int, str]]:
    _, problems = load(str(path), environ={}, **kwargs)  # type: ignore[arg-type]
    return [(p.rule, p.location.line, p.message) for p in problems]


# -- where includes may come from ----------------------------------------------------------


def test_include_outside_the_repository_is_not_read(repo: Path) -> None:
    outside = repo.parent / "outside.txt"
    outside.write_text("six==1.16.0\n")
    (repo / "r.txt").write_text("-r ../outside.txt\nidna==3.6\n")
    req_set, problems = load("r.txt", environ={})
    assert [e.name for e in req_set.entries] == ["idna"]
    assert [(p.rule, p.message) for p in problems] == [
        ("include-error", "../outside.txt: outside the repository; not read")
    ]
    assert req_set.files == ["r.txt"]
    allowed, problems = load("r.txt", environ={}, allow_outside_includes=True)
    assert problems == [] and [e.name for e in allowed.entries] == ["six", "idna"]


def test_root_is_the_git_tree_of_the_top_level_file(repo: Path, tmp_path: Path) -> None:
    (repo / "sub").mkdir()
    (repo / "base.txt").write_text("six==1.16.0\n")
    (repo / "sub" / "r.txt").write_text("-r ../base.txt\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # the current folder does not matter when there is a git tree
    req_set, problems = load(str(repo / "sub" / "r.txt"), environ={})
    assert problems == [] and [e.name for e in req_set.entries] == ["six"]


def test_without_a_git_tree_the_root_is_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "base.txt").write_text("six==1.16.0\n")
    (tmp_path / "work" / "r.txt").write_text("-r ../base.txt\n-r ok.txt\n")
    (tmp_path / "work" / "ok.txt").write_text("idna==3.6\n")
    req_set, problems = load("r.txt", environ={}, cwd=str(tmp_path / "work"))
    assert [e.name for e in req_set.entries] == ["idna"]
    assert [p.message for p in problems] == ["../base.txt: outside the current folder; not read"]


def test_symlink_leaving_the_repository_is_not_followed(repo: Path) -> None:
    secret = repo.parent / "secret.txt"
    secret.write_text("six==1.16.0\n")
    (repo / "link.txt").symlink_to(secret)
    (repo / "r.txt").write_text("-r link.txt\n")
    assert problems_of(repo / "r.txt") == [
        ("include-error", 1, "link.txt: outside the repository; not read")
    ]


def test_nothing_under_dot_git_is_read(repo: Path) -> None:
    (repo / ".git" / "config").write_text("six==1.16.0\n")
    (repo / "r.txt").write_text("-r .git/config\n-c ./sub/../.git/config\n")
    assert problems_of(repo / "r.txt") == [
        ("include-error", 1, ".git/config: under .git/; not read"),
        ("include-error", 2, "./sub/../.git/config: under .git/; not read"),
    ]


def test_remote_includes_are_not_fetched(repo: Path) -> None:
    (repo / "r.txt").write_text("-r https://example.invalid/r.txt\n-c HTTP://example.invalid/c\n")
    assert [p[:2] for p in problems_of(repo / "r.txt")] == [
        ("include-error", 1),
        ("include-error", 2),
    ]


def test_file_url_includes_follow_the_same_rules(repo: Path) -> None:
    (repo / "inside.txt").write_text("six==1.16.0\n")
    outside = repo.parent / "outside.txt"
    outside.write_text("idna==3.6\n")
    (repo / "r.txt").write_text(f"-r file://{repo}/inside.txt\n-r file://{outside}\n")
    req_set, problems = load("r.txt", environ={})
    assert [e.name for e in req_set.entries] == ["six"]
    assert [(p.location.line, p.rule) for p in problems] == [(2, "include-error")]


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "/dev/stdin", "."])
def test_includes_that_are_not_regular_files(repo: Path, target: str) -> None:
    (repo / "r.txt").write_text(f"-r {target}\n")
    started = time.monotonic()
    problems = problems_of(repo / "r.txt", allow_outside_includes=True)
    assert time.monotonic() - started < 2
    assert [p[:2] for p in problems] == [("include-error", 1)]
    assert "is not a regular file" in problems[0][2] or "cannot be read" in problems[0][2]


def test_a_fifo_include_does_not_block(repo: Path) -> None:
    os.mkfifo(repo / "pipe.txt")
    (repo / "r.txt").write_text("-r pipe.txt\nsix==1.16.0\n")
    started = time.monotonic()
    assert problems_of(repo / "r.txt") == [("include-error", 1, "pipe.txt: is not a regular file")]
    assert time.monotonic() - started < 2


def test_each_file_is_read_once_and_fan_out_ends_fast(repo: Path) -> None:
    for index in range(6):
        nxt = "".join(f"-r f{index + 1}.txt\n" for _ in range(10)) if index < 5 else ""
        (repo / f"f{index}.txt").write_text(f"{nxt}pkg{index}==1.0\n")
    started = time.monotonic()
    req_set, problems = load("f0.txt", environ={})
    assert time.monotonic() - started < 2
    assert problems == []
    assert sorted(e.name for e in req_set.entries) == [f"pkg{i}" for i in range(6)]
    assert len(req_set.files) == 6


def test_cycles_are_include_errors(repo: Path) -> None:
    (repo / "a.txt").write_text("-r b.txt\nsix==1.16.0\n")
    (repo / "b.txt").write_text("-c a.txt\n")
    req_set, problems = load("a.txt", environ={})
    assert [(p.rule, p.location.path, p.message) for p in problems] == [
        ("include-error", "b.txt", "include cycle: a.txt -> b.txt -> a.txt")
    ]
    assert [e.name for e in req_set.entries] == ["six"]


# -- files that are not requirements files ---------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR secret-token",
        b"six==1.0 \xff\xfe\xfa secret-token\n",
        b"SECRET_KEY=secret-token\nDATABASE_URL=postgres://u:secret-token@db/x\nDEBUG=1\n",
        b"# Project secret-token\n\nSome prose about secret-token.\nMore prose here.\n- a list\n",
    ],
    ids=["binary", "undecodable", "dotenv", "readme"],
)
def test_an_include_that_is_not_a_requirements_file(repo: Path, content: bytes) -> None:
    (repo / "other").write_bytes(content)
    (repo / "r.txt").write_text("-r other\nsix==1.16.0\n")
    req_set, problems = load("r.txt", environ={})
    expected = [("include-error", 1, "other: is not a requirements file")]
    assert problems_of(repo / "r.txt") == expected
    assert [e.name for e in req_set.entries] == ["six"]
    assert "secret-token" not in repr((req_set, problems))


def test_an_include_with_a_typo_is_still_read(repo: Path) -> None:
    (repo / "more.txt").write_text("six==1.16.0\nidna=3.6\ncertifi==2024.2.2\n")
    (repo / "r.txt").write_text("-r more.txt\n")
    req_set, problems = load("r.txt", environ={})
    assert [e.name for e in req_set.entries] == ["six", "certifi"]
    assert [(p.rule, p.location.path, p.location.line) for p in problems] == [
        ("parse-error", "more.txt", 2)
    ]


# -- caps --------------------------------------------------------------------------------------


def test_file_size_cap(repo: Path) -> None:
    big = repo / "big.txt"
    with big.open("wb") as handle:
        handle.write(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    with pytest.raises(RequirementsFileError, match="larger than 10 MiB, the cap on a req"):
        load("big.txt", environ={})
    (repo / "r.txt").write_text("-r big.txt\n")
    with pytest.raises(RequirementsFileError, match="the cap on a requirements file"):
        load("r.txt", environ={})


def test_line_length_cap(repo: Path) -> None:
    (repo / "long.txt").write_text("six==1.0 \\\n" + "    # " + "x" * MAX_LINE_CHARS + "\n")
    with pytest.raises(RequirementsFileError, match=r"long\.txt:2: a line longer than 100 KiB"):
        load("long.txt", environ={})
    (repo / "joined.txt").write_text("six==1.0" + " \\\n--pre" * (MAX_LINE_CHARS // 5) + "\n")
    with pytest.raises(RequirementsFileError, match=r"joined\.txt:1: .*the cap on a logical line"):
        load("joined.txt", environ={})


def test_expansion_cannot_blow_up_a_line(repo: Path) -> None:
    (repo / "r.txt").write_text("six==1.0 ; python_version > '" + "${BIG}" * 200 + "'\n")
    with pytest.raises(RequirementsFileError, match="the cap on a logical line"):
        load("r.txt", environ={"BIG": "x" * 1000})


def test_files_per_set_cap(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_module, "MAX_FILES_PER_SET", 5)
    for index in range(10):
        (repo / f"f{index}.txt").write_text(f"-r f{index + 1}.txt\n")
    (repo / "f10.txt").write_text("six==1.16.0\n")
    with pytest.raises(RequirementsFileError, match="more than 5 files in one requirements set"):
        load("f0.txt", environ={})


def test_lines_per_set_cap(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_module, "MAX_LINES_PER_SET", 100)
    (repo / "a.txt").write_text("-r b.txt\n" + "# x\n" * 60)
    (repo / "b.txt").write_text("# y\n" * 60)
    with pytest.raises(RequirementsFileError, match=r"b\.txt: more than 100 lines"):
        load("a.txt", environ={})


def test_include_depth_cap(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_module, "MAX_INCLUDE_DEPTH", 3)
    for index in range(6):
        (repo / f"d{index}.txt").write_text(f"-r d{index + 1}.txt\n")
    (repo / "d6.txt").write_text("")
    with pytest.raises(RequirementsFileError, match="nested more than 3 deep"):
        load("d0.txt", environ={})


# -- environment values --------------------------------------------------------------------


def test_expanded_values_reach_no_message(repo: Path) -> None:
    (repo / "r.txt").write_text(
        "six==${VERSION}\n"
        "--index-url https://${TOKEN}@example.invalid/simple\n"
        "idna==3.6 --hash=sha256:${TOKEN}\n"
        "certifi==${TOKEN}\n"
    )
    environ = {"VERSION": "1.16.0", "TOKEN": "hunter2:x"}
    req_set, problems = load("r.txt", environ=environ, pip_version=(26, 3))
    assert req_set.expanded == {"VERSION": "1.16.0", "TOKEN": "hunter2:x"}
    six, idna = req_set.entries
    assert (six.pin, six.expanded, six.raw) == ("1.16.0", True, "six==${VERSION}\n")
    assert idna.hashes[0].digest == "hunter2:x" and idna.expanded
    (option,) = req_set.options
    assert option.value == "https://hunter2:x@example.invalid/simple"
    assert (option.written, option.expanded) == ("https://${TOKEN}@example.invalid/simple", True)
    (problem,) = problems
    assert problem.location.line == 4
    assert "hunter2" not in problem.message and "${TOKEN}" in problem.message


def test_option_values_without_variables_are_not_marked_expanded(repo: Path) -> None:
    (repo / "r.txt").write_text("--extra-index-url https://a.invalid/ --extra-index-url ${URL}\n")
    req_set, _ = load("r.txt", environ={"URL": "https://b.invalid/"})
    assert [(o.value, o.written, o.expanded) for o in req_set.options] == [
        ("https://a.invalid/", "https://a.invalid/", False),
        ("https://b.invalid/", "${URL}", True),
    ]


def test_expansion_that_changes_the_line_shape_is_marked(repo: Path) -> None:
    (repo / "r.txt").write_text("${OPTION}\n")
    req_set, _ = load("r.txt", environ={"OPTION": "--index-url https://token@x.invalid/"})
    (option,) = req_set.options
    assert (option.name, option.value, option.written, option.expanded) == (
        "index_url",
        "https://token@x.invalid/",
        "${OPTION}",
        True,
    )


def test_set_but_empty_and_lowercase_variables_stay_as_written(repo: Path) -> None:
    (repo / "r.txt").write_text("six==${EMPTY}\nidna==3.6 ; python_version > '${lower}'\n")
    req_set, problems = load("r.txt", environ={"EMPTY": "", "lower": "3"}, pip_version=(26, 3))
    assert req_set.expanded == {}
    assert [p.location.line for p in problems] == [1]
    assert req_set.entries[0].marker == 'python_version > "${lower}"'
    # pip 23.0 reads "==${EMPTY}" as a legacy version clause
    req_set, problems = load("r.txt", environ={"EMPTY": ""}, pip_version=(23, 0))
    assert problems == [] and req_set.entries[0].specifier == "==${EMPTY}"


def test_a_comment_or_newline_from_a_value_is_not_a_comment_or_a_line_end(repo: Path) -> None:
    (repo / "r.txt").write_text("six==${A}\nidna==${B}\n")
    _, problems = load("r.txt", environ={"A": "1.16.0 # fine?", "B": "3.6\ncertifi"})
    assert [p.location.line for p in problems] == [1, 2]
