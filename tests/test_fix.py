"""`--fix` / `--diff`: hash sets rewritten in place, every other byte kept."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from pip_requirements_parser import RequirementsFile

from reqhash_check.findings import Location
from reqhash_check.fix import (
    FileChangedError,
    FilePlan,
    FixError,
    HashEdit,
    StaleEditError,
    apply_plan,
    decode_requirements,
    plan_fix,
    rewrite_text,
)

CASES = Path(__file__).parent / "cases" / "fix"


def h(n: int) -> str:
    return "sha256:" + f"{n:02x}" * 32


O1, O2, O3 = h(0x01), h(0x02), h(0x03)
N1, N2, N3 = h(0xA1), h(0xA2), h(0xA3)

# case folder → {project as written: new hashes}; hashes are deliberately given unsorted.
EDITS: dict[str, dict[str, tuple[str, ...]]] = {
    "pip_compile_layout": {"anyio": (N2, N1)},
    "same_line": {"requests": (N2, N1)},
    "space_spelling": {"six": (N1,)},
    "marker_quotes": {"colorama": (N2, N1)},
    "extras": {"uvicorn": (N1,), "httpx": (N2,)},
    "arbitrary_equality": {"legacy-thing": (N1,)},
    "trailing_comment": {"attrs": (N2, N1)},
    "comment_on_requirement_line": {"attrs": (N1,)},
    "no_hashes": {"click": (N1, N2, N1)},
    "other_options": {"pyyaml": (N1,)},
    "mixed_line": {"pyyaml": (N1,)},
    "hash_on_requirement_line_continued": {"wheel": (N2, N1)},
    "comment_ends_continuation": {"packaging": (N1,)},
    "blank_ends_continuation": {"packaging": (N1,)},
    # the line after the comment is an option line of its own, which pip ignores; it stays
    "comment_between_hash_lines": {"foo": (N1,)},
    "abbreviated_option": {"tomli": (N1,)},
    "quoted_hash": {"tomli": (N1,)},
    "no_newline_at_end": {"last": (N1, N2)},
    "no_newline_single_line": {"last": (N1,)},
    "several_entries": {"alpha": (N1,), "gamma": (N3, N2)},
    "crlf": {"alpha": (N2, N1)},
    "utf8_bom": {"cafe": (N1,)},
    "latin1_coding": {"requests": (N1,)},
    # no change: the listed set is already the new one (order and layout do not matter)
    "unchanged_same_set": {"anyio": (O2, O1)},
    "unchanged_same_set_other_layout": {"anyio": (O1, O2)},
    "unchanged_no_edits": {},
}

_COMMENT_LINE = re.compile(r"\s*#")


def entry_span(lines: Sequence[str], name: str) -> tuple[int, int]:
    """1-based first and last physical line of the requirement `name`, as pip joins lines."""
    bare = [line.rstrip("\r\n") for line in lines]
    for index, line in enumerate(bare):
        if re.match(rf"\ufeff?{re.escape(name)}(?=[\[=;<>~! \\]|$)", line):
            end = index
            while end < len(bare) - 1 and bare[end].endswith("\\"):
                if _COMMENT_LINE.match(bare[end]):
                    break
                end += 1
            return index + 1, end + 1
    raise AssertionError(f"{name} not found")


def edits_for(text: str, wanted: dict[str, tuple[str, ...]], path: str = "r.txt") -> list[HashEdit]:
    lines = text.splitlines(keepends=True)
    edits = []
    for name, hashes in wanted.items():
        first, last = entry_span(lines, name)
        raw = "".join(lines[first - 1 : last])
        edits.append(HashEdit(Location(path, first, last), raw, hashes))
    return edits


def parsed_requirements(text: str, tmp_path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """What pip-requirements-parser reads: name → (requirement with marker, hashes)."""
    copy = tmp_path / "reparse.txt"
    copy.write_bytes(text.encode("utf-8"))
    parsed = RequirementsFile.from_file(str(copy))
    assert not parsed.invalid_lines, parsed.invalid_lines
    return {
        str(req.name): (f"{req.req} ; {req.marker}", frozenset(req.hash_options))
        for req in parsed.requirements
    }


# pip itself reads the files: each requirement (whitespace normalised) with its hashes.
_PIP_READS = """
import json, sys
from pip._internal.network.session import PipSession
from pip._internal.req.req_file import parse_requirements
session = PipSession()
result = {}
for path in sys.argv[1:]:
    out = result[path] = {}
    for req in parse_requirements(path, session):
        hashes = (req.options or {}).get("hashes", {})
        name = req.requirement.split("[")[0].split(";")[0].split("=")[0].strip()
        hashed = sorted(f"{k}:{v}" for k, vs in hashes.items() for v in vs)
        out[name] = [" ".join(req.requirement.split()), hashed]
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def pip_reads_cases() -> dict[str, dict[str, list[object]]]:
    """How pip reads every case's input and expected file, in one pip process."""
    paths = [str(CASES / case / kind) for case in EDITS for kind in ("input.txt", "expected.txt")]
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": "",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_INDEX_URL": "",
        "PYTHONWARNINGS": "ignore",
    }
    done = subprocess.run(
        [sys.executable, "-c", _PIP_READS, *paths],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, dict[str, list[object]]] = json.loads(done.stdout)
    return result


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


def test_every_case_folder_has_edits() -> None:
    assert case_names() == sorted(EDITS)


@pytest.mark.parametrize("case", sorted(EDITS))
def test_case_plan(case: str, tmp_path: Path) -> None:
    source = (CASES / case / "input.txt").read_bytes()
    expected = (CASES / case / "expected.txt").read_bytes()
    target = tmp_path / "requirements.txt"
    target.write_bytes(source)
    text, _, _ = decode_requirements(source)

    plan = plan_fix(target, edits_for(text, EDITS[case]))

    assert plan.new == expected
    assert plan.old == source
    assert plan.changed is (source != expected)
    if case.startswith("unchanged"):
        assert not plan.changed
        assert plan.diff() == ""


@pytest.mark.parametrize("case", sorted(EDITS))
def test_case_is_idempotent(case: str) -> None:
    expected_text, _, _ = decode_requirements((CASES / case / "expected.txt").read_bytes())
    again = rewrite_text(expected_text, edits_for(expected_text, EDITS[case]))
    assert again == expected_text


@pytest.mark.parametrize("case", sorted(EDITS))
def test_case_bytes_outside_the_entries_are_identical(case: str) -> None:
    source = (CASES / case / "input.txt").read_bytes()
    text, _, _ = decode_requirements(source)
    edits = sorted(edits_for(text, EDITS[case]), key=lambda e: e.location.line)
    new = rewrite_text(text, edits)

    lines = text.splitlines(keepends=True)
    outside: list[str] = []
    previous_end = 0
    for edit in edits:
        outside.append("".join(lines[previous_end : edit.location.line - 1]))
        previous_end = edit.location.end_line
    outside.append("".join(lines[previous_end:]))
    # The untouched stretches appear in order, the first at the very start, the last at the end
    # (an entry's own terminating comment or blank line may move to after its new hashes).
    assert new.startswith(outside[0])
    position = len(outside[0])
    for stretch in outside[1:]:
        found = new.find(stretch, position)
        assert found >= 0, stretch
        position = found + len(stretch)
    assert new.endswith(outside[-1])


@pytest.mark.parametrize("case", sorted(EDITS))
def test_case_pip_reads_the_new_hashes(
    case: str, pip_reads_cases: dict[str, dict[str, list[object]]]
) -> None:
    before = pip_reads_cases[str(CASES / case / "input.txt")]
    after = pip_reads_cases[str(CASES / case / "expected.txt")]

    assert before and after.keys() == before.keys()
    wanted = {name: sorted(set(hashes)) for name, hashes in EDITS[case].items()}
    for name, (requirement, hashes) in after.items():
        assert requirement == before[name][0]
        assert hashes == wanted.get(name, before[name][1])


def test_crlf_stays_crlf_and_other_lines_are_byte_identical() -> None:
    source = (CASES / "crlf" / "input.txt").read_bytes()
    plan_text = rewrite_text(source.decode(), edits_for(source.decode(), EDITS["crlf"]))
    new = plan_text.encode()
    assert b"\n" not in new.replace(b"\r\n", b"")
    assert new.splitlines(keepends=True)[-2:] == source.splitlines(keepends=True)[-2:]
    assert new.startswith(b"# -- CRLF file --\r\nalpha==1.0 \\\r\n")


def test_bom_and_latin1_are_kept(tmp_path: Path) -> None:
    bom = tmp_path / "bom.txt"
    bom.write_bytes((CASES / "utf8_bom" / "input.txt").read_bytes())
    text, _, _ = decode_requirements(bom.read_bytes())
    plan = plan_fix(bom, edits_for(text, EDITS["utf8_bom"]))
    assert plan.new.startswith(b"\xef\xbb\xbfcafe==1.0 \\\n")
    assert plan.encoding == "utf-8"
    assert "# ünïcode comment\n".encode() in plan.new

    latin = tmp_path / "latin.txt"
    latin.write_bytes((CASES / "latin1_coding" / "input.txt").read_bytes())
    text, encoding, _ = decode_requirements(latin.read_bytes())
    assert encoding == "latin-1"
    plan = plan_fix(latin, edits_for(text, EDITS["latin1_coding"]))
    assert b"# Maintainer: Jos\xe9 M\xfcller\n" in plan.new
    assert plan.new.endswith(b"# fin: d\xe9j\xe0 vu\n")
    with pytest.raises(UnicodeDecodeError):
        plan.new.decode("utf-8")


def test_decode_as_pip_does() -> None:
    assert decode_requirements(b"\xef\xbb\xbfa==1\n") == ("a==1\n", "utf-8", b"\xef\xbb\xbf")
    utf16 = "\ufeffa==1\n".encode("utf-16-le")
    assert decode_requirements(utf16) == ("a==1\n", "utf-16-le", b"\xff\xfe")
    assert decode_requirements(b"a==1\n# coding: latin-1\n")[1] == "latin-1"
    # a coding comment on the third line is not looked at
    assert decode_requirements(b"a==1\nb==2\n# coding: latin-1\n")[1] == "utf-8"


# --- refusals ---------------------------------------------------------------------------


def test_stale_edit_is_refused() -> None:
    text = f"a==1.0 --hash={O1}\n"
    edit = HashEdit(Location("r.txt", 1, 1), f"a==1.1 --hash={O1}\n", (N1,))
    with pytest.raises(StaleEditError, match=r"r\.txt:1: .*changed"):
        rewrite_text(text, [edit])
    beyond = HashEdit(Location("r.txt", 2, 3), "b==1\n", (N1,))
    with pytest.raises(StaleEditError):
        rewrite_text(text, [beyond])


def test_overlapping_edits_are_refused() -> None:
    text = f"a==1.0 \\\n    --hash={O1}\n"
    first = HashEdit(Location("r.txt", 1, 2), text, (N1,))
    second = HashEdit(Location("r.txt", 2, 2), f"    --hash={O1}\n", (N2,))
    with pytest.raises(FixError, match="overlaps"):
        rewrite_text(text, [first, second])


@pytest.mark.parametrize("bad", ["sha256", "sha256:ab cd", "sha256:ab\n--index-url=x", ""])
def test_malformed_new_hash_is_refused(bad: str) -> None:
    text = "a==1.0\n"
    with pytest.raises(FixError, match="not an algorithm:hexdigest"):
        rewrite_text(text, [HashEdit(Location("r.txt", 1, 1), text, (bad,))])


def test_comment_hiding_continued_lines_is_refused() -> None:
    # pip reads "a==1.0" and treats the rest of the joined line, hashes included, as comment.
    text = f"a==1.0 # note \\\n    --hash={O1}\n"
    with pytest.raises(FixError, match="hides the lines after it"):
        rewrite_text(text, [HashEdit(Location("r.txt", 1, 2), text, (N1,))])


def test_error_messages_are_one_line() -> None:
    text = "a==1.0\n"
    with pytest.raises(FixError) as caught:
        rewrite_text(text, [HashEdit(Location("r.txt", 1, 1), "b\n", (N1,))])
    assert "\n" not in str(caught.value)


# --- writing ----------------------------------------------------------------------------


def _planned(tmp_path: Path, name: str = "requirements.txt") -> tuple[Path, FilePlan]:
    target = tmp_path / name
    target.write_bytes(f"a==1.0 --hash={O1}\n# tail\n".encode())
    text = target.read_text()
    return target, plan_fix(target, edits_for(text, {"a": (N1,)}))


def test_apply_writes_and_keeps_mode(tmp_path: Path) -> None:
    target, plan = _planned(tmp_path)
    target.chmod(0o640)
    apply_plan(plan)
    assert target.read_bytes() == f"a==1.0 \\\n    --hash={N1}\n# tail\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]


def test_apply_refuses_a_file_changed_on_disk(tmp_path: Path) -> None:
    target, plan = _planned(tmp_path)
    target.write_bytes(b"a==2.0\n")
    with pytest.raises(FileChangedError, match="changed on disk"):
        apply_plan(plan)
    assert target.read_bytes() == b"a==2.0\n"


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_crash_mid_write_leaves_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target, plan = _planned(tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, broken)
    with pytest.raises(FixError, match="No space left on device"):
        apply_plan(plan)
    assert target.read_bytes() == plan.old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]


def test_interrupt_mid_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, plan = _planned(tmp_path)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        apply_plan(plan)
    assert target.read_bytes() == plan.old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]


def test_symlink_is_written_through(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target, _ = _planned(real_dir)
    link = tmp_path / "requirements.txt"
    link.symlink_to(target)
    plan = plan_fix(link, edits_for(link.read_text(), {"a": (N1,)}))
    apply_plan(plan)
    assert link.is_symlink()
    assert target.read_bytes() == plan.new
    assert sorted(p.name for p in real_dir.iterdir()) == ["requirements.txt"]


def test_unchanged_plan_does_not_touch_the_file(tmp_path: Path) -> None:
    target = tmp_path / "requirements.txt"
    target.write_bytes(f"a==1.0 --hash={O1}\n".encode())
    os.utime(target, ns=(10**18, 10**18))
    plan = plan_fix(target, edits_for(target.read_text(), {"a": (O1,)}))
    assert not plan.changed
    apply_plan(plan)
    assert target.stat().st_mtime_ns == 10**18


# --- diffs ------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize(
    "case", ["pip_compile_layout", "several_entries", "crlf", "no_newline_at_end", "utf8_bom"]
)
def test_diff_applies_with_git(case: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "reqs").mkdir(parents=True)
    source = (CASES / case / "input.txt").read_bytes()
    target = repo / "reqs" / "requirements.txt"
    target.write_bytes(source)
    text, _, _ = decode_requirements(source)
    plan = plan_fix(target, edits_for(text, EDITS[case]))
    patch = tmp_path / "fix.patch"
    patch.write_bytes(plan.diff(label="reqs/requirements.txt").encode(plan.encoding))

    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)}
    git = ["git", "-c", "core.autocrlf=false", "-c", "core.whitespace=-trailing-space"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True, env=env)
    check = subprocess.run(
        [*git, "apply", "--check", str(patch)], cwd=repo, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    subprocess.run([*git, "apply", str(patch)], cwd=repo, check=True, env=env)
    assert target.read_bytes() == plan.new


def test_diff_headers_and_hunks() -> None:
    plan = FilePlan(
        Path("requirements.txt"), b"a==1\nb==2 --hash=x\n", b"a==1\nb==2 \\\n    y\n", "utf-8"
    )
    diff = plan.diff()
    assert diff.startswith("--- a/requirements.txt\n+++ b/requirements.txt\n@@ ")
    assert "\n-b==2 --hash=x\n+b==2 \\\n+    y\n" in diff


def test_diff_marks_missing_final_newline() -> None:
    plan = FilePlan(Path("r.txt"), b"a==1", b"a==2", "utf-8")
    assert plan.diff().endswith(
        "-a==1\n\\ No newline at end of file\n+a==2\n\\ No newline at end of file\n"
    )


# --- property: random files, rewrite, re-parse ------------------------------------------

_NAMES = ["alpha", "beta-pkg", "gamma_x", "delta", "eps", "zeta"]


def _random_entry(rng: random.Random, name: str, eol: str) -> tuple[str, set[str]]:
    pool = [h(rng.randrange(1, 0x90)) for _ in range(rng.randrange(0, 4))]
    version = rng.choice(["==1.0", "==2.3.4", "===1.0.post1"])
    head = name + rng.choice(["", "[extra]", "[a,b]"]) + version
    if rng.random() < 0.3:
        head += rng.choice([' ; python_version >= "3.8"', " ; sys_platform != 'win32'"])
    if rng.random() < 0.2:
        head += rng.choice([" --global-option=--quiet", " --install-option=--user"])
    spelled = [rng.choice([f"--hash={x}", f"--hash {x}", f"--has={x}"]) for x in pool]
    layout = rng.choice(["same-line", "compile", "mixed"])
    comment = rng.choice(["", "", "  # keep this", " # reqhash: ignore[yanked]"])
    if not spelled:
        text = head + comment + eol
    elif layout == "same-line":
        text = " ".join([head, *spelled]) + comment + eol
    elif layout == "compile":
        text = head + " \\" + eol
        text += "".join(f"    {item} \\{eol}" for item in spelled[:-1])
        text += f"    {spelled[-1]}{comment}{eol}"
    else:
        text = f"{head} {spelled[0]}" + (f" \\{eol}" if len(spelled) > 1 else comment + eol)
        if len(spelled) > 1:
            text += "    " + " ".join(spelled[1:]) + comment + eol
    if spelled and not comment and rng.random() < 0.2:
        # a trailing backslash, ended by a comment or blank line (pip joins that line in)
        text = text[: -len(eol)] + " \\" + eol + rng.choice(["    # via x", ""]) + eol
    elif rng.random() < 0.3:
        text += f"    # via {rng.choice(_NAMES)}{eol}"
    return text, set(pool)


def test_random_files_rewrite_and_reparse(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    for _ in range(300):
        file_eol = rng.choice(["\n", "\r\n"])
        mixed = rng.random() < 0.2
        names = rng.sample(_NAMES, rng.randrange(1, len(_NAMES) + 1))
        parts = []
        for name in names:
            eol = rng.choice(["\n", "\r\n"]) if mixed else file_eol
            if rng.random() < 0.3:
                parts.append(rng.choice(["", "# a comment", "--require-hashes", "   "]) + eol)
            parts.append(_random_entry(rng, name, eol)[0])
        text = "".join(parts)
        if rng.random() < 0.3 and text.endswith(eol):
            text = text[: -len(eol)]
        wanted = {
            name: tuple(h(rng.randrange(0xA0, 0xFF)) for _ in range(rng.randrange(1, 4)))
            for name in names
            if rng.random() < 0.6
        }
        before = parsed_requirements(text, tmp_path)
        new = rewrite_text(text, edits_for(text, wanted))
        after = parsed_requirements(new, tmp_path)

        assert after.keys() == before.keys(), text
        for name, (requirement, hashes) in after.items():
            assert requirement == before[name][0], text
            expected = frozenset(wanted[name]) if name in wanted else before[name][1]
            assert hashes == expected, (text, new)
        # the line-ending style of the file is kept
        if "\r\n" in text and "\n" not in text.replace("\r\n", ""):
            assert "\n" not in new.replace("\r\n", ""), new
        # applying the same edits again is a no-op
        assert rewrite_text(new, edits_for(new, wanted)) == new


# --- with the project's own requirements reader --------------------------------------------


@pytest.mark.parametrize("case", sorted(EDITS))
def test_case_with_entries_from_the_requirements_reader(case: str, tmp_path: Path) -> None:
    from reqhash_check.requirements import load

    target = tmp_path / "requirements.txt"
    target.write_bytes((CASES / case / "input.txt").read_bytes())
    requirement_set, problems = load(str(target), pip_version=(26, 3))
    if problems:
        pytest.skip(f"the reader does not take this file: {problems[0]}")
    wanted = {name.lower(): hashes for name, hashes in EDITS[case].items()}
    edits = [
        HashEdit(entry.location, entry.raw, wanted[entry.raw_name.lower()])
        for entry in requirement_set.entries
        if entry.raw_name.lower() in wanted
    ]
    assert len(edits) == len(wanted)

    plan = plan_fix(target, edits)

    assert plan.new == (CASES / case / "expected.txt").read_bytes()
