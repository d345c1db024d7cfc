"""Does `reqhash-check` agree with the real pip on real requirements files?

For each case of `cases.py` × target × pip version this runs the tool exactly as a user
calls it, as a subprocess::

    reqhash-check --format json --pip-version V --python-version X --platform P \
        --only-binary :all: FILE

and the real pip with the same flags in the same order, isolated from this machine's
pip configuration::

    pip download --require-hashes --only-binary=:all: --python-version X --platform P \
        -d TMP -r FILE

(without `--no-deps`, so missing dependencies count). Then:

(a) verdict: pip fails ⇔ the tool has an error finding for the target;
(b) every error finding is confirmed by pip on a one-requirement copy of the file
    (`--no-deps`), or, for `missing-dependency`, by pip naming the dependency when it
    resolves the file without `--no-deps`;
    A finding at a line of a `-c` constraints file, and a missing dependency, can only be
    confirmed with dependencies resolved and the constraints in use, as a user installs.
    pip stops at its first failure there (pip 23.0 at the first dependency it will not
    take from a hashed constraint), so the set is taken apart one pip run at a time (see
    `take_apart`): pip runs on the requirements with their `-c` file; what it names is
    recorded, then got past (a dependency pip calls unpinned is pinned as a hashed
    requirement, with its constraint's own line where that is hashed, else with the file
    pip picks; what pip refuses outright, and a failing requirement, is left out with
    what asked for it) and pip runs again, until it passes. A finding at a
    constraint line is confirmed when pip refused that constraint the way the rule says
    (`CONSTRAINT_RULES_CONFIRMED`); a missing dependency when pip named it. Where pip
    could not be got past a failure, a constraint finding it never reached is judged by
    pip on the constraint's pin alone (its line as the only requirement, `--no-deps`:
    "pin alone"), and the other findings it never reached count as masked;
(c) pip finds no failure the tool missed: the requirements that fail under `--no-deps`
    are found by peeling (run the file, drop the requirements pip names, run again), and
    each must have a tool finding; each dependency pip says lacks a hash must have a
    `missing-dependency` finding.

pip runs in a venv of the target's Python where that pip supports it, so
`python_version` markers mean the same to both; pip evaluates markers on the host
(Linux) whatever `--platform` says, which the report notes.

Every pip outcome is memoised (keyed by the pip, its interpreter, the arguments and the
bytes of every file it reads) and pip keeps its HTTP cache per version, so a rerun only
asks the index what changed. `--fresh` ignores the memo.

Usage::

    python tests/realfiles/agreement.py [--only SUBSTRING] [--pip 26.3] [--jobs 3]
        [--fresh] [--quick] [--results tests/realfiles/RESULTS.md] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from threading import Lock

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.realfiles.cases import CASES, Case  # noqa: E402

DATA = REPO / "tests" / "data" / "realfiles"
PIPS_HOME = Path(tempfile.gettempdir()) / "reqhash-check-pips"
MEMO = PIPS_HOME / "agreement-memo.json"
MEMO_DAYS = 7
INDEX = "https://pypi.org/simple"
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
# The oldest Python each pip runs on.
PIP_MIN_PYTHON = {"23.0": (3, 7), "26.3": (3, 10)}
# pip 23.0 crashes on 3.12 (its pkg_resources needs pkgutil.ImpImporter).
PIP_MAX_PYTHON = {"23.0": (3, 11)}
ERROR_RULES_CONFIRMED_ALONE = {
    "stale-hash": {"hash-mismatch"},
    "uncovered-target": {"hash-mismatch"},
    "no-installable-file": {"not-found"},
    "unknown-version": {"not-found"},
    "unknown-project": {"not-found"},
    "invalid-metadata": {"not-found"},
    "missing-hash": {"hash-missing"},
    "unpinned": {"unpinned", "hash-mismatch"},
    "invalid-hash": {"invalid", "hash-mismatch"},
    "unhashable": {"hash-missing", "invalid", "unhashable"},
    "duplicate": {"conflict"},
}

# A finding at a constraint line, and how pip refuses that constraint once it uses it.
CONSTRAINT_RULES_CONFIRMED = {
    "no-installable-file": {"not-found", "conflict"},
    "unknown-version": {"not-found", "conflict"},
    "stale-hash": {"hash-mismatch"},
    "uncovered-target": {"hash-mismatch"},
    "conflicting-pin": {"conflict"},
    "invalid-metadata": {"not-found", "conflict"},
}


# ----------------------------------------------------------------------------- environment


def isolated_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_FIND_LINKS="",
        PIP_EXTRA_INDEX_URL="",
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def _python_for(version: tuple[int, int]) -> Path | None:
    if (version[0], version[1]) == sys.version_info[:2]:
        return Path(sys.executable)
    for found in sorted(PYENV.glob(f"{version[0]}.{version[1]}.*/bin/python")):
        return found
    which = shutil.which(f"python{version[0]}.{version[1]}")
    return Path(which) if which else None


def pip_host_python(pip_version: str, target: str) -> tuple[int, int]:
    """The Python pip runs under for a target: the target's own where that pip runs on it."""
    major, minor = (int(p) for p in target.split(".")[:2])
    wanted = (major, minor)
    low = PIP_MIN_PYTHON.get(pip_version, (3, 8))
    high = PIP_MAX_PYTHON.get(pip_version, (3, 13))
    return min(max(wanted, low), high)


_venv_lock = Lock()


def ensure_pip(pip_version: str, host: tuple[int, int]) -> Path:
    """A venv with exactly this pip under this Python, built once (same layout as the tests)."""
    home = PIPS_HOME / f"pip-{pip_version}-py{host[0]}{host[1]}"
    python = home / "bin" / "python"
    with _venv_lock:
        if _pip_version_of(python) == pip_version:
            return python
        base = _python_for(host)
        if base is None:
            raise RuntimeError(f"no Python {host[0]}.{host[1]} here")
        PIPS_HOME.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([str(base), "-m", "venv", str(home)], check=True, capture_output=True)
        # This install talks to the package registry, so it keeps the machine's pip setup.
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"pip=={pip_version}"],
            check=True,
            capture_output=True,
        )
        if _pip_version_of(python) != pip_version:
            raise RuntimeError(f"pip {pip_version} does not run on {host}")
        return python


def _pip_version_of(python: Path) -> str | None:
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        env=isolated_env(),
    ).stdout
    match = re.match(r"pip (\S+) ", out)
    return match.group(1) if match else None


def tool_command() -> list[str]:
    script = Path(sys.executable).parent / "reqhash-check"
    if script.exists():
        return [str(script)]
    found = shutil.which("reqhash-check")
    if not found:
        raise SystemExit("reqhash-check is not installed in this environment")
    return [found]


def git_commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty src" if dirty else "")


# ----------------------------------------------------------------------------- the file


@dataclass
class Line:
    text: str
    """The logical line (continuations joined, comment stripped)."""
    name: str | None
    """Canonical project name for a requirement line; None for an option line."""


_COMMENT = re.compile(r"(^|\s+)#.*$")
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(path: Path) -> list[Line]:
    """The file set flattened in pip's reading order: `-r` inlined, `-c` made absolute."""
    out: list[Line] = []
    _read(path, out, seen=set())
    return out


def _read(path: Path, out: list[Line], seen: set[Path]) -> None:
    path = path.resolve()
    if path in seen:
        return
    seen.add(path)
    physical = path.read_text(encoding="utf-8").splitlines()
    joined: list[str] = []
    buffer = ""
    for raw in physical:
        if raw.endswith("\\"):
            buffer += raw[:-1] + " "
            continue
        joined.append(buffer + raw)
        buffer = ""
    if buffer:
        joined.append(buffer)
    for line in joined:
        text = _COMMENT.sub("", line).strip()
        if not text:
            continue
        include = re.match(r"^(-r|--requirement)[\s=]+(\S+)", text)
        if include:
            _read(path.parent / include.group(2), out, seen)
            continue
        constraint = re.match(r"^(-c|--constraint)[\s=]+(\S+)", text)
        if constraint:
            out.append(Line(f"-c {(path.parent / constraint.group(2)).resolve()}", None))
            continue
        if text.startswith("-"):
            out.append(Line(text, None))
            continue
        match = _NAME.match(text)
        out.append(Line(text, canonical(match.group(1)) if match else None))


def write_subset(lines: Sequence[Line], keep: Iterable[str], dest: Path) -> None:
    """A copy of the flattened file with every option line and only these projects."""
    wanted = set(keep)
    body = [ln.text for ln in lines if ln.name is None or ln.name in wanted]
    dest.write_text("\n".join(body) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- pip


@dataclass
class PipFailure:
    kind: str
    """hash-mismatch | hash-missing | unpinned | not-found | conflict | invalid | other"""
    names: list[str]
    requirers: list[str] = field(default_factory=list)
    """For a failing dependency: the projects whose metadata asked for it."""
    pins: dict[str, str] = field(default_factory=dict)
    """Name → what pip says it would take: `name==version --hash=sha256:…` when pip printed
    the hash (missing hashes), `name==version` when it printed the file it chose."""


@dataclass
class PipRun:
    command: list[str]
    ok: bool
    failures: list[PipFailure]
    invalid_metadata: list[str]
    tail: str
    seconds: float
    asked_by: dict[str, list[str]] = field(default_factory=dict)
    """Name → every project on the paths pip logged for collecting it ("Collecting X (from
    A==1->B==2->-r FILE (line N))": A, B), the requirement at the top included."""


def _names_in_block(text: str, header: str) -> list[str]:
    start = text.find(header)
    if start < 0:
        return []
    names = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("ERROR:"):
            break
        match = re.match(r"^    ([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match and not line.startswith("        "):
            names.append(canonical(match.group(1)))
    return names


_WHEEL_VERSION = re.compile(r"/([A-Za-z0-9_.]+)-([^-/]+)-[^/]*\.whl")


def _pins_named(text: str) -> dict[str, str]:
    """What pip says it would take for each dependency it refuses in --require-hashes mode."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        hashed = re.match(r"^    ([A-Za-z0-9][\w.-]*)==(\S+) --hash=(sha256:[0-9a-f]{64})", line)
        if hashed:
            name, version, digest = hashed.groups()
            pins[canonical(name)] = f"{name}=={version} --hash={digest}"
            continue
        chosen = re.match(r"^    ([A-Za-z0-9][\w.-]*)\S* from (\S+)", line)
        wheel = _WHEEL_VERSION.search(chosen.group(2)) if chosen else None
        if chosen and wheel:
            pins.setdefault(canonical(chosen.group(1)), f"{chosen.group(1)}=={wheel.group(2)}")
    return pins


def collection_paths(text: str) -> dict[str, list[str]]:
    """Who asked for each project pip collected, all the way up to the requirement."""
    paths: dict[str, set[str]] = {}
    for match in re.finditer(
        r"^Collecting ([A-Za-z0-9][\w.-]*)[^\n(]*\(from ([^)\n]*)\)", text, re.M
    ):
        for step in match.group(2).split("->"):
            name = re.match(r"\s*([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?==", step)
            if name:
                paths.setdefault(canonical(match.group(1)), set()).add(canonical(name.group(1)))
    return {name: sorted(found) for name, found in paths.items()}


def parse_pip_output(text: str) -> tuple[list[PipFailure], list[str]]:
    failures: list[PipFailure] = []
    header = "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"
    if header in text:
        failures.append(PipFailure("hash-mismatch", _names_in_block(text, header)))
    header = "Hashes are required in --require-hashes mode, but they are missing"
    if header in text:
        failures.append(PipFailure("hash-missing", _names_in_block(text, header)))
    header = "all requirements must have their versions pinned with"
    if header in text:
        failures.append(PipFailure("unpinned", _names_in_block(text, header)))
    not_found = re.finditer(r"No matching distribution found for ([A-Za-z0-9][\w.-]*)", text)
    failures.extend(PipFailure("not-found", [canonical(m.group(1))]) for m in not_found)
    if "ResolutionImpossible" in text or "Double requirement given" in text:
        names = re.findall(
            r"(?:The user requested|Double requirement given:) (?:\(constraint\) )?([\w.-]+)", text
        )
        names += re.findall(r"Cannot install ([\w.-]+)==", text)
        failures.append(PipFailure("conflict", sorted({canonical(n) for n in names})))
    if re.search(r"Invalid requirement|Could not open requirements file|no such option", text):
        failures.append(PipFailure("invalid", []))
    errors_at = text.find("ERROR:")
    if errors_at >= 0:
        asked_by = re.findall(r"\(from ([\w.-]+)(?:==[^\s()]*)?(?:->|\))", text[errors_at:])
        requirers = sorted({canonical(m) for m in asked_by})
        for failure in failures:
            if failure.kind in ("hash-missing", "unpinned", "not-found"):
                failure.requirers = requirers
    for failure in failures:
        failure.pins = _pins_named(text) if failure.kind in ("hash-missing", "unpinned") else {}
        if failure.kind == "conflict":
            depends = re.findall(r"^\s+([\w.-]+) \S+ depends on ([\w.-]+)", text, re.M)
            asked = {canonical(a) for a, dep in depends if canonical(dep) in failure.names}
            failure.requirers = sorted(asked)
    invalid_metadata = [
        canonical(m.group(2))
        for m in re.finditer(r"Ignoring version (\S+) of (\S+) since it has invalid metadata", text)
    ]
    return failures, invalid_metadata


class Memo:
    def __init__(self, path: Path, fresh: bool) -> None:
        self.path = path
        self.lock = Lock()
        self.data: dict[str, dict[str, object]] = {}
        if not fresh and path.exists():
            try:
                self.data = json.loads(path.read_text())
            except (OSError, ValueError):
                self.data = {}
        horizon = time.time() - MEMO_DAYS * 86400
        self.data = {k: v for k, v in self.data.items() if float(str(v.get("at", 0))) > horizon}

    def get(self, key: str) -> PipRun | None:
        with self.lock:
            found = self.data.get(key)
        if not found:
            return None
        run = dict(found["run"])  # type: ignore[call-overload]
        run["failures"] = [PipFailure(**f) for f in run["failures"]]
        return PipRun(**run)

    def put(self, key: str, run: PipRun) -> None:
        with self.lock:
            self.data[key] = {"at": time.time(), "run": asdict(run)}

    def save(self) -> None:
        with self.lock:
            # Another run may have saved meanwhile: keep its entries too.
            try:
                on_disk = json.loads(self.path.read_text())
            except (OSError, ValueError):
                on_disk = {}
            self.data = {**on_disk, **self.data}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data))
            tmp.replace(self.path)


def _files_digest(lines_source: Path) -> str:
    """The bytes of a requirements file and of everything it includes or constrains with."""
    digest = hashlib.sha256()
    pending, seen = [lines_source.resolve()], set()
    while pending:
        path = pending.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        data = path.read_bytes()
        # The top file is often a temporary copy: its bytes say what it is, not its name.
        if path == lines_source.resolve():
            label = b""
        elif path.is_relative_to(Path(tempfile.gettempdir()).resolve()):
            # A probe's constraints copy: its folder is random, its name and bytes are not.
            label = path.name.encode()
        else:
            label = str(path).encode()
        digest.update(label + b"\0" + data)
        included = re.finditer(rb"^\s*(?:-r|-c|--requirement|--constraint)[\s=]+(\S+)", data, re.M)
        pending.extend((path.parent / m.group(1).decode()).resolve() for m in included)
    return digest.hexdigest()


def run_pip(
    memo: Memo,
    pip_version: str,
    python: Path,
    target: tuple[str, str],
    requirements: Path,
    *,
    no_deps: bool,
) -> PipRun:
    python_version, platform = target
    args = ["download", "--require-hashes", "--only-binary=:all:"]
    args += ["--python-version", python_version, "--platform", platform]
    if no_deps:
        args.append("--no-deps")
    tail_args = ["-r", str(requirements)]
    key = hashlib.sha256(
        json.dumps(
            [pip_version, str(python), args, _files_digest(requirements)]
            + ([] if no_deps else ["with collection paths"])
        ).encode()
    ).hexdigest()
    cached = memo.get(key)
    if cached is not None:
        return cached
    cache_dir = PIPS_HOME / f"cache-{pip_version}"
    with tempfile.TemporaryDirectory(prefix="reqhash-agreement-") as tmp:
        command = [str(python), "-m", "pip", *args, "-d", tmp, *tail_args]
        command += ["--isolated", "--index-url", INDEX, "--cache-dir", str(cache_dir)]
        started = time.monotonic()
        done = subprocess.run(
            command, capture_output=True, text=True, env=isolated_env(), timeout=1800
        )
    output = done.stdout + done.stderr
    failures, invalid_metadata = parse_pip_output(output)
    if done.returncode != 0 and not failures:
        failures = [PipFailure("other", [])]
    run = PipRun(
        command=command,
        ok=done.returncode == 0,
        failures=failures,
        invalid_metadata=invalid_metadata,
        tail="\n".join(output.strip().splitlines()[-12:]),
        seconds=round(time.monotonic() - started, 1),
        asked_by={} if no_deps else collection_paths(output),
    )
    memo.put(key, run)
    return run


# ----------------------------------------------------------------------------- the tool


@dataclass
class ToolFinding:
    rule: str
    project: str
    version: str | None
    line: int
    dependency: str | None
    message: str
    path: str = ""


@dataclass
class ToolRun:
    command: list[str]
    exit_code: int
    errors: list[ToolFinding]
    warnings: list[str]
    seconds: float
    stderr: str


def run_tool(pip_version: str, target: tuple[str, str], path: Path) -> ToolRun:
    python_version, platform = target
    command = [*tool_command(), "--format", "json", "--pip-version", pip_version]
    command += ["--python-version", python_version, "--platform", platform]
    command += ["--only-binary", ":all:", str(path)]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=isolated_env())
    seconds = round(time.monotonic() - started, 1)
    errors: list[ToolFinding] = []
    warnings: list[str] = []
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = {"findings": []}
    for finding in report.get("findings", []):
        label = f"{finding['rule']}:{finding.get('project')}"
        if finding["severity"] != "error":
            warnings.append(label)
            continue
        dependency = None
        if finding["rule"] == "missing-dependency":
            match = re.search(r"depends on ([A-Za-z0-9][\w.-]*)", finding["message"])
            dependency = canonical(match.group(1)) if match else None
        errors.append(
            ToolFinding(
                rule=finding["rule"],
                project=canonical(finding.get("project") or ""),
                version=finding.get("version"),
                line=finding.get("line") or 0,
                dependency=dependency,
                message=finding["message"],
                path=finding.get("path") or "",
            )
        )
    return ToolRun(command, done.returncode, errors, warnings, seconds, done.stderr[-2000:])


# ----------------------------------------------------------------------------- constraints


def constraint_lines(lines: Sequence[Line]) -> dict[str, Line]:
    """Every project a `-c` file of the set pins, with its line (pip's reading order)."""
    pins: dict[str, Line] = {}
    for ln in lines:
        if ln.name is None and ln.text.startswith("-c "):
            for inner in logical_lines(Path(ln.text[3:])):
                if inner.name:
                    pins.setdefault(inner.name, inner)
    return pins


def hashed_pin(
    memo: Memo, pip_version: str, python: Path, target: tuple[str, str], wanted: str
) -> str | None:
    """`name==version --hash=sha256:…` for the file pip picks for `wanted` on the target.

    Used only to let a probe get past a dependency pip refuses, so that the next run shows
    the next failure: the probe then pins what pip itself would have taken."""
    key = "pin:" + hashlib.sha256(json.dumps([pip_version, target, wanted]).encode()).hexdigest()
    with memo.lock:
        known = memo.data.get(key)
    if known is not None:
        return known.get("pin")  # type: ignore[return-value]
    python_version, platform = target
    with tempfile.TemporaryDirectory(prefix="reqhash-agreement-pin-") as tmp:
        command = [str(python), "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += ["--python-version", python_version, "--platform", platform, "-d", tmp]
        command += [wanted, "--isolated", "--index-url", INDEX]
        command += ["--cache-dir", str(PIPS_HOME / f"cache-{pip_version}")]
        done = subprocess.run(
            command, capture_output=True, text=True, env=isolated_env(), timeout=600
        )
        files = sorted(Path(tmp).glob("*.whl"))
        pin = None
        if done.returncode == 0 and len(files) == 1:
            match = re.match(r"([^-]+)-([^-]+)-", files[0].name)
            digest = hashlib.sha256(files[0].read_bytes()).hexdigest()
            if match:
                pin = f"{match.group(1)}=={match.group(2)} --hash=sha256:{digest}"
    with memo.lock:
        memo.data[key] = {"at": time.time(), "pin": pin}
    return pin


@dataclass
class Named:
    """One failure pip showed while a probe was taken apart round by round."""

    kind: str
    name: str
    requirers: list[str]
    top_level: bool


@dataclass
class Chain:
    named: list[Named] = field(default_factory=list)
    ok: bool = False
    """The last probe passed: every failure pip would show was seen."""
    dropped: set[str] = field(default_factory=set)
    """Requirements left out because pip could not be got past one of their dependencies."""
    rounds: int = 0


def take_apart(
    memo: Memo,
    pip_version: str,
    python: Path,
    target: tuple[str, str],
    lines: Sequence[Line],
    keep: Sequence[str],
    work: Path,
    *,
    max_rounds: int = 200,
) -> Chain:
    """Run pip on the set (dependencies resolved, `-c` files in use) as a user would; each
    time it fails, record what it named, get past it and run again.

    pip stops at its first failure (pip 23.0 at the first dependency it will not take from
    a hashed constraint), so one run shows one failure. To get past a dependency pip calls
    unpinned, the probe pins it as a hashed requirement: the constraint's own line when it
    is hashed (pip did not use it), else the version pip chose, with its file's hash. A
    dependency pip refuses outright (a constraint with no file for the target, a conflict,
    a hash mismatch) cannot be got past: the requirements that asked for it are left out
    (`Chain.dropped`). A failing requirement is left out."""
    chain = Chain()
    keep = list(keep)
    constraints = constraint_lines(lines)
    patches: dict[str, str] = {}
    blocked: set[str] = set()
    asked_by: dict[str, set[str]] = {}
    options = [ln.text for ln in lines if ln.name is None and not ln.text.startswith("-c ")]
    if constraints:
        text = "\n".join(c.text for c in constraints.values()) + "\n"
        copy = work / f"c-{hashlib.sha256(text.encode()).hexdigest()[:16]}.txt"
        copy.write_text(text, encoding="utf-8")
        options.append(f"-c {copy.name}")

    def cannot_pass(name: str, seen: set[str] | None = None) -> None:
        """pip cannot be got past this dependency: leave out the requirements that led pip
        to it (every project on the paths pip logged for collecting it, climbing through
        the dependencies between)."""
        seen = set() if seen is None else seen
        seen.add(name)
        if name not in keep:
            blocked.add(name)
            patches.pop(name, None)
        for requirer in sorted(asked_by.get(name, ())):
            if requirer in keep:
                keep.remove(requirer)
                chain.dropped.add(requirer)
            elif requirer not in seen:
                cannot_pass(requirer, seen)

    for round_number in range(max_rounds):
        chain.rounds = round_number + 1
        body = [*options, *(ln.text for ln in lines if ln.name in keep)]
        body += [patches[n] for n in sorted(patches)]
        probe = work / f"probe-{round_number}.txt"
        probe.write_text("\n".join(body) + "\n", encoding="utf-8")
        run = run_pip(memo, pip_version, python, target, probe, no_deps=False)
        if run.ok:
            chain.ok = True
            return chain
        before = (len(keep), dict(patches), len(blocked))
        for collected, path in run.asked_by.items():
            asked_by.setdefault(collected, set()).update(path)
        for failure in run.failures:
            for name in failure.names:
                top = name in keep
                chain.named.append(Named(failure.kind, name, list(failure.requirers), top))
                asked_by.setdefault(name, set()).update(failure.requirers)
                if top:
                    keep.remove(name)
                    continue
                pin = failure.pins.get(name, "")
                constraint = constraints.get(name)
                if name in blocked or failure.kind not in ("unpinned", "hash-missing"):
                    # A constraint (or a pin) pip refuses: nothing to install it with.
                    cannot_pass(name)
                elif constraint is not None and "--hash" in constraint.text:
                    if name in patches:
                        cannot_pass(name)
                    else:
                        # pip did not take the hashed constraint: pin it as a requirement.
                        patches[name] = constraint.text
                elif "--hash=" in pin:
                    patches[name] = pin  # pip printed the hash of the file it chose
                elif pin:
                    # The version pip chose (within the constraints), with its file's hash.
                    found = hashed_pin(memo, pip_version, python, target, pin.split(" ")[0])
                    if found and patches.get(name) != found:
                        patches[name] = found
                    else:
                        cannot_pass(name)
                else:
                    cannot_pass(name)
        if (len(keep), patches, len(blocked)) == before:
            return chain  # nothing pip named could be got past
    return chain


def _pin_alone(
    memo: Memo,
    pip_version: str,
    python: Path,
    target: tuple[str, str],
    lines: Sequence[Line],
    finding: ToolFinding,
    work: Path,
) -> set[str]:
    """How pip fails on a constraint's pin written as the only requirement (`--no-deps`)."""
    pinned = constraint_lines(lines).get(finding.project)
    if pinned is None:
        return set()
    options = [ln.text for ln in lines if ln.name is None and not ln.text.startswith("-c ")]
    probe = work / f"pin-alone-{finding.project}.txt"
    probe.write_text("\n".join([*options, pinned.text]) + "\n", encoding="utf-8")
    run = run_pip(memo, pip_version, python, target, probe, no_deps=True)
    return set() if run.ok else {f.kind for f in run.failures}


# ----------------------------------------------------------------------------- one comparison


@dataclass
class Outcome:
    case: str
    target: str
    pip: str
    pip_python: str
    pip_ok: bool
    pip_failures: list[str]
    tool_exit: int
    tool_errors: list[str]
    tool_warnings: list[str]
    verdict_agrees: bool
    confirmed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tool_command: list[str] = field(default_factory=list)
    pip_command: list[str] = field(default_factory=list)
    pip_tail: str = ""
    pip_rounds: list[str] = field(default_factory=list)
    """What pip named, run after run, while the set was taken apart."""
    seconds: float = 0.0


def compare(case: Case, target: tuple[str, str], pip_version: str, memo: Memo) -> Outcome:
    started = time.monotonic()
    path = DATA / case.path
    host = pip_host_python(pip_version, target[0])
    python = ensure_pip(pip_version, host)
    tool = run_tool(pip_version, target, path)
    full = run_pip(memo, pip_version, python, target, path, no_deps=False)
    tool_fails = tool.exit_code != 0
    outcome = Outcome(
        case=case.path,
        target=f"{target[0]} {target[1]}",
        pip=pip_version,
        pip_python=f"{host[0]}.{host[1]}",
        pip_ok=full.ok,
        pip_failures=[f"{f.kind}:{','.join(f.names)}" for f in full.failures],
        tool_exit=tool.exit_code,
        tool_errors=[f"{f.rule}:{f.project}" for f in tool.errors],
        tool_warnings=tool.warnings,
        verdict_agrees=(not full.ok) == tool_fails,
        tool_command=tool.command,
        pip_command=full.command,
        pip_tail=full.tail if not full.ok else "",
    )
    if tool.exit_code not in (0, 1):
        outcome.notes.append(f"tool exit {tool.exit_code}: {tool.stderr.strip()[-300:]}")
    if host != tuple(int(p) for p in target[0].split(".")[:2]):
        outcome.notes.append(f"pip {pip_version} ran on Python {host[0]}.{host[1]}")

    lines = logical_lines(path)
    names = [ln.name for ln in lines if ln.name]
    unique_names = list(dict.fromkeys(names))

    with tempfile.TemporaryDirectory(prefix="reqhash-agreement-") as tmp:
        work = Path(tmp)

        # (c) which requirements fail on their own: peel them off one pip run at a time.
        failing: dict[str, set[str]] = {}
        remaining = list(unique_names)
        for round_number in range(len(unique_names) + 1):
            subset = work / f"peel-{round_number}.txt"
            write_subset(lines, remaining, subset)
            run = run_pip(memo, pip_version, python, target, subset, no_deps=True)
            if run.ok:
                break
            named = {n for f in run.failures for n in f.names if n in remaining}
            if not named:
                # pip named nobody we can drop: judge each requirement alone.
                for name in remaining:
                    single = work / f"alone-{name}.txt"
                    write_subset(lines, [name], single)
                    alone = run_pip(memo, pip_version, python, target, single, no_deps=True)
                    if not alone.ok:
                        failing[name] = {f.kind for f in alone.failures}
                break
            for failure in run.failures:
                for name in failure.names:
                    if name in remaining:
                        failing.setdefault(name, set()).add(failure.kind)
            remaining = [n for n in remaining if n not in named]

        # Dependencies pip refuses, once the failing requirements are out of the way: pip
        # stops at the first, so take the set apart one pip run at a time (see take_apart).
        dependency_kinds = {"hash-missing", "unpinned", "not-found"}
        missing_deps: set[str] = set()
        for failure in full.failures:
            if failure.kind in dependency_kinds:
                missing_deps |= {n for n in failure.names if n not in unique_names}
        keep = [n for n in unique_names if n not in failing]
        chain = (
            Chain(ok=True)
            if full.ok
            else take_apart(memo, pip_version, python, target, lines, keep, work)
        )
        dropped_requirers = set(chain.dropped)
        outcome.pip_rounds = [
            f"{n.kind}:{n.name}{'' if n.top_level else ' (dependency)'}" for n in chain.named
        ]
        # name → how pip refused it as a dependency (or as a constraint it had to use)
        refused: dict[str, set[str]] = {}
        for named in chain.named:
            if not named.top_level:
                refused.setdefault(named.name, set()).add(named.kind)
                if named.kind in dependency_kinds and named.name not in unique_names:
                    missing_deps.add(named.name)
        if chain.dropped:
            outcome.notes.append(
                "left out after a dependency pip cannot be got past: "
                + ", ".join(sorted(chain.dropped))
            )
        if not chain.ok:
            outcome.notes.append(
                f"pip could not be taken past every failure ({chain.rounds} runs): findings "
                "it did not reach are counted as masked"
            )
        constraint_files = {
            Path(ln.text[3:]).resolve()
            for ln in lines
            if ln.name is None and ln.text.startswith("-c ")
        }
        failed_names_full = {n for f in full.failures for n in f.names}

        # (b) each error finding, confirmed by pip.
        tool_projects = {f.project for f in tool.errors}
        tool_deps = {f.dependency for f in tool.errors if f.dependency}
        for finding in tool.errors:
            label = f"{finding.rule}:{finding.project}"
            if finding.rule == "missing-dependency":
                label += f"→{finding.dependency}"
                if finding.dependency in missing_deps or finding.dependency in failed_names_full:
                    outcome.confirmed.append(label)
                elif finding.project in failing or finding.project in dropped_requirers:
                    outcome.masked.append(label)
                elif not chain.ok or (chain.dropped and finding.project not in unique_names):
                    # A dependency: what needs it may be among the requirements left out.
                    outcome.masked.append(f"{label} (not reached)")
                else:
                    outcome.false.append(label)
                continue
            if finding.path and Path(finding.path).resolve() in constraint_files:
                # A constraint line: pip only uses it when something needs the project, so
                # only the run with dependencies (the -c file in use) can confirm it.
                label += " (constraint)"
                kinds = refused.get(finding.project, set())
                expected = CONSTRAINT_RULES_CONFIRMED.get(finding.rule, set())
                if kinds & expected:
                    outcome.confirmed.append(label)
                elif kinds:
                    outcome.masked.append(f"{label} (pip: {','.join(sorted(kinds))})")
                elif not chain.ok or chain.dropped:
                    # What needs it is among the requirements pip could not be got past:
                    # pip judges the pin on its own (the constraint's line as a requirement).
                    alone = _pin_alone(memo, pip_version, python, target, lines, finding, work)
                    if alone & expected:
                        outcome.confirmed.append(f"{label} (pin alone)")
                    else:
                        outcome.masked.append(f"{label} (not reached)")
                else:
                    outcome.false.append(label)
                continue
            expected = ERROR_RULES_CONFIRMED_ALONE.get(finding.rule)
            if expected is None:
                (outcome.confirmed if not full.ok else outcome.false).append(label)
                continue
            if finding.rule == "duplicate":
                kinds = {f.kind for f in full.failures if finding.project in f.names}
            else:
                single = work / f"confirm-{finding.project}.txt"
                write_subset(lines, [finding.project], single)
                alone = run_pip(memo, pip_version, python, target, single, no_deps=True)
                kinds = {f.kind for f in alone.failures} if not alone.ok else set()
            if kinds & expected:
                outcome.confirmed.append(label)
            elif kinds:
                outcome.masked.append(f"{label} (pip: {','.join(sorted(kinds))})")
            else:
                outcome.false.append(label)

        # (c) every pip failure has a finding.
        for name, kinds in sorted(failing.items()):
            if name not in tool_projects:
                outcome.missed.append(f"{','.join(sorted(kinds))}:{name}")
        for dep in sorted(missing_deps):
            if dep not in tool_deps and dep not in tool_projects:
                outcome.missed.append(f"missing-dependency:{dep}")
        pinned_by_constraint = constraint_lines(lines)
        for name, kinds in sorted(refused.items()):
            blamed = kinds & {"conflict", "hash-mismatch"}
            if blamed and name in pinned_by_constraint and name not in tool_projects | tool_deps:
                outcome.missed.append(f"{','.join(sorted(blamed))}:{name} (constraint)")
        if not full.ok and tool.exit_code == 0 and not outcome.missed:
            outcome.missed.append(
                "full-run:" + ";".join(outcome.pip_failures or ["(unattributed)"])
            )
        if full.invalid_metadata:
            ignored = ", ".join(full.invalid_metadata)
            outcome.notes.append(f"pip ignored for invalid metadata: {ignored}")
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


# ----------------------------------------------------------------------------- report


def render(outcomes: Sequence[Outcome], commit: str, elapsed: float) -> str:
    today = dt.date.today().isoformat()
    agree = sum(o.verdict_agrees for o in outcomes)
    totals = Counter()
    for o in outcomes:
        totals["tool errors"] += len(o.tool_errors)
        totals["confirmed"] += len(o.confirmed)
        totals["false"] += len(o.false)
        totals["masked"] += len(o.masked)
        totals["missed"] += len(o.missed)
    out = [
        "# reqhash-check against the real pip, on real requirements files",
        "",
        f"Run {today} on commit `{commit}` of reqhash-check, {len(outcomes)} comparisons "
        f"(file × target × pip), {elapsed:.0f} s.",
        "Files and their origin: `tests/data/realfiles/SOURCES.md`; how to run: "
        "`tests/realfiles/agreement.py`.",
        "",
        "## Totals",
        "",
        "| comparisons | verdict agrees | tool errors | confirmed | false | masked | missed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {len(outcomes)} | {agree} | {totals['tool errors']} | {totals['confirmed']} | "
        f"{totals['false']} | {totals['masked']} | {totals['missed']} |",
        "",
        "*confirmed*: pip fails the same way on that requirement alone (or names the missing "
        "dependency); *false*: pip accepts what the tool calls an error; *masked*: pip fails "
        "on that requirement, but for another reason; *missed*: pip fails where the tool "
        "has no error.",
        "",
        "## Per file × target × pip",
        "",
        "| file | target | pip (python) | pip | tool | agree | tool errors | confirmed | "
        "false | masked | missed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        errors = Counter(e.split(":")[0] for e in o.tool_errors)
        out.append(
            f"| {o.case} | {o.target} | {o.pip} ({o.pip_python}) | "
            f"{'ok' if o.pip_ok else 'fails'} | "
            f"{'ok' if o.tool_exit == 0 else f'exit {o.tool_exit}'} | "
            f"{'yes' if o.verdict_agrees else '**no**'} | "
            f"{', '.join(f'{r}×{n}' for r, n in sorted(errors.items())) or '—'} | "
            f"{len(o.confirmed)} | {_cell(o.false)} | {_cell(o.masked)} | {_cell(o.missed)} |"
        )
    out += ["", "## Details of every disagreement", ""]
    any_detail = False
    for o in outcomes:
        if o.verdict_agrees and not (o.false or o.missed or o.masked or o.notes):
            continue
        any_detail = True
        out.append(f"### {o.case} — {o.target} — pip {o.pip}")
        out.append("")
        if not o.verdict_agrees:
            out.append(f"- verdict: pip {'ok' if o.pip_ok else 'fails'}, tool exit {o.tool_exit}")
        for label, items in (("false", o.false), ("masked", o.masked), ("missed", o.missed)):
            if items:
                out.append(f"- {label}: {', '.join(items)}")
        for note in o.notes:
            out.append(f"- note: {note}")
        if o.pip_failures:
            out.append(f"- pip failures (full run): {'; '.join(o.pip_failures)}")
        out.append("")
    if not any_detail:
        out.append("None.")
    out += [
        "",
        "## Commands",
        "",
        "Each comparison runs, for example:",
        "",
        "```",
        "reqhash-check --format json --pip-version 26.3 --python-version 3.12 "
        "--platform manylinux2014_x86_64 --only-binary :all: FILE",
        "python -m pip download --require-hashes --only-binary=:all: --python-version 3.12 "
        "--platform manylinux2014_x86_64 -d TMP -r FILE --isolated "
        f"--index-url {INDEX} --cache-dir CACHE",
        "```",
        "",
        "with every `PIP_*` variable removed, `PIP_CONFIG_FILE=/dev/null`, and pip in a venv of "
        "the target's Python (pip 26.3 needs 3.10+, so 3.8/3.9 targets run it on 3.10). "
        "Confirmations add `--no-deps` and use a copy of the file with its option lines and "
        "one project's lines.",
        "",
    ]
    return "\n".join(out)


def _cell(items: Sequence[str]) -> str:
    if not items:
        return "0"
    text = ", ".join(items)
    return f"{len(items)}: {text[:160]}{'…' if len(text) > 160 else ''}"


# ----------------------------------------------------------------------------- main


def selected(args: argparse.Namespace) -> list[tuple[Case, tuple[str, str], str]]:
    jobs = []
    for case in CASES:
        if args.quick and not case.quick:
            continue
        if args.only and not any(s in case.path for s in args.only):
            continue
        for target in case.targets:
            for pip_version in case.pips:
                if args.pip and pip_version not in args.pip:
                    continue
                jobs.append((case, target, pip_version))
    return jobs


def run_all(
    jobs: Sequence[tuple[Case, tuple[str, str], str]], *, workers: int, fresh: bool
) -> list[Outcome]:
    memo = Memo(MEMO, fresh)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(compare, c, t, p, memo) for c, t, p in jobs]
            outcomes = []
            for future in futures:
                outcome = future.result()
                outcomes.append(outcome)
                print(
                    f"{'agree' if outcome.verdict_agrees else 'DISAGREE'} "
                    f"{outcome.case} [{outcome.target}] pip {outcome.pip}: "
                    f"tool {len(outcome.tool_errors)} errors, confirmed {len(outcome.confirmed)}, "
                    f"false {len(outcome.false)}, masked {len(outcome.masked)}, "
                    f"missed {len(outcome.missed)} ({outcome.seconds}s)",
                    file=sys.stderr,
                    flush=True,
                )
                memo.save()
    finally:
        memo.save()
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="cases whose path contains this")
    parser.add_argument("--pip", action="append", help="only this pip version (repeatable)")
    parser.add_argument("--quick", action="store_true", help="the small online-test subset")
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="ignore memoised pip outcomes")
    parser.add_argument("--results", type=Path, help="write the markdown report here")
    parser.add_argument("--json", type=Path, help="write every outcome as JSON here")
    args = parser.parse_args(argv)
    jobs = selected(args)
    started = time.monotonic()
    outcomes = run_all(jobs, workers=args.jobs, fresh=args.fresh)
    elapsed = time.monotonic() - started
    report = render(outcomes, git_commit(), elapsed)
    if args.results:
        args.results.write_text(report, encoding="utf-8")
    else:
        print(report)
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    clean = all(o.verdict_agrees and not o.false and not o.missed for o in outcomes)
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
