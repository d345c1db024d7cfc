"""The real pip is the judge of how requirements files are read.

Every case of the corpus (tests/reqlines.py) is read twice: by pip's own parser
(`parse_requirements` and the requirement constructors, run by a pinned pip's interpreter
through tests/pip_reader_probe.py) and by `reqhash_check.requirements.load` with the same
pip version. They must agree on accepting or refusing the file and, for what pip accepts,
on every requirement (name, version clauses, extras, marker, hashes, editable, link,
constraint, per-requirement options, kind) and on the option lines and format control.

Two kinds of case are counted apart rather than compared (see `_excused`): pip refused a
local path outside the case's folder (the reader does not look outside the repository and
assumes the project folder is there; pip checks only when it runs); and pip refused a
`--hash` algorithm, which the reader keeps on the entry for the checker's invalid-hash
finding to report.

Run: .venv/bin/pytest -q -m slow tests/test_reader_agreement.py -s
(REQHASH_READER_PIPS=all adds the versions where the grammar changed in between;
REQHASH_RANDOM_CASES sets the number of generated and of mutated cases, 1500 each by
default; REQHASH_RANDOM_SEED picks other ones.)
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import InvalidMarker, Marker

from reqhash_check.requirements import (
    FileOption,
    Kind,
    ParseProblem,
    RequirementEntry,
    RequirementsFileError,
    load,
)
from tests.pips import NEWEST_PIP, OLDEST_PIP, ensure_pip, isolated_env
from tests.reqlines import Case, all_cases

pytestmark = pytest.mark.slow

PROBE = Path(__file__).parent / "pip_reader_probe.py"
# The versions where pip's reading changed (the last patch release of each, which X.Y
# stands for); the oldest and the newest always run.
GRAMMAR_CHANGES = [
    "23.1.2",
    "24.0",
    "24.1.2",
    "24.3.1",
    "25.0.1",
    "25.1.1",
    "25.3",
    "26.0.1",
    "26.1.2",
    "26.2.1",
]
PIPS = [OLDEST_PIP, NEWEST_PIP] + (
    GRAMMAR_CHANGES if os.environ.get("REQHASH_READER_PIPS") == "all" else []
)
RANDOM_CASES = int(os.environ.get("REQHASH_RANDOM_CASES", "1500"))
RANDOM_SEED = int(os.environ.get("REQHASH_RANDOM_SEED", "0"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[Case, Path]]]:
    base = tmp_path_factory.mktemp("reqlines")
    cases = []
    for index, case in enumerate(all_cases(RANDOM_CASES, RANDOM_SEED)):
        folder = base / str(index)
        case.write(folder)
        cases.append((case, folder))
    yield cases


def _pip_reads(version: str, cases: list[tuple[Case, Path]]) -> dict[str, Any]:
    python = ensure_pip(version)
    request = [{"id": case.id, "dir": str(folder), "env": case.env} for case, folder in cases]
    done = subprocess.run(
        [str(python), "-I", str(PROBE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=1800,
        env=isolated_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


# ------------------------------------------------------------------------ comparison


def _marker(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return str(Marker(text))
    except InvalidMarker:
        return text


def _ours(entry: RequirementEntry) -> dict[str, Any]:
    hashes: dict[str, list[str]] = {}
    for spec in entry.hashes:
        hashes.setdefault(spec.algorithm, []).append(spec.digest)
    config: dict[str, Any] = {}
    for key, value in entry.config_settings:
        if key in config:
            config[key] = (
                [*config[key], value] if isinstance(config[key], list) else [config[key], value]
            )
        else:
            config[key] = value
    return {
        "name": entry.raw_name or None,
        "specifier": sorted(set(entry.specifier.split(","))) if entry.specifier else [],
        "extras": sorted(set(entry.extras)),
        "marker": _marker(entry.marker),
        "hashes": hashes,
        "editable": entry.kind is Kind.EDITABLE,
        "url": entry.url,
        "kind": entry.kind.value,
        "constraint": entry.is_constraint,
        "config_settings": config or None,
    }


def _theirs(requirement: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": requirement["name"],
        "specifier": sorted(set(requirement["specifier"])),
        "extras": sorted(set(requirement["extras"])),
        "marker": _marker(requirement["marker"]),
        "hashes": requirement["hashes"],
        "editable": requirement["editable"],
        "url": requirement["url"],
        "kind": requirement["kind"],
        "constraint": requirement["constraint"],
        "config_settings": requirement["config_settings"] or None,
    }


def _where(path: str, folder: Path) -> str:
    if path.startswith("file://"):
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
    if os.path.isabs(path):
        return os.path.relpath(path, folder)
    return os.path.normpath(path)


def _option_values(
    options: list[FileOption], folder: Path
) -> dict[tuple[str, int], dict[str, Any]]:
    lines: dict[tuple[str, int], dict[str, Any]] = {}
    for option in options:
        assert option.location is not None
        key = (_where(option.location.path, folder), option.location.line)
        values = lines.setdefault(key, {})
        if option.name in ("extra_index_url", "trusted_host"):
            values.setdefault(option.name, []).append(option.value)
        elif option.name not in (
            "only_binary",
            "no_binary",
            "all_releases",
            "only_final",
            "use_feature",
        ):
            values[option.name] = option.value
    return lines


def _their_options(options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for flag in ("no_index", "require_hashes", "no_require_hashes", "pre", "prefer_binary"):
        if options.get(flag):
            values[flag] = True
    if options.get("index_url"):
        values["index_url"] = options["index_url"]
    # --use-feature is not compared: pip's option shares one default list between all the
    # lines it parses in a process, so its value there mixes every case read before.
    for dest, name in (("extra_index_urls", "extra_index_url"), ("trusted_hosts", "trusted_host")):
        if options.get(dest):
            values[name] = list(options[dest])
    if options.get("find_links"):
        values["find_links"] = options["find_links"][0]
    return values


def _format_control(options: list[FileOption]) -> list[list[str]]:
    """Replay the binary options in order, as pip's FormatControl applies them."""
    from packaging.utils import canonicalize_name

    no_binary: set[str] = set()
    only_binary: set[str] = set()
    for option in options:
        if option.name not in ("no_binary", "only_binary"):
            continue
        target, other = (
            (no_binary, only_binary) if option.name == "no_binary" else (only_binary, no_binary)
        )
        new = str(option.value).split(",")
        while ":all:" in new:
            other.clear()
            target.clear()
            target.add(":all:")
            del new[: new.index(":all:") + 1]
            if ":none:" not in new:
                break
        else:
            for name in new:
                if name == ":none:":
                    target.clear()
                    continue
                name = canonicalize_name(name)
                other.discard(name)
                target.add(name)
    return [sorted(no_binary), sorted(only_binary)]


def _error_location(error: dict[str, Any], folder: Path) -> tuple[str, int] | None:
    stack = [(path, line) for path, line in error["at"] if line is not None]
    if not stack:
        return None
    path, line = stack[-1]
    return _where(path, folder), line


def _outside(url: str | None, folder: Path) -> bool:
    if not url or not url.startswith("file:"):
        return False
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    return not path.startswith(str(folder) + os.sep)


def _excused(their_error: dict[str, Any], ours: list[RequirementEntry], folder: Path) -> str | None:
    text = their_error["text"]
    if "Allowed hash algorithms for --hash" in text and any(
        spec.algorithm not in ("sha256", "sha384", "sha512") for e in ours for spec in e.hashes
    ):
        return "refused --hash algorithm, reported by invalid-hash"
    # Outside the case's folder (its root) the reader does not look: a path there is
    # assumed to be a project folder, which pip checks only when it runs.
    folder_like = (Kind.LOCAL_DIR, Kind.EDITABLE, Kind.LOCAL_FILE)
    if any(e.kind in folder_like and _outside(e.url, folder) for e in ours):
        return "a path outside the repository, which the reader does not look at"
    return None


def compare(
    case: Case, folder: Path, theirs: dict[str, Any], version: tuple[int, int]
) -> tuple[str, str]:
    """("agree" | "excused" | "disagree", detail)."""
    try:
        req_set, problems = load(
            "requirements.txt", environ=case.env, pip_version=version, cwd=str(folder)
        )
    except RequirementsFileError as exc:
        if theirs["error"] is not None:
            return "agree", "both refuse the file"
        return "disagree", f"we cannot read what pip reads: {exc}"
    ours_by_line = {(_where(e.location.path, folder), e.location.line): e for e in req_set.entries}
    their_lines = theirs["lines"]
    error = theirs["error"]
    # Everything pip read before it stopped must read the same here.
    for record in their_lines:
        key = (_where(record["file"], folder), record["line"])
        if "requirement" not in record:
            continue
        entry = ours_by_line.get(key)
        refused_here = any(
            (_where(p.location.path, folder), p.location.line) == key for p in problems
        )
        if entry is None:
            if refused_here and error is not None:
                continue  # a constraint pip refuses once all are read
            return "disagree", f"pip reads a requirement at {key}, we do not: {record}"
        if _ours(entry) != _theirs(record["requirement"]):
            return (
                "disagree",
                f"at {key}: ours {_ours(entry)} != pip's {_theirs(record['requirement'])}",
            )
    if error is None:
        if problems:
            return "disagree", f"pip accepts, we refuse: {[p.message for p in problems]}"
        their_keys = {
            (_where(r["file"], folder), r["line"]) for r in their_lines if "requirement" in r
        }
        extra = set(ours_by_line) - their_keys
        if extra:
            return "disagree", f"we read requirements pip does not: {sorted(extra)}"
        ours_options = _option_values(req_set.options, folder)
        for record in their_lines:
            if "options" in record:
                key = (_where(record["file"], folder), record["line"])
                if ours_options.get(key, {}) != _their_options(record["options"]):
                    return "disagree", (
                        f"options at {key}: ours {ours_options.get(key)} != "
                        f"pip's {_their_options(record['options'])}"
                    )
        if their_lines and _format_control(req_set.options) != their_lines[-1]["format_control"]:
            return "disagree", (
                f"format control: ours {_format_control(req_set.options)} != "
                f"pip's {their_lines[-1]['format_control']}"
            )
        return "agree", "both accept"
    if not problems:
        excuse = _excused(error, req_set.entries, folder)
        if excuse:
            return "excused", excuse
        return "disagree", f"pip refuses ({error['type']}: {error['text'][:300]}), we accept"
    if error["type"] == "RecursionError":  # pip before 24.3 followed a cycle until it fell
        cycle = any("include cycle" in p.message for p in problems)
        return ("agree", "both refuse") if cycle else ("disagree", "pip met a cycle, we did not")
    where = _error_location(error, folder)
    places = {(_where(p.location.path, folder), p.location.line) for p in problems}
    # pip stops inside an included file the reader refused as a whole
    refused_include = where is not None and any(
        p.rule == "include-error" and p.message.startswith(os.path.basename(where[0]))
        for p in problems
    )
    if where is not None and where not in places and not refused_include:
        excuse = _excused(error, req_set.entries, folder)
        if excuse:
            return "excused", excuse
        return "disagree", (
            f"pip refuses at {where} ({error['text'][:200]}), we refuse elsewhere: "
            f"{[(p.location.line, p.message) for p in problems]}"
        )
    return "agree", "both refuse"


@pytest.mark.parametrize("pip", PIPS, ids=lambda v: f"pip{v}")
def test_reader_agrees_with_pip(pip: str, corpus: list[tuple[Case, Path]]) -> None:
    version = (int(pip.split(".")[0]), int(pip.split(".")[1]))
    theirs = _pip_reads(pip, corpus)
    outcomes: Counter[str] = Counter()
    excuses: Counter[str] = Counter()
    disagreements = []
    for case, folder in corpus:
        outcome, detail = compare(case, folder, theirs[case.id], version)
        outcomes[outcome] += 1
        if outcome == "excused":
            excuses[detail] += 1
        elif outcome == "disagree":
            disagreements.append(f"{case.id}: {detail}")
    print(
        f"\npip {pip}: {len(corpus)} cases, {outcomes['agree']} agree, "
        f"{outcomes['excused']} excused {dict(excuses)}, {outcomes['disagree']} disagree"
    )
    assert not disagreements, "\n".join(disagreements[:60]) + f"\n({len(disagreements)} in all)"


def _problems_text(problems: list[ParseProblem]) -> str:
    return "; ".join(p.message for p in problems)
