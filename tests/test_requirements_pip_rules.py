"""Readings pinned down: where this reader and pip-requirements-parser part ways (pip is
right, as tests/test_reader_agreement.py shows against the real pip), and where pip's
reading changed between the versions the reader models.

Each case is a small set of files, the pip version, and what must be read: the entries as
(name, kind, specifier) and the problems as (rule, file:line).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reqhash_check.requirements import Kind, RequirementsFileError, load

SHA = "1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"
OLD, NEW = (23, 0), (26, 3)


@dataclass
class Reading:
    text: str
    pip: tuple[int, int]
    entries: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)


R = "requirements.txt"
CASES: dict[str, Reading] = {
    # --- pip-requirements-parser accepted these; pip refuses them -------------------------
    "editable-url-without-name": Reading(
        "-e git+https://example.invalid/repo.git\n", NEW, problems=[("parse-error", f"{R}:1")]
    ),
    "editable-archive-url": Reading(
        "-e https://example.invalid/pkg-1.0.tar.gz\n", NEW, problems=[("parse-error", f"{R}:1")]
    ),
    "editable-archive-path": Reading(
        "-e ./dist/pkg-1.0.tar.gz\n", OLD, problems=[("parse-error", f"{R}:1")]
    ),
    "unknown-url-scheme": Reading(
        "foo://example.invalid/pkg\n", NEW, problems=[("parse-error", f"{R}:1")]
    ),
    # ... but pip takes a string that ends like an archive for a local path
    "unknown-url-scheme-archive-is-a-local-path": Reading(
        "foo://example.invalid/pkg-1.0.tar.gz\n", NEW, [("", "local-file", "")]
    ),
    "egg-with-a-version-26": Reading(
        "https://example.invalid/p-1.0.tar.gz#egg=p==1.0\n",
        NEW,
        problems=[("parse-error", f"{R}:1")],
    ),
    "egg-with-a-version-25": Reading(
        "https://example.invalid/p-1.0.tar.gz#egg=p==1.0\n", (25, 3), [("p", "url", "==1.0")]
    ),
    "editable-in-constraints": Reading(
        "six==1.16.0\n-c c.txt\n",
        OLD,
        [("six", "named", "==1.16.0")],
        [("parse-error", "c.txt:1")],
        files={"c.txt": b"-e git+https://example.invalid/r.git#egg=r\n"},
    ),
    "config-settings-without-value": Reading(
        "foo==1.0 --config-settings=key\n", NEW, problems=[("parse-error", f"{R}:1")]
    ),
    "option-glued-by-a-continuation": Reading(
        f"foo==1.0\\\n--hash=sha256:{SHA}\n", NEW, problems=[("parse-error", f"{R}:1")]
    ),
    "variable-set-but-empty": Reading(
        "six==${V}\n", NEW, problems=[("parse-error", f"{R}:1")], environ={"V": ""}
    ),
    "comment-from-a-variable": Reading(
        "six==${V}\n", NEW, problems=[("parse-error", f"{R}:1")], environ={"V": "1.0 # x"}
    ),
    "newline-from-a-variable": Reading(
        "six==${V}\n", NEW, problems=[("parse-error", f"{R}:1")], environ={"V": "1.0\nidna"}
    ),
    # --- pip-requirements-parser refused these; pip accepts them -------------------------
    "option-after-a-requirement": Reading(
        "foo==1.0 --pre\nbar==2.0 --index-url https://i.invalid/simple -r x.txt\n",
        OLD,
        [("foo", "named", "==1.0"), ("bar", "named", "==2.0")],
    ),
    "words-after-an-include": Reading(
        "-r more.txt and more words\n",
        OLD,
        [("six", "named", "==1.16.0")],
        files={"more.txt": b"six==1.16.0\n"},
    ),
    "no-require-hashes-26-2": Reading(
        "--no-require-hashes\nsix==1.16.0\n", NEW, [("six", "named", "==1.16.0")]
    ),
    "no-require-hashes-26-1": Reading(
        "--no-require-hashes\n", (26, 1), problems=[("parse-error", f"{R}:1")]
    ),
    "require-hashes-and-no-require-hashes": Reading(
        "--require-hashes\n-r more.txt\n",
        NEW,
        problems=[("parse-error", "more.txt:1")],
        files={"more.txt": b"--no-require-hashes\n"},
    ),
    "release-options-26": Reading("--all-releases :all:\n--only-final foo\n", NEW),
    "release-options-25": Reading(
        "--all-releases :all:\n", (25, 3), problems=[("parse-error", f"{R}:1")]
    ),
    "file-url-include": Reading(
        "-r file://{root}/more.txt\n",
        OLD,
        [("six", "named", "==1.16.0")],
        files={"more.txt": b"six==1.16.0\n"},
    ),
    "no-binary-on-a-requirement-line": Reading(
        "foo==1.0 --no-binary foo\n", OLD, [("foo", "named", "==1.0")]
    ),
    # --- what pip does that a reader might not guess --------------------------------------
    "two-includes-on-a-line-follow-the-first": Reading(
        "-r a.txt -r b.txt\n",
        OLD,
        [("six", "named", "==1.16.0")],
        files={"a.txt": b"six==1.16.0\n", "b.txt": b"idna==3.6\n"},
    ),
    "local-wheel-file-url-with-a-fragment": Reading(
        f"file://{{root}}/pkg-1.0-py3-none-any.whl#sha256={SHA}\n",
        OLD,
        [("pkg", "local-file", "==1.0")],
    ),
    "empty-version-clause-is-legacy-in-23": Reading(
        "requests==\n", OLD, [("requests", "named", "==")]
    ),
    "empty-version-clause-is-refused-in-24-1": Reading(
        "requests==\n", (24, 1), problems=[("parse-error", f"{R}:1")]
    ),
    "install-option-23-0": Reading(
        "foo==1.0 --install-option=x\n", OLD, [("foo", "named", "==1.0")]
    ),
    "install-option-23-1": Reading(
        "foo==1.0 --install-option=x\n", (23, 1), problems=[("parse-error", f"{R}:1")]
    ),
    "global-option-25-2": Reading(
        "foo==1.0 --global-option=x\n", (25, 2), [("foo", "named", "==1.0")]
    ),
    "global-option-25-3": Reading(
        "foo==1.0 --global-option=x\n", (25, 3), problems=[("parse-error", f"{R}:1")]
    ),
    "dash-e-after-a-requirement-24": Reading(
        "foo==1.0 -e git+https://x.invalid/r.git#egg=r\n", (24, 3), [("foo", "named", "==1.0")]
    ),
    "dash-e-after-a-requirement-25": Reading(
        "foo==1.0 -e git+https://x.invalid/r.git#egg=r\n",
        (25, 0),
        problems=[("parse-error", f"{R}:1")],
    ),
    # unquoted, `-e r @ URL` is `-e r` and two stray words
    "editable-direct-url-unquoted": Reading(
        "-e r @ git+https://x.invalid/r.git\n", NEW, problems=[("parse-error", f"{R}:1")]
    ),
    "editable-direct-url-25-3": Reading(
        '-e "r @ git+https://x.invalid/r.git"\n', (25, 3), [("r", "editable", "")]
    ),
    "editable-direct-url-25-2": Reading(
        '-e "r @ git+https://x.invalid/r.git"\n', (25, 2), problems=[("parse-error", f"{R}:1")]
    ),
    "path-to-a-project-folder": Reading(
        "./proj\n-e ./proj\n",
        OLD,
        [("", "local-dir", ""), ("", "editable", "")],
        files={"proj/pyproject.toml": b""},
    ),
    "path-to-a-missing-folder": Reading(
        "./proj\n-e ./proj\n",
        OLD,
        problems=[("parse-error", f"{R}:1"), ("parse-error", f"{R}:2")],
    ),
    "path-to-a-folder-that-is-no-project": Reading(
        "./proj\n", OLD, problems=[("parse-error", f"{R}:1")], files={"proj/README": b""}
    ),
    "extras-after-version-24-0": Reading(
        "foo>=1.0[bar]\n", (24, 0), problems=[("parse-error", f"{R}:1")]
    ),
    "include-cycle": Reading("-r requirements.txt\n", OLD, problems=[("include-error", f"{R}:1")]),
    "marker-extras-variable-25-1": Reading(
        'foo ; "a" in extras\n', (25, 1), [("foo", "named", "")]
    ),
    "marker-extras-variable-25-0": Reading(
        'foo ; "a" in extras\n', (25, 0), problems=[("parse-error", f"{R}:1")]
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reading(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    root = str(tmp_path)
    (tmp_path / R).write_text(case.text.replace("{root}", root))
    for file_name, data in case.files.items():
        (tmp_path / file_name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file_name).write_bytes(data)
    req_set, problems = load(R, environ=case.environ, pip_version=case.pip)
    entries = [(e.name, e.kind.value, e.specifier) for e in req_set.entries]
    found = [(p.rule, f"{Path(p.location.path).name}:{p.location.line}") for p in problems]
    assert (entries, found) == (case.entries, case.problems)


def test_url_fragment_hashes_are_not_hash_options(tmp_path: Path) -> None:
    # pip counts a URL's #sha256= when it checks the download, but it does not make the
    # requirement "have hashes": it neither turns hash-checking mode on nor is a --hash.
    (tmp_path / R).write_text(f"pkg @ https://example.invalid/pkg-1.0.tar.gz#sha256={SHA}\n")
    req_set, _ = load(str(tmp_path / R), environ={}, cwd=str(tmp_path))
    (entry,) = req_set.entries
    assert entry.hashes == () and entry.url is not None and entry.url.endswith(SHA)


def test_a_refused_hash_algorithm_stays_on_the_entry(tmp_path: Path) -> None:
    # pip refuses the line; the checker's invalid-hash finding says so with more detail.
    (tmp_path / R).write_text("a==1.0 --hash=md5:0123456789abcdef0123456789abcdef\n")
    req_set, problems = load(str(tmp_path / R), environ={}, cwd=str(tmp_path))
    assert problems == [] and [h.algorithm for h in req_set.entries[0].hashes] == ["md5"]


def test_an_editable_keeps_no_hashes(tmp_path: Path) -> None:
    (tmp_path / R).write_text(f"-e git+https://x.invalid/r.git#egg=r --hash=sha256:{SHA}\n")
    req_set, problems = load(str(tmp_path / R), environ={}, cwd=str(tmp_path))
    assert problems == [] and req_set.entries[0].kind is Kind.EDITABLE
    assert req_set.entries[0].hashes == ()


def test_utf32_with_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / R).write_bytes(codecs.BOM_UTF32_LE + "six==1.16.0\n".encode("utf-32-le"))
    path = str(tmp_path / R)
    req_set, problems = load(path, environ={}, pip_version=(25, 0), cwd=str(tmp_path))
    assert problems == [] and [e.name for e in req_set.entries] == ["six"]
    # pip before 25.0 took the UTF-32-LE mark for a UTF-16 one: the text is garbled, with
    # NUL characters in it, which the reader does not take for a requirements file
    with pytest.raises(RequirementsFileError, match="NUL"):
        load(str(tmp_path / R), environ={}, pip_version=(24, 3), cwd=str(tmp_path))


def test_extras_before_23_3_are_lowercased(tmp_path: Path) -> None:
    (tmp_path / R).write_text("foo[Bar_Baz]==1.0\n")
    old, _ = load(str(tmp_path / R), environ={}, pip_version=(23, 2), cwd=str(tmp_path))
    new, _ = load(str(tmp_path / R), environ={}, pip_version=(23, 3), cwd=str(tmp_path))
    assert (old.entries[0].extras, new.entries[0].extras) == (("bar_baz",), ("Bar_Baz",))


def test_binary_options_are_kept_in_the_order_pip_applies_them(tmp_path: Path) -> None:
    (tmp_path / "more.txt").write_text("--only-binary :all:\n")
    (tmp_path / R).write_text(
        "--no-binary foo\n"
        "bar==1.0 --only-binary bar\n"
        "-r more.txt --no-binary baz\n"
        "--prefer-binary\n"
    )
    req_set, _ = load(R, environ={}, cwd=str(tmp_path))
    assert [(o.name, o.value, o.location.line if o.location else 0) for o in req_set.options] == [
        ("no_binary", "foo", 1),
        ("only_binary", "bar", 2),
        ("no_binary", "baz", 3),
        ("only_binary", ":all:", 1),
        ("prefer_binary", True, 4),
    ]
