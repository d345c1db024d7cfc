"""A representative report for the output-format snapshots, and the snapshot helper."""

from __future__ import annotations

import os
from pathlib import Path

from reqhash_check.findings import (
    AddHashes,
    Finding,
    Fix,
    HashSet,
    IndexUse,
    Location,
    PinDependency,
    Report,
    SetHashes,
    Severity,
    Unverified,
)
from reqhash_check.report import RenderContext
from reqhash_check.rules import RULES

SNAPSHOTS = Path(__file__).parent / "snapshots"

E, W = Severity.ERROR, Severity.WARNING
MAIN = "requirements.txt"
DEV = "requirements/dev.txt"
ODD = "requirements-odd |%.txt"

LINUX = "linux-x86_64-glibc2.28-cp312"
MAC = "macos-arm64-11-cp311"

OLD = "sha256:" + "a" * 64
NEW_WHEEL = "sha256:" + "b" * 64
NEW_SDIST = "sha256:" + "c" * 64
ALIEN = "sha256:" + "d" * 64

TRICKY_MESSAGE = "100% broken: a, b\nsecond line | with a pipe\r\nthird `code` *star* <tag>"

CONTEXT = RenderContext(tool_version="0.1.0", fix_command="reqhash-check --fix requirements.txt")


def _f(
    rule: str,
    path: str,
    line: int,
    end: int,
    project: str | None,
    version: str | None,
    message: str,
    *,
    severity: Severity | None = None,
    hashes: HashSet | None = None,
    target: str | None = None,
    fix: Fix | None = None,
    suppressed: bool = False,
    detail: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        rule=rule,
        severity=severity or RULES[rule].severity,
        location=Location(path, line, end),
        project=project,
        version=version,
        message=message,
        kb=RULES[rule].kb,
        hashes=hashes,
        target=target,
        fix=fix,
        suppressed=suppressed,
        detail=detail,
    )


def sample_report() -> Report:
    findings = (
        _f(
            "stale-hash",
            MAIN,
            3,
            5,
            "requests",
            "2.32.3",
            "None of the 1 listed hashes matches a file of requests 2.32.3: "
            "sha256:aaaa… belongs to requests 2.32.2's wheel: the version was bumped "
            "without regenerating hashes. pip fails with THESE PACKAGES DO NOT MATCH THE "
            "HASHES FROM THE REQUIREMENTS FILE.",
            hashes=HashSet(listed=(OLD,), expected=(NEW_SDIST, NEW_WHEEL)),
            fix=SetHashes(Location(MAIN, 3, 5), "requests==2.32.3 \\\n", (NEW_SDIST, NEW_WHEEL)),
        ),
        _f(
            "foreign-hash",
            MAIN,
            6,
            9,
            "idna",
            "3.7",
            "1 of 2 listed hashes matches nothing idna 3.7 publishes.",
            hashes=HashSet(listed=(ALIEN, NEW_WHEEL), expected=(NEW_WHEEL,)),
        ),
        _f(
            "uncovered-target",
            MAIN,
            10,
            12,
            "cryptography",
            "43.0.1",
            f"On {MAC} pip picks cryptography-43.0.1-cp39-abi3-macosx_10_9_universal2.whl, "
            "whose hash is not listed.",
            hashes=HashSet(listed=(NEW_WHEEL,), expected=(NEW_SDIST,)),
            target=MAC,
            detail=(f"add --hash={NEW_SDIST}",),
        ),
        _f(
            "no-installable-file",
            MAIN,
            13,
            14,
            "pywin32",
            "306",
            f"pywin32 306 publishes no file pip could install on {LINUX}.",
            target=LINUX,
        ),
        _f(
            "fallback-target",
            MAIN,
            15,
            16,
            "pyyaml",
            "6.0.2",
            "pip would skip the unhashed wheel and build the sdist instead.",
            target=LINUX,
            fix=AddHashes(Location(MAIN, 15, 16), "pyyaml==6.0.2 \\\n", (NEW_WHEEL,)),
        ),
        _f("missing-hash", MAIN, 17, 17, "six", "1.16.0", "six==1.16.0 has no --hash."),
        _f("unpinned", DEV, 2, 3, "pytest", None, "pytest>=8 is not pinned with ==."),
        _f("unhashable", DEV, 4, 4, None, None, "-e ./local is editable: it cannot be hashed."),
        _f(
            "invalid-hash",
            DEV,
            5,
            6,
            "attrs",
            "24.2.0",
            "--hash=md5:0123 uses md5: pip accepts sha256, sha384, sha512.",
        ),
        _f(
            "missing-dependency",
            DEV,
            7,
            9,
            "httpx",
            "0.27.2",
            "httpx 0.27.2 needs sniffio, which is not pinned.",
            target=LINUX,
            fix=PinDependency("sniffio", ((">=1.1", "httpx 0.27.2"),), None, "httpx", DEV),
        ),
        _f("unknown-project", DEV, 10, 11, "no-such-thing", "1.0", "The index has no project."),
        _f("unknown-version", DEV, 12, 13, "packaging", "99.0", "packaging has no 99.0."),
        _f(
            "yanked",
            DEV,
            14,
            15,
            "urllib3",
            "2.0.0",
            "urllib3 2.0.0 is yanked: Broken on Python 3.7",
        ),
        _f(
            "duplicate",
            DEV,
            16,
            17,
            "idna",
            "3.6",
            "idna is pinned to 3.6 here and to 3.7 in requirements.txt line 6.",
        ),
        _f(
            "insecure-index",
            ODD,
            1,
            1,
            None,
            None,
            "--index-url http://example.invalid/simple is not https.",
        ),
        _f("parse-error", ODD, 2, 2, None, None, TRICKY_MESSAGE),
        _f("include-error", ODD, 3, 3, None, None, "-r missing.txt: no such file."),
        _f(
            "unverifiable",
            ODD,
            4,
            5,
            "Weird|Name",
            "1.0",
            "sha512 hashes cannot be confirmed without downloading.",
        ),
        _f(
            "yanked",
            ODD,
            6,
            6,
            "old",
            "0.1",
            "old 0.1 is yanked, and this line says to ignore it.",
            suppressed=True,
        ),
    )
    unverified = (
        Unverified(Location(DEV, 18, 19), "rich", "13.9.2", "the index answered 503: try again"),
        Unverified(Location(MAIN, 20, 20), "click", None, "offline, nothing cached"),
    )
    return Report(
        findings=findings,
        unverified=unverified,
        files=(MAIN, DEV, ODD),
        requirements_checked=21,
        targets=(LINUX, MAC),
        indexes=(
            IndexUse("https://pypi.org/simple", None),
            IndexUse("http://example.invalid/simple", Location(ODD, 1, 1)),
        ),
        index_errors=("https://mirror.invalid/simple: could not be asked (2 questions failed)",),
    )


def clean_report() -> Report:
    return Report(findings=(), files=(MAIN,), requirements_checked=4, targets=())


def assert_snapshot(name: str, text: str) -> None:
    """Compare with tests/snapshots/<name>; `UPDATE_SNAPSHOTS=1` rewrites the file instead."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to create it"
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{name} differs from its snapshot; UPDATE_SNAPSHOTS=1 rewrites it"
