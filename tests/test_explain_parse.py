"""Reading pip's output as people paste it: the pure parser and the fix-line helpers.

Besides the recorded logs (test_explain_logs.py), these logs are built from pip's message
formats as its source has printed them since 20.0 (`HashError` subclasses in
pip/_internal/exceptions.py, `InstallRequirement.__str__` in req/req_install.py, the
resolver's "Could not find a version" in resolution/resolvelib/factory.py, which pip 26 words
"Could not find a final version" when pre-releases are excluded), wrapped the ways CI systems
and terminals wrap them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from reqhash_check.explain import logparse, logtext
from reqhash_check.explain.fixlines import (
    hash_lines,
    is_lock_file,
    pinned_requirement,
    target_for_wheel,
)
from reqhash_check.explain.logparse import (
    Failure,
    FailureKind,
    LogTooLarge,
    clean,
    decode_log,
    parse_log,
)
from reqhash_check.targets import parse_target_name

PIPLOGS = Path(__file__).parent / "data" / "piplogs"
A, B, C, D = "a" * 64, "b" * 64, "c" * 64, "d" * 64
HEAD = (
    "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have "
    "updated the package versions, please update the hashes. Otherwise, examine the package "
    "contents carefully; someone may have tampered with them."
)
MISSING_HEAD = (
    "ERROR: Hashes are required in --require-hashes mode, but they are missing from some "
    "requirements. Here is a list of those requirements along with the hashes their "
    "downloaded archives actually had. Add lines like these to your requirements files to "
    "prevent tampering. (If you did not enable --require-hashes manually, note that it turns "
    "on automatically when any package has a hash.)"
)


def mismatch_block(
    requirement: str = "demo==1.0",
    url: str = "https://files.example/packages/demo-1.0-py3-none-any.whl",
    comes_from: str = "-r requirements.txt (line 1)",
    expected: tuple[str, ...] = (A,),
    got: str = B,
    algorithm: str = "sha256",
) -> list[str]:
    """pip's HashMismatch body: `    req from url (from …):`, Expected/or lines, Got, blank."""
    lines = [f"    {requirement} from {url} (from {comes_from}):"]
    lines.append(f"        Expected {algorithm} {expected[0]}")
    lines += [f"        Expected     or {value}" for value in expected[1:]]
    lines += [f"             Got        {got}", ""]
    return lines


def only(text: str) -> Failure:
    parsed = parse_log(text, "log")
    assert parsed.unparsed == ()
    (failure,) = parsed.failures
    return failure


def plain_failures(path: Path) -> tuple[Failure, ...]:
    return parse_log(decode_log(path.read_bytes()), "log").failures


# --------------------------------------------------------------------------- wrappers


def test_github_actions_raw_log_with_timestamps_error_marker_and_crlf() -> None:
    source = PIPLOGS / "pip-26.3" / "mismatch.log"
    lines = source.read_text().splitlines()
    wrapped = []
    for number, line in enumerate(lines):
        stamp = f"2026-11-25T10:00:{number:02d}.1234567Z "
        marker = "##[error]" if line.startswith("ERROR:") else ""
        wrapped.append(stamp + marker + line)
    data = ("\r\n".join(wrapped) + "\r\n").encode()
    assert parse_log(decode_log(data), "log").failures == plain_failures(source)


def test_docker_buildkit_prefixes() -> None:
    source = PIPLOGS / "pip-23.0" / "mismatch.log"
    wrapped = "\n".join(
        f"#12 {n / 10:.3f} {line}" for n, line in enumerate(source.read_text().splitlines())
    )
    assert parse_log(wrapped, "log").failures == plain_failures(source)


def test_pip_log_file_with_its_own_timestamps_and_traceback_reads_once() -> None:
    failures = plain_failures(PIPLOGS / "pip-26.3" / "mismatch.pip-log")
    assert [(f.project, f.version) for f in failures] == [("demo", "1.0")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_windows_encodings_with_a_bom(encoding: str) -> None:
    source = PIPLOGS / "pip-25.0.1" / "mismatch.log"
    data = source.read_text().replace("\n", "\r\n").encode(encoding)
    assert parse_log(decode_log(data), "log").failures == plain_failures(source)


def test_colours_per_line_and_around_the_message() -> None:
    for pip in ("20.0.2", "26.3"):
        tty = plain_failures(PIPLOGS / f"pip-{pip}" / "mismatch.tty.log")
        plain = plain_failures(PIPLOGS / f"pip-{pip}" / "mismatch.log")
        assert [(f.project, f.groups) for f in tty] == [(f.project, f.groups) for f in plain]


def test_progress_bar_redraws_with_carriage_returns() -> None:
    text = "\n".join(
        [
            "Collecting demo==1.0",
            "  Downloading demo-1.0-py3-none-any.whl (920 kB)\r  |█▌ | 10 kB\r  |██| 920 kB",
            HEAD,
            *mismatch_block(),
        ]
    )
    assert only(text).groups[0].got == B


def test_log_pasted_twice_gives_one_failure() -> None:
    block = "\n".join([HEAD, *mismatch_block()])
    assert len(parse_log(block + "\n" + block, "log").failures) == 1


# --------------------------------------------------------------------------- pip's wordings


def test_expected_or_lines_in_both_layouts() -> None:
    """pip prints `Expected     or X`; its docstring (and hand-tidied pastes) `or X`."""
    lines = mismatch_block(expected=(A, C))
    lines.insert(3, f"                 or {D}")
    failure = only("\n".join([HEAD, *lines]))
    assert failure.groups[0].expected == (A, C, D)


def test_several_algorithms_each_with_its_got_line() -> None:
    sha512_expected, sha512_got = "e" * 128, "f" * 128
    lines = mismatch_block()
    lines += [
        f"        Expected sha512 {sha512_expected}",
        f"             Got        {sha512_got}",
        "",
    ]
    failure = only("\n".join([HEAD, *lines]))
    assert [(g.algorithm, g.got) for g in failure.groups] == [("sha256", B), ("sha512", sha512_got)]
    assert failure.sha256_got == B
    assert failure.expected == (f"sha256:{A}", f"sha512:{sha512_expected}")


def test_requirement_with_extras_and_marker_keeps_them() -> None:
    failure = only(
        "\n".join([HEAD, *mismatch_block(requirement='Demo[fast]==1.0; python_version >= "3.8"')])
    )
    assert (failure.project, failure.version, failure.pinned) == ("demo", "1.0", True)
    assert failure.requirement == 'Demo[fast]==1.0; python_version >= "3.8"'


def test_url_fragment_relative_url_and_credentials() -> None:
    relative = only(
        "\n".join([HEAD, *mismatch_block(url=f"../../files/demo-1.0.tar.gz#sha256={C}")])
    )
    assert (relative.filename, relative.page_sha256, relative.url) == (
        "demo-1.0.tar.gz",
        C,
        "../../files/demo-1.0.tar.gz",
    )
    private = only(
        "\n".join(
            [HEAD, *mismatch_block(url="https://ci:****@pkgs.example/demo-1.0-py3-none-any.whl")]
        )
    )
    assert private.url == "https://pkgs.example/demo-1.0-py3-none-any.whl"


@pytest.mark.parametrize(
    ("comes_from", "where"),
    [
        ("-r requirements.txt (line 3)", ("requirements.txt", 3, None)),
        ("-c constraints.txt (line 2)", ("constraints.txt", 2, None)),
        (r"-r C:\work\req s.txt (line 4)", (r"C:\work\req s.txt", 4, None)),
        ("parent==1.0->-r requirements.txt (line 1)", ("requirements.txt", 1, "parent==1.0")),
        ("b==2.0->a==1.0->-r r.txt (line 7)", ("r.txt", 7, "b==2.0")),
        ("path/pylock.toml", ("path/pylock.toml", None, None)),
    ],
)
def test_where_the_requirement_comes_from(
    comes_from: str, where: tuple[str, int | None, str | None]
) -> None:
    failure = only("\n".join([HEAD, *mismatch_block(comes_from=comes_from)]))
    assert (failure.requirements_file, failure.line, failure.via) == where


def test_version_comes_from_the_downloaded_file_when_not_pinned() -> None:
    failure = only(
        "\n".join(
            [
                HEAD,
                *mismatch_block(
                    requirement="demo>=1",
                    url="https://files.example/demo-1.4.2-cp312-cp312-win_amd64.whl",
                ),
            ]
        )
    )
    assert (failure.version, failure.pinned, failure.filename) == (
        "1.4.2",
        False,
        "demo-1.4.2-cp312-cp312-win_amd64.whl",
    )


def test_missing_hash_items_named_and_by_url() -> None:
    text = "\n".join(
        [
            MISSING_HEAD,
            f"    demo==1.0 --hash=sha256:{A}",
            f"    https://files.example/other-2.0.tar.gz --hash=sha256:{B}",
            f"    idna<4,>=2.5 --hash=sha256:{C}",
        ]
    )
    failures = parse_log(text, "log").failures
    assert [(f.kind, f.project, f.version, f.got) for f in failures] == [
        (FailureKind.MISSING, "demo", "1.0", f"sha256:{A}"),
        (FailureKind.MISSING, "other", "2.0", f"sha256:{B}"),
        (FailureKind.MISSING, "idna", None, f"sha256:{C}"),
    ]


def test_a_named_url_requirement_loses_its_userinfo_whatever_it_holds() -> None:
    """pip redacts the password, but a log is untrusted: the userinfo is dropped whole."""
    text = "\n".join(
        [
            MISSING_HEAD,
            f"    other @ https://ci:pa ss@w0rd@files.example/other-2.0.tar.gz --hash=sha256:{B}",
        ]
    )
    (failure,) = parse_log(text, "log").failures
    assert failure.url == "other @ https://files.example/other-2.0.tar.gz"


def test_missing_hash_finds_its_file_in_pips_collecting_line() -> None:
    text = "\n".join(
        [
            "Collecting dep==1.5 (from other==2.0->-r reqs/base.txt (line 9))",
            MISSING_HEAD,
            f"    dep==1.5 --hash=sha256:{A}",
        ]
    )
    failure = only(text)
    assert (failure.requirements_file, failure.line, failure.via) == (
        "reqs/base.txt",
        9,
        "other==2.0",
    )


@pytest.mark.parametrize(
    ("line", "versions", "ignored"),
    [
        (
            "ERROR: Could not find a version that satisfies the requirement demo==3.0 "
            "(from versions: 1.0, 1.1)",
            ("1.0", "1.1"),
            (),
        ),
        (
            "ERROR: Could not find a final version that satisfies the requirement demo==3.0 "
            "(from versions: none)",
            (),
            (),
        ),
        ("ERROR: No matching distribution found for demo==3.0", None, ()),
    ],
)
def test_could_not_find_wordings(
    line: str, versions: tuple[str, ...] | None, ignored: tuple[str, ...]
) -> None:
    failure = only(line)
    assert (failure.kind, failure.project, failure.version) == (
        FailureKind.NOT_FOUND,
        "demo",
        "3.0",
    )
    assert failure.versions == versions


def test_could_not_find_with_a_parent_names_it() -> None:
    failure = only(
        "ERROR: Could not find a version that satisfies the requirement child>=9 (from parent) "
        "(from versions: 1.5)"
    )
    assert (failure.project, failure.version, failure.via) == ("child", None, "parent")


def test_pip_version_from_its_notices() -> None:
    assert (
        parse_log("[notice] A new release of pip is available: 23.0 -> 26.3\n").pip_version
        == "23.0"
    )
    assert parse_log("WARNING: You are using pip version 20.0.2; however").pip_version == "20.0.2"


def test_looking_in_indexes_is_kept_without_credentials() -> None:
    parsed = parse_log(
        "Looking in indexes: https://user:****@pkgs.example/simple, https://pypi.org/simple\n"
    )
    assert parsed.indexes == ("https://pkgs.example/simple", "https://pypi.org/simple")


# --------------------------------------------------------------------------- untrusted input


def test_truncated_or_malformed_hash_lines_are_unparsed_not_guessed() -> None:
    lines = [
        "    demo==1.0 from https://x/demo-1.0-py3-none-any.whl (from -r r.txt (line 1)):",
        f"        Expected sha256 {A[:40]}",
        f"             Got        {B}",
        "",
    ]
    parsed = parse_log("\n".join([HEAD, *lines]), "log")
    assert parsed.failures == ()
    assert sorted(u.line for u in parsed.unparsed) == [2, 3, 4]


def test_control_characters_and_workflow_commands_in_the_log_are_escaped() -> None:
    evil_path = "::error file=x::pwned\x1b]8;;https://evil\x07\u202e.txt"
    text = "\n".join([HEAD, *mismatch_block(comes_from=f"-r {evil_path} (line 1)")])
    failure = only(text)
    assert failure.requirements_file is not None
    assert failure.requirements_file.startswith("\\:\\:error")
    assert "\x1b" not in failure.requirements_file
    assert "\u202e" not in failure.requirements_file
    assert "\\u202e" in failure.requirements_file


def test_clean() -> None:
    assert clean("ok text") == "ok text"
    assert clean("a\nb\r\x00\x85\u2028") == "a\\x0ab\\x0d\\x00\\x85\\u2028"
    assert clean("  ::set-output name=x::y") == "  \\:\\:set-output name=x::y"
    assert clean("\ufeffx") == "\\ufeffx"


def test_invalid_names_and_versions_never_become_lookups() -> None:
    failure = only(
        "\n".join(
            [
                HEAD,
                *mismatch_block(
                    requirement="../../etc/passwd==1.0",
                    url="https://x/..%2F..%2Fetc-1.0.tar.gz",
                ),
            ]
        )
    )
    assert failure.project is None


def test_size_and_line_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logtext, "MAX_LOG_BYTES", 1000)
    with pytest.raises(LogTooLarge):
        decode_log(b"x" * 1001)
    long_line = "    " + "x" * (logtext.MAX_LINE_CHARS * 3) + ":"
    parsed = parse_log("\n".join([HEAD, long_line, *mismatch_block()]), "log")
    assert len(parsed.failures) == 1
    assert all(len(u.text) <= logtext.MAX_LINE_CHARS * 5 for u in parsed.unparsed)


def test_failures_per_log_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logparse, "MAX_FAILURES", 3)
    lines = [HEAD]
    for n in range(10):
        lines += mismatch_block(requirement=f"p{n}==1.0", url=f"https://x/p{n}-1.0.tar.gz")
    parsed = parse_log("\n".join(lines), "log")
    assert len(parsed.failures) == 3 and parsed.truncated


def test_garbage_never_raises() -> None:
    """Mangled copies of every recorded log: cut, shuffled, spliced with noise."""
    rng = random.Random(20261125)
    sources = [p.read_text(errors="replace") for p in sorted(PIPLOGS.glob("pip-*/*"))]
    noise = ["\x00\x1b[", "Expected", "Got", "    or", " from ", " (from ", ":", "\r", "\u2028"]
    for _ in range(300):
        text = rng.choice(sources)
        lines = text.splitlines()
        operation = rng.randrange(4)
        if operation == 0:
            start = rng.randrange(len(lines) or 1)
            lines = lines[start : start + rng.randrange(1, 12)]
        elif operation == 1:
            rng.shuffle(lines)
        elif operation == 2:
            lines = [line[: rng.randrange(len(line) + 1)] for line in lines]
        else:
            lines = [line + rng.choice(noise) * rng.randrange(3) for line in lines]
        parsed = parse_log("\n".join(lines), "fuzz")
        for failure in parsed.failures:
            for value in (*failure.expected, *failure.got_hashes):
                algorithm, _, digest = value.partition(":")
                assert len(digest) == logparse.HASH_LENGTHS[algorithm]
                assert set(digest) <= set("0123456789abcdef")


def test_pip_free_text() -> None:
    parsed = parse_log("Successfully installed demo-1.0\n\nall good\n", "log")
    assert parsed.failures == () and parsed.unparsed == ()


# --------------------------------------------------------------------------- fix lines


@pytest.mark.parametrize(
    ("filename", "target"),
    [
        (
            "x-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "linux-x86_64-glibc2.17-cp312",
        ),
        ("x-1.0-cp311-cp311-manylinux_2_28_aarch64.whl", "linux-aarch64-glibc2.28-cp311"),
        ("x-1.0-cp310-cp310-manylinux1_x86_64.whl", "linux-x86_64-glibc2.5-cp310"),
        ("x-1.0-cp312-cp312-musllinux_1_2_x86_64.whl", "linux-x86_64-musl1.2-cp312"),
        ("x-1.0-cp311-cp311-macosx_11_0_arm64.whl", "macos-arm64-11-cp311"),
        ("x-1.0-cp39-cp39-macosx_10_9_x86_64.whl", "macos-x86_64-10.9-cp39"),
        ("x-1.0-cp38-abi3-macosx_10_9_universal2.whl", "macos-arm64-11-cp38"),
        ("x-1.0-cp310-cp310-win_amd64.whl", "windows-amd64-cp310"),
        ("x-1.0-cp310-cp310-win32.whl", "windows-x86-cp310"),
        ("x-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl", "linux-x86_64-glibc2.17-pp310"),
        ("x-1.0-py3-none-any.whl", None),
        ("x-1.0.tar.gz", None),
        ("not a wheel.whl", None),
    ],
)
def test_target_from_the_wheel_pip_chose(filename: str, target: str | None) -> None:
    assert target_for_wheel(filename, (3, 12)) == target
    if target is not None:  # the suggested host really takes this wheel
        tags = set(parse_target_name(target).tags)
        from packaging.utils import parse_wheel_filename

        assert tags & set(parse_wheel_filename(filename)[3])


def test_target_for_a_wheel_without_a_python_uses_the_fallback() -> None:
    assert target_for_wheel("x-1.0-py3-none-win_amd64.whl", (3, 11)) == "windows-amd64-cp311"


def test_hash_lines_and_requirement_text() -> None:
    assert hash_lines("demo==1.0", ["sha256:" + A, "sha256:" + B]) == (
        "demo==1.0 \\",
        f"    --hash=sha256:{A} \\",
        f"    --hash=sha256:{B}",
    )
    assert pinned_requirement('Demo[b,a]>=1; python_version >= "3"', "demo", "1.2") == (
        'Demo[a,b]==1.2 ; python_version >= "3"'
    )
    assert pinned_requirement("not a requirement!", "demo", "1.2") == "demo==1.2"
    assert is_lock_file("sub/pylock.toml") and is_lock_file(r"C:\x\pylock.dev.toml")
    assert not is_lock_file("pyproject.toml") and not is_lock_file(None)
