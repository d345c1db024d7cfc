"""An outside team's hostile suite, rerun through the real command line only.

Each test is an attack on one promise of docs/security.md: the checked tree configuring its
own trust, paths escaping the repository, secrets leaving in a transformed form, and bad
input of every kind. A test that passes is a regression test for the promise it names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hostile import HostileIndex
from tests.security.conftest import FORMATS, SECRET, Run, pinned, run

OUTSIDE = "outside-content-7d1e"


@pytest.fixture(autouse=True)
def _no_pip_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def _clean(result: Run, code: int | None = None) -> None:
    """No traceback, no internal error, no workflow command, no raw control character."""
    both = result.out + result.err
    assert "Traceback" not in both and "internal error" not in both, both
    for line in re.split(r"\r|\n", both):
        stripped = line.lstrip()
        assert not stripped.startswith("##["), line
    for line in re.split(r"\r|\n", result.err):
        assert not line.lstrip().startswith("::"), line
    assert not re.search(
        "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029\u202a-\u202e\u2066-\u2069]", both
    ), both
    if code is not None:
        assert result.code == code, (result.code, both)


def _one_line_error(result: Run, code: int = 2) -> None:
    _clean(result, code)
    assert len(result.err.strip().splitlines()) == 1, result.err


def _outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir(exist_ok=True)
    (folder / "secret.txt").write_text(f"{OUTSIDE}==1.0\n")
    return folder


# --- 9. bad input: every option value -------------------------------------------------


BAD_OPTIONS = [
    ["--target", "no-such-target"],
    ["--target", ""],
    ["--platform", ""],
    ["--platform", "a\nb"],
    ["--python-version", "abc"],
    ["--python-version", "3"],
    ["--python-version", "99999999999999999999999.1"],
    ["--python-version", ""],
    ["--pip-version", "x.y"],
    ["--pip-version", ""],
    ["--pip-version", "999999999999999999999999"],
    ["--timeout", "-1"],
    ["--timeout", "0"],
    ["--timeout", "nan"],
    ["--timeout", "inf"],
    ["--timeout", "1e400"],
    ["--timeout", "abc"],
    ["--concurrency", "0"],
    ["--concurrency", "-3"],
    ["--concurrency", "10000000000"],
    ["--concurrency", "x"],
    ["--categories", ""],
    ["--categories", "_meta"],
    ["--categories", "a\nb"],
    ["--max-download-size", "-1"],
    ["--max-download-size", "0"],
    ["--max-download-size", "99999999999999999999999999"],
    ["--max-download-size", "x"],
    ["--select", "NOPE"],
    ["--select", ""],
    ["--select", "\u202e::error::x"],
    ["--ignore", "NOPE"],
    ["--format", "nope"],
    ["--format", ""],
    ["--implementation", "zz"],
    ["--abi", ""],
    ["--only-binary", "a\nb"],
    ["--allow-index", ""],
    ["--allow-index", "::error::x"],
    ["--index-url", "::error::x"],
    ["--index-url", "ftp://x/"],
    ["--index-url", "http://[::1"],
    ["--index-url", "http://h:99999/"],
    ["--find-links", "http://[bad"],
    ["--explain", "nope\n::error::x"],
]


@pytest.mark.parametrize("option", BAD_OPTIONS, ids=lambda o: repr(o))
def test_a_bad_option_value_is_one_line_and_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    """Promise: no-tracebacks. Each bad value is one line on stderr and exit 2."""
    (repo / "r.txt").write_text(pinned())
    result = run(capsys, "--offline", *option, "r.txt")
    if result.code in (0, 1, 3):
        _clean(result)  # an accepted value: at least no traceback and no command
        return
    _one_line_error(result)


def test_output_to_a_folder_or_an_unwritable_path_is_one_line(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-tracebacks."""
    (repo / "r.txt").write_text(pinned())
    (repo / "folder").mkdir()
    for target in (
        "folder",
        "no/such/dir/x.txt",
        "",
        "/dev/full",
        "/proc/self/environ",
        "x\n::error::y/z",
        "\u2028::error::y/z",
    ):
        for flag in ("--output", "--sarif-output"):
            result = run(capsys, "--offline", flag, target, "r.txt")
            _one_line_error(result)
            if "/dev/" not in target and "/proc/" not in target:
                assert result.err.startswith(f"reqhash-check: error: {flag} "), result.err


def test_a_cache_dir_that_is_a_file_or_unusable_is_one_line_or_no_cache(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], hostile: HostileIndex
) -> None:
    """Promise: no-tracebacks."""
    (repo / "r.txt").write_text(pinned())
    afile = tmp_path / "afile"
    afile.write_text("x")
    for target in (str(afile), str(afile / "sub"), "/dev/null", "/proc/self"):
        result = run(capsys, "--index-url", hostile.simple_url, "--cache-dir", target, "r.txt")
        if result.code == 2:
            _one_line_error(result)
        else:
            _clean(result, 0)
    assert afile.read_text() == "x"


def test_a_location_whose_host_does_not_parse_is_no_internal_error(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-tracebacks. `http://[::1` (an unclosed bracket) or a port past 65535,
    from any origin: a file's option or the tree's configuration is an index failure, the
    environment's too, the command line's a usage error; never an internal error, and a
    password in it is never shown."""
    password = "pw-" + SECRET
    for bad in ("http://[::1/simple", f"https://u:{password}@[::1/simple", "http://h:99999/"):
        (repo / "r.txt").write_text(f"--extra-index-url {bad}\n" + pinned())
        good = ["--index-url", hostile.simple_url]
        for args in (
            [*good, "r.txt"],
            [*good, "--find-links", bad, "r.txt"],
            ["--index-url", bad, "r.txt"],
        ):
            for fmt in FORMATS:
                result = run(capsys, "--no-cache", "--format", fmt, *args)
                _clean(result)
                assert result.code in (2, 3), result
                assert password not in result.out + result.err
        (repo / "r.txt").write_text(pinned())
        (repo / "pyproject.toml").write_text(f'[tool.reqhash-check]\nindex-url = "{bad}"\n')
        result = run(capsys, "--no-cache", "r.txt")
        _clean(result, 3)
        assert password not in result.out + result.err
        (repo / "pyproject.toml").unlink()
        monkeypatch.setenv("PIP_INDEX_URL", bad)
        result = run(capsys, "--no-cache", "r.txt")
        _clean(result, 3)
        assert password not in result.out + result.err
        monkeypatch.delenv("PIP_INDEX_URL")


# --- 2. paths escaping --------------------------------------------------------------------


def _no_outside(result: Run) -> None:
    both = result.out + result.err
    assert OUTSIDE not in both and SECRET not in both, both


INCLUDES = [
    "-r ../outside/secret.txt",
    "-c ../outside/secret.txt",
    "-r file://{outside}/secret.txt",
    "-r file://localhost{outside}/secret.txt",
    "-r {outside}/secret.txt",
    "-r sub/../../outside/secret.txt",
    "-r .git/config",
    "-r ./.git/config",
    "-r sub/../.git/config",
    "-r .git//config",
    "-r %2Egit/config",
    "-r file:.git/config",
    "-r .GIT/config",
    "-r .Git/config",
    "-r /proc/self/environ",
    "-r /dev/zero",
    "-r /dev/stdin",
    "-r /proc/self/fd/0",
    "-r fifo",
    "-r link-out",
    "-r chain-a",
    "-r dir-out/secret.txt",
    "-r rel-dir-out/secret.txt",
    "-r gitlink/config",
    "-r git-file-link",
    "-c git-file-link",
]


@pytest.mark.parametrize("include", INCLUDES)
def test_an_include_escaping_the_repository_reads_nothing(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    include: str,
) -> None:
    """Promise: no-reads-outside and no-leak (other files). Every way out (relative,
    absolute, `file://`, `..` through a folder, `.git/` in any spelling, a FIFO, a device,
    `/proc`, a symlink to a file or a folder, absolute or relative, a chain) reads nothing:
    no name of the outside file, no secret of `.git/config`, in any format, and no hang."""
    outside = _outside(tmp_path)
    (repo / "sub").mkdir()
    os.mkfifo(repo / "fifo")
    (repo / "link-out").symlink_to(outside / "secret.txt")
    (repo / "chain-a").symlink_to("chain-b")
    (repo / "chain-b").symlink_to("sub/chain-c")
    (repo / "sub" / "chain-c").symlink_to("../../outside/secret.txt")
    (repo / "dir-out").symlink_to(outside)
    (repo / "rel-dir-out").symlink_to("../outside")
    (repo / "gitlink").symlink_to(".git")
    (repo / "git-file-link").symlink_to(repo / ".git" / "config")
    (repo / ".git" / "config").write_text(
        (repo / ".git" / "config").read_text() + f"{SECRET}==1.0\n"
    )
    (repo / "r.txt").write_text(include.format(outside=outside) + "\n" + pinned())
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "r.txt")
        _clean(result)
        _no_outside(result)
        assert result.code in (1, 2), (include, result)
    assert not any(OUTSIDE in path or SECRET in path for path, _ in hostile.requests)


@pytest.mark.parametrize("argument", [".", "sub", "sub/", "./sub/../sub"])
def test_discovery_under_a_folder_argument_reads_nothing_outside(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    argument: str,
) -> None:
    """Promise: no-reads-outside. A folder named on the command line is searched as
    discovery is: a requirements file linked out, into `.git/`, a FIFO and a folder linked
    out are refused, never read, never hang."""
    outside = _outside(tmp_path)
    sub = repo / "sub"
    (sub / "requirements").mkdir(parents=True)
    (sub / "requirements.txt").write_text(pinned())
    (sub / "requirements-out.txt").symlink_to(outside / "secret.txt")
    (sub / "requirements-git.txt").symlink_to("../.git/config")
    os.mkfifo(sub / "requirements-fifo.txt")
    (sub / "requirements" / "dev.txt").symlink_to(outside / "secret.txt")
    (sub / "pylock.toml").symlink_to(outside / "secret.txt")
    (sub / "Pipfile.lock").symlink_to("/dev/zero")
    (repo / "requirements.txt").write_text(pinned())
    (repo / "requirements-dir").symlink_to(outside)
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, argument)
        _clean(result)
        _no_outside(result)
        # "." finds only its own requirements.txt (discovery does not walk into sub/)
        assert result.code == (0 if argument == "." else 2), result


@pytest.mark.parametrize(
    "name", ["requirements.txt", "pylock.toml", "Pipfile.lock", "requirements/base.txt"]
)
def test_discovery_with_no_file_refuses_what_leads_out(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    """Promise: no-reads-outside. Discovery (no FILE) of each kind of file as a symlink out
    of the repository, into `.git/`, as a FIFO and as a device reads nothing."""
    outside = _outside(tmp_path)
    (repo / "requirements").mkdir()
    for target in (outside / "secret.txt", repo / ".git" / "config", Path("/dev/zero")):
        (repo / name).unlink(missing_ok=True)
        (repo / name).symlink_to(target)
        result = run(capsys, "--index-url", hostile.simple_url, "--format", "json")
        _clean(result)
        _no_outside(result)
        assert result.code == 2, result
    (repo / name).unlink()
    os.mkfifo(repo / name)
    result = run(capsys, "--index-url", hostile.simple_url)
    _clean(result, 2)


def test_a_find_links_or_file_index_leading_out_reads_nothing(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: no-reads-outside. Find-links folders and pages, and `file://` indexes a file
    names: outside, through a symlinked folder, `..`, and a local page whose links name a
    file outside. None is read (the outside wheel's bytes would make its hash match)."""
    outside = _outside(tmp_path)
    wheel = outside / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"outside wheel bytes")
    import hashlib

    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (outside / "simple" / "demo").mkdir(parents=True)
    (outside / "simple" / "demo" / "index.html").write_text(
        f'<a href="file://{wheel}">demo-1.0-py3-none-any.whl</a>'
    )
    (repo / "out").symlink_to(outside)
    (repo / "page.html").write_text(
        f'<a href="file://{wheel}">demo-1.0-py3-none-any.whl</a>\n'
        f'<a href="out/demo-1.0-py3-none-any.whl">demo-1.0-py3-none-any.whl</a>\n'
        f'<a href="../outside/demo-1.0-py3-none-any.whl">demo-1.0-py3-none-any.whl</a>\n'
    )
    for option in (
        f"--find-links {outside}",
        f"--find-links file://{outside}",
        "--find-links ../outside",
        "--find-links out",
        "--find-links ./out/",
        "--find-links page.html",
        "--find-links file:page.html",
        f"--index-url file://{outside}/simple",
        "--index-url out/simple",
        "--extra-index-url file:out/simple",
        "-f out",
        "--find-links=out",
    ):
        (repo / "r.txt").write_text(f"{option}\n" + pinned(digest=digest))
        result = run(
            capsys, "--no-cache", "--index-url", hostile.simple_url, "--format", "json", "r.txt"
        )
        _clean(result)
        json.loads(result.out)
        # no link states a hash: only reading the outside wheel could confirm the pin
        assert result.code == 3 or "unverifiable" in result.out, (option, result)
        _no_outside(result)


STALE = "cd" * 32


@pytest.mark.parametrize("how", ["include-symlink", "include-path", "hard-link", "named-link"])
def test_fix_and_diff_write_nothing_outside_whatever_is_allowed(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    """Promise: no-writes-outside. An included file that lies outside (through a symlink or
    a `..` path, read because `--allow-outside-includes` says so), a hard link to a file
    outside, and a named file linked out: `--fix` and `--diff` leave the outside file as it
    was, and `--diff` writes nothing at all."""
    outside = _outside(tmp_path)
    target = outside / "pins.txt"
    target.write_text(pinned(digest=STALE))
    if how == "include-symlink":
        (repo / "inc.txt").symlink_to(target)
        (repo / "r.txt").write_text("-r inc.txt\n")
        name = "r.txt"
    elif how == "include-path":
        (repo / "r.txt").write_text("-r ../outside/pins.txt\n")
        name = "r.txt"
    elif how == "hard-link":
        os.link(target, repo / "r.txt")
        name = "r.txt"
    else:
        (repo / "r.txt").symlink_to(target)
        name = "r.txt"
    for args in (["--diff"], ["--fix", "--diff"], ["--fix"]):
        listing = sorted(p.name for p in outside.iterdir())
        result = run(
            capsys, "--index-url", hostile.simple_url, "--allow-outside-includes", *args, name
        )
        _clean(result)
        assert target.read_text() == pinned(digest=STALE), (how, args)
        assert sorted(p.name for p in outside.iterdir()) == listing


# --- 3. secrets leaving transformed -------------------------------------------------------

VALUE = "Sec_Ret.Val-" + "K8m2Pq7Zr4" * 3
"""Mixed case, separators a project name normalises, longer than a message cuts."""
HEXVALUE = "ABCDEF0123456789" * 4


def _forms(value: str) -> dict[str, str]:
    from urllib.parse import quote

    lower = value.lower()
    normal = re.sub(r"[-_.]+", "-", lower)
    return {
        "as is": value,
        "lower": lower,
        "upper": value.upper(),
        "normalised": normal,
        "underscored": normal.replace("-", "_"),
        "prefix": value[:14],
        "lower prefix": lower[:14],
        "normalised prefix": normal[:14],
        "quoted": quote(value, safe=""),
        "markdown escaped": value.replace("_", "\\_").replace(".", "\\."),
        "tail": value[-14:],
        "lower tail": lower[-14:],
    }


def _leaks(text: str, value: str) -> list[str]:
    return [form for form, shown in _forms(value).items() if shown in text]


TAINTED_LINES = [
    "${V}==1.0 --hash=sha256:{sha}",
    "demo==1.0 --hash=sha256:${H}",
    "demo==1.0 --hash=${H}",
    "demo==1.0 --hash=sha256:{sha} --hash=sha256:${H}",
    "demo[${V}]==1.0 --hash=sha256:{sha}",
    "demo==${V} --hash=sha256:{sha}",
    "demo==1.0.${V} --hash=sha256:{sha}",
    'demo==1.0 ; python_version >= "${V}" --hash=sha256:{sha}',
    "demo==1.0 ; ${V} --hash=sha256:{sha}",
    "demo @ http://127.0.0.1:1/${V}/demo-1.0-py3-none-any.whl --hash=sha256:{sha}",
    "demo @ https://${V}.invalid/demo-1.0-py3-none-any.whl --hash=sha256:{sha}",
    "-r ${V}.txt",
    "-c ${V}/c.txt",
    "-e ${V}",
    "--find-links ${V}",
    "--find-links ./${V}/x",
    "--index-url http://${V}.invalid/simple",
    "--extra-index-url https://u:${V}@example.invalid/simple",
    "--trusted-host ${V}",
    "--only-binary ${V}",
    "--no-binary=${V}",
    "--${V}",
    "--use-feature ${V}",
    "--global-option ${V}",
    "--config-settings ${V}",
    "${V}",
    "./${V}.whl",
    "git+https://example.invalid/${V}.git#egg=demo",
]


@pytest.mark.parametrize("line", TAINTED_LINES)
def test_an_expanded_value_in_any_part_of_a_line_leaves_in_no_form(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    line: str,
) -> None:
    """Promise: no-leak (derived values). `${V}` in a name, extra, version, marker, hash,
    URL, host, include path, find-links path, option value or unknown option: no form of
    the value (cut short, case-folded, normalised, percent-encoded, Markdown-escaped)
    reaches any format, `-v`, `--diff`, `--output`, `$GITHUB_STEP_SUMMARY` or the cache."""
    from tests.hostile import WHEEL_SHA

    monkeypatch.setenv("V", VALUE)
    monkeypatch.setenv("H", HEXVALUE)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    text = line.replace("{sha}", WHEEL_SHA) + "\n" + pinned("other")
    (repo / "r.txt").write_text(text)
    outfile = tmp_path / "report.out"
    for fmt in FORMATS:
        for extra in ([], ["-v"], ["--diff"], ["--output", str(outfile)]):
            result = run(
                capsys, "--index-url", hostile.simple_url, "--format", fmt, *extra, "r.txt"
            )
            _clean(result)
            shown = result.out + result.err
            shown += outfile.read_text() if outfile.exists() else ""
            shown += summary.read_text() if summary.exists() else ""
            for value in (VALUE, HEXVALUE):
                assert not _leaks(shown, value), (fmt, extra, _leaks(shown, value), shown)
    assert (repo / "r.txt").read_text() == text
    cache = "".join(
        p.read_bytes().decode("latin-1") for p in (tmp_path / "cache").rglob("*") if p.is_file()
    )
    for value in (VALUE, HEXVALUE):
        assert not _leaks(cache, value), _leaks(cache, value)


# --- 1. the checked tree configures its own trust ----------------------------------------


@pytest.mark.parametrize(
    "key, items",
    [
        ("target", [f"linux-x86_64-glibc2.{i}-cp312" for i in range(17, 3017)]),
        ("target", ["linux-x86_64-glibc2.28-cp312"] * 3000),
        ("python-version", [f"3.{j}.{i}" for i in range(30) for j in range(8, 14)]),
    ],
    ids=["distinct", "repeated", "versions"],
)
def test_a_tree_listing_thousands_of_targets_is_one_line_at_once(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    key: str,
    items: list[str],
) -> None:
    """Promise: bounded-time (targets). Each target is a pass over every requirement: 3,000
    of them from the tree's configuration kept a run going for minutes."""
    import time

    (repo / "pyproject.toml").write_text(f"[tool.reqhash-check]\n{key} = {json.dumps(items)}\n")
    (repo / "r.txt").write_text(pinned())
    started = time.monotonic()
    result = run(capsys, "--index-url", hostile.simple_url, "r.txt")
    assert time.monotonic() - started < 10
    if key == "target" and len(set(items)) == 1:
        _clean(result, 0)  # a repeated target is one target
    else:
        _one_line_error(result)
        assert "at most 64" in result.err


@pytest.mark.parametrize(
    "table",
    [
        'ignore = ["unlisted-index"]',
        'ignore = ["unlisted-index", "unverifiable", "insecure-index"]',
        'select = ["stale-hash"]',
        'strict = false\nrequire-hashes = false\nignore = ["unlisted-index"]',
    ],
)
def test_the_tree_cannot_silence_an_index_the_command_line_did_not_allow(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    table: str,
) -> None:
    """Promise: visible-index-changes and fail-closed. Whatever rules the tree selects or
    ignores, an index outside `--allow-index` is not contacted and the run does not pass."""
    with HostileIndex() as attacker:
        url = attacker.url.replace("127.0.0.1", "localhost")
        (repo / "pyproject.toml").write_text(f"[tool.reqhash-check]\n{table}\n")
        (repo / "r.txt").write_text(f"--extra-index-url {url}/simple\n" + pinned())
        for fmt in FORMATS:
            result = run(
                capsys,
                "--index-url",
                hostile.simple_url,
                "--allow-index",
                "127.0.0.1",
                "--format",
                fmt,
                "r.txt",
            )
            _clean(result)
            assert result.code in (1, 3), (fmt, result)
        assert not attacker.requests


# --- 9. odd file names and contents -----------------------------------------------------

ODD_NAMES = [
    "requirements\n::error::x.txt",
    "requirements\r::error::x.txt",
    "requirements\u2028::error::x.txt",
    "requirements\x85::error::x.txt",
    "requirements-\u202etxt.exe.txt",
    "requirements-\x1b[31mred.txt",
    "requirements-##[error]x.txt",
    "requirements-" + "a" * 200 + ".txt",
    "requirements-\udcff.txt",
]


@pytest.mark.parametrize("name", ODD_NAMES, ids=lambda n: ascii(n)[:40])
@pytest.mark.parametrize("how", ["named", "discovered", "included", "fixed", "missing"])
def test_an_odd_file_name_cannot_start_a_command_or_a_control(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    name: str,
    how: str,
) -> None:
    """Promise: no-hijack (workflow commands) and no-hijack. A file name with a line break,
    a lone carriage return, a separator, a bidi override, an escape sequence, `##[`, an
    undecodable byte or 200 characters: in every format, named, discovered, included,
    fixed or missing, no line starts a command and no control character is raw."""
    path = repo / name
    digest = STALE if how == "fixed" else None
    if how != "missing":
        path.write_text(pinned(digest=digest) if digest else pinned())
    args: list[str] = []
    if how == "named" or how == "missing":
        args = [name]
    elif how == "included":
        (repo / "r.txt").write_bytes(f"-r {name}\n".encode(errors="surrogateescape"))
        args = ["r.txt"]
    elif how == "fixed":
        args = ["--fix", name]
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, *args)
        _clean(result)
        for line in re.split(r"\r|\n", result.out):
            assert not line.lstrip().startswith("::error::x"), (fmt, line)
        if how == "missing":
            assert result.code == 2
        if how == "fixed":
            path.write_text(pinned(digest=STALE))


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00d\x00e\x00m\x00o",
        b"demo==1.0 \xff\xfe --hash=sha256:" + b"a" * 64 + b"\n",
        b"\xef\xbb\xbf" + b"\x00" * 100,
        b"demo==1.0 --hash=sha256:" + b"a" * 200_000 + b"\n",
        b"demo==1.0 \\\n" * 50_000,
        b"x" * (11 * 1024 * 1024),
        b"-r r.txt\n",
        b"-c r.txt\n-r r.txt\n",
        b"\x1b]0;title\x07::error::x\n",
        b"--hash=sha256:" + b"\xe2\x80\xae" * 10 + b"\n",
    ],
    ids=lambda c: ascii(c[:16]),
)
def test_hostile_file_contents_are_one_line_or_findings(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    """Promise: no-tracebacks and no-hijack. Undecodable, a BOM and NULs, a 200,000
    character line, a continuation 50,000 lines long, past the 10 MiB cap, including
    itself, an escape sequence and a workflow command, bidi controls in a hash."""
    (repo / "r.txt").write_bytes(content)
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "r.txt")
        _clean(result)
        assert result.code in (0, 1, 2), result
        if result.code == 2:
            assert len(result.err.strip().splitlines()) == 1, result.err


def test_includes_nested_past_the_cap_are_one_line(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-tracebacks (and the include nesting bound)."""
    for depth in range(150):
        (repo / f"r{depth}.txt").write_text(f"-r r{depth + 1}.txt\n")
    (repo / "r150.txt").write_text(pinned())
    result = run(capsys, "--index-url", hostile.simple_url, "r0.txt")
    _one_line_error(result)


@pytest.mark.parametrize(
    "table",
    [
        'cache-dir = "{outside}"',
        'allow-index = ["localhost"]',
        'find-links = ["{attacker}/simple"]',
        "no-index = true",
        "allow-outside-includes = true",
        "isolated = true",
        'index_url = "{attacker}/simple"',
        'INDEX-URL = "{attacker}/simple"',
        'extra-index-url = ["file://{outside}"]',
        'extra-index-url = ["{attacker}/simple"]',
    ],
)
@pytest.mark.parametrize(
    "header",
    ["[tool.reqhash-check]\n", '[tool."reqhash-check"]\n', "[tool.reqhash_check]\n"],
)
def test_the_tree_cannot_widen_trust_in_any_spelling(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    table: str,
    header: str,
) -> None:
    """Promise: trust-from-trusted-origins. A trust option in the tree's table (in any
    spelling of the table or the key) is refused or ignored; an index it names is held to
    `--allow-index`; nothing outside is read or written."""
    outside = _outside(tmp_path)
    with HostileIndex() as attacker:
        url = attacker.url.replace("127.0.0.1", "localhost")
        (repo / "pyproject.toml").write_text(
            header + table.format(outside=outside, attacker=url) + "\n"
        )
        (repo / "r.txt").write_text(pinned())
        result = run(
            capsys, "--index-url", hostile.simple_url, "--allow-index", "127.0.0.1", "r.txt"
        )
        _clean(result)
        assert result.code in (0, 2, 3), result
        if result.code == 2:
            assert len(result.err.strip().splitlines()) == 1
        assert not attacker.requests
        assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
        _no_outside(result)


# --- the Action, with the real tool ----------------------------------------------------------


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("encoding", ["utf-8", ""])
def test_the_action_with_undecodable_and_separator_names_and_a_secret(
    tmp_path: Path, hostile: HostileIndex, encoding: str
) -> None:
    """Promise: no-hijack (workflow commands) and no-leak (environment), through
    `action.sh run`: a discovered file named with a byte that is not UTF-8, one with a line
    separator before `::error::`, and a pin built from `${V}`; a strict UTF-8 stdout too."""
    from tests.security.test_bad_input import ACTION, SRC, _action_commands, _fake_tool

    work = tmp_path / "work"
    (work / ".git").mkdir(parents=True)
    (work / "requirements-\udcff.txt").write_text(pinned(digest=STALE))
    (work / "requirements-\u2028::error::x.txt").write_text(pinned())
    (work / "requirements.txt").write_text(
        "${V}==1.0 --hash=sha256:" + STALE + "\n" + pinned("other")
    )
    bin_dir = _fake_tool(tmp_path / "bin", "from reqhash_check.cli import entry\nentry()")
    env = {
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(SRC),
        "HOME": str(tmp_path),
        "GITHUB_ACTION_PATH": str(ACTION.parent.parent),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "REQHASH_CHECK_CACHE_DIR": str(tmp_path / "cache"),
        "PIP_CONFIG_FILE": "/dev/null",
        "V": VALUE,
        "INPUT_ARGS": f"--isolated --index-url {hostile.simple_url}",
        **({"PYTHONIOENCODING": encoding} if encoding else {}),
    }
    result = subprocess.run(
        ["bash", str(ACTION), "run"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=300,
        check=False,
    )
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "internal error" not in text, text
    assert result.returncode == 1, text
    for command in _action_commands(result):
        assert command.startswith(("::error file=", "::warning file=", "::notice")), command
        assert "::error::x" not in command.partition("::")[2].partition("::")[0], command
    summary = (tmp_path / "summary.md").read_bytes().decode("utf-8", "surrogateescape")
    for shown in (text, summary):
        assert not _leaks(shown, VALUE), _leaks(shown, VALUE)
        assert "\u2028" not in shown and "\udcff" not in shown


def test_standard_input_without_end_is_one_line_at_the_cap(repo: Path) -> None:
    """Promise: bounded (standard input). `reqhash-check - < /dev/zero` read standard input
    whole, without end (it ran until the memory ran out); it is held to the 10 MiB cap on a
    requirements file."""
    import sys

    from tests.security.test_bad_input import SRC

    with open("/dev/zero", "rb") as zero:
        result = subprocess.run(
            [sys.executable, "-m", "reqhash_check", "--offline", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "PYTHONPATH": str(SRC)},
        )
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr == (
        "reqhash-check: error: <stdin>: larger than 10 MiB, the cap on a requirements file\n"
    )


@pytest.mark.parametrize(
    "entry",
    [
        'archive = {{ path = "/dev/zero", hashes = {{ sha256 = "{digest}" }} }}',
        'archive = {{ path = "../outside/demo-1.0-py3-none-any.whl", '
        'hashes = {{ sha256 = "{digest}" }} }}',
        'archive = {{ url = "file://{outside}/demo-1.0-py3-none-any.whl", '
        'hashes = {{ sha256 = "{digest}" }} }}',
        'index = "file://{outside}/simple"\nwheels = [{{ name = "demo-1.0-py3-none-any.whl", '
        'url = "file://{outside}/demo-1.0-py3-none-any.whl", '
        'hashes = {{ sha256 = "{digest}" }} }}]',
        'directory = {{ path = "/proc/self" }}',
        'wheels = [{{ name = "demo-1.0-py3-none-any.whl", path = "/dev/zero", '
        'hashes = {{ sha256 = "{digest}" }} }}]',
    ],
)
def test_a_lock_naming_local_files_outside_reads_none(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str
) -> None:
    """Promise: no-reads-outside (lock files). A `pylock.toml` entry whose archive, wheel
    or index is a device, `/proc`, or a file outside the repository: not read (only its
    bytes could confirm the hash), no hang, with `--verify-downloads` and `--fix` too."""
    import hashlib

    outside = _outside(tmp_path)
    wheel = outside / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"outside wheel bytes")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (outside / "simple" / "demo").mkdir(parents=True)
    (outside / "simple" / "demo" / "index.html").write_text(
        f'<a href="file://{wheel}">demo-1.0-py3-none-any.whl</a>'
    )
    (repo / "empty").mkdir()
    text = (
        'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "demo"\nversion = "1.0"\n'
        + entry.format(outside=outside, digest=digest)
        + "\n"
    )
    (repo / "pylock.toml").write_text(text)
    for extra in ([], ["--verify-downloads"], ["--fix"]):
        result = run(
            capsys, "--no-cache", "--index-url", f"file://{repo}/empty", *extra, "pylock.toml"
        )
        _clean(result)
        assert result.code in (1, 2, 3), (extra, result)
        _no_outside(result)
    assert (repo / "pylock.toml").read_text() == text


def test_an_include_whose_path_is_a_secret_is_never_named_by_it(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (derived values). `-r ${V}.txt` and `-c ${V}/c.txt` that exist, with
    findings and a refused line inside: the included file is never named by its expanded
    path, in any format, with `-v`, `--diff` or `--fix`."""
    monkeypatch.setenv("V", VALUE)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    (repo / f"{VALUE}.txt").write_text(pinned(digest=STALE) + "bad line here ###\n")
    (repo / VALUE).mkdir()
    (repo / VALUE / "c.txt").write_text("demo==2.0\n")
    (repo / "r.txt").write_text("-r ${V}.txt\n-c ${V}/c.txt\n")
    for fmt in FORMATS:
        for extra in ([], ["-v"], ["--diff"], ["--fix"]):
            result = run(
                capsys, "--index-url", hostile.simple_url, "--format", fmt, *extra, "r.txt"
            )
            _clean(result)
            shown = result.out + result.err + (summary.read_text() if summary.exists() else "")
            assert not _leaks(shown, VALUE), (fmt, extra, _leaks(shown, VALUE))
