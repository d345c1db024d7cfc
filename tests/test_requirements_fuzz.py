"""No input makes the reader crash or hang: a RequirementSet and problems, or one
RequirementsFileError, for random bytes, random lines and random include graphs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqhash_check.requirements import RequirementSet, RequirementsFileError, load
from reqhash_check.requirements.versions import NEWEST, OLDEST

FUZZ = settings(
    max_examples=int(os.environ.get("REQHASH_FUZZ_EXAMPLES", "150")),
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PIP_VERSIONS = st.sampled_from([OLDEST, (24, 1), (25, 3), NEWEST])

_FRAGMENTS = [
    "six",
    "==1.0",
    "===x",
    ">=",
    "~=1",
    ".*",
    "+local",
    "[a,b]",
    "[",
    "]",
    "(",
    ")",
    " @ ",
    "https://example.invalid/p-1.0.tar.gz",
    "file:///tmp/x.whl",
    "git+https://x.invalid/r#egg=r",
    "#egg=",
    "#sha256=ab",
    ";",
    "; python_version < '3'",
    " and ",
    " or ",
    " in ",
    " not in ",
    "extra",
    "'",
    '"',
    "\\",
    " \\\n",
    "\n",
    "\r\n",
    "\t",
    " ",
    "#",
    " # c",
    "-e ",
    "-r ",
    "-c ",
    "--hash=sha256:",
    "--hash=md5:x",
    "-C k=v",
    "--config-settings=",
    "--no-binary :all:",
    "--only-binary=",
    "--index-url ",
    "--",
    "-",
    "--pre",
    "--no",
    "${A}",
    "${EMPTY}",
    "${NEST}",
    "$",
    "{",
    "a.txt",
    "b.txt",
    "../x.txt",
    "/dev/zero",
    ".",
    "./p",
    "\x00",
    "\x0c",
    "\u2028",
    "é",
    "K",
]
LINES = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=8), max_size=12).map("".join)
TEXT = st.lists(LINES, max_size=8).map("\n".join)
# A's values carry a marker, so that finding one in a message means it leaked.
ENVIRON = st.fixed_dictionaries(
    {
        "A": st.text(max_size=10).map(lambda text: f"ZQX{text}"),
        "EMPTY": st.just(""),
        "NEST": st.just("${A}${A}"),
    }
)


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _read(folder: Path, environ: dict[str, str], pip_version: tuple[int, int]) -> None:
    written = "".join(path.read_bytes().decode("utf-8", "replace") for path in folder.glob("*.txt"))
    started = time.monotonic()
    try:
        req_set, problems = load("r.txt", environ=environ, pip_version=pip_version)
    except RequirementsFileError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(req_set, RequirementSet)
        for problem in problems:
            assert problem.rule in ("parse-error", "include-error")
            for value in req_set.expanded.values():
                if value not in written and len(value) >= 3:  # an expanded value is never shown
                    assert value not in problem.message
    assert time.monotonic() - started < 2


@FUZZ
@given(data=st.binary(max_size=400), pip_version=PIP_VERSIONS)
def test_random_bytes(folder: Path, data: bytes, pip_version: tuple[int, int]) -> None:
    (folder / "r.txt").write_bytes(data)
    _read(folder, {}, pip_version)


@FUZZ
@given(text=TEXT, environ=ENVIRON, pip_version=PIP_VERSIONS)
def test_random_lines(
    folder: Path, text: str, environ: dict[str, str], pip_version: tuple[int, int]
) -> None:
    (folder / "r.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
    _read(folder, environ, pip_version)


@FUZZ
@given(
    files=st.lists(TEXT, min_size=3, max_size=3),
    includes=st.lists(
        st.tuples(st.sampled_from(["r", "a", "b"]), st.sampled_from(["a", "b", "r", "x"])),
        max_size=8,
    ),
    environ=ENVIRON,
    pip_version=PIP_VERSIONS,
)
def test_random_include_graphs(
    folder: Path,
    files: list[str],
    includes: list[tuple[str, str]],
    environ: dict[str, str],
    pip_version: tuple[int, int],
) -> None:
    texts = dict(zip(["r", "a", "b"], files, strict=True))
    for source, target in includes:
        flag = "-c" if hash((source, target)) % 2 else "-r"
        texts[source] += f"\n{flag} {target}.txt\n"
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
    _read(folder, environ, pip_version)
