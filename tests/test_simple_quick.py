"""The quick paths that read a PEP 691 project page are held to the plain ones: the same
links for every recorded page and every version on it, and for odd or hostile pages.

`parse_json_page(..., exact=True)` is the plain path: each file entry's version part split
out and compared (`quick_version`, `version_key`), each URL through `urljoin`.
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from reqhash_check.cli import main
from reqhash_check.index.answers import BadAnswer, version_key
from reqhash_check.index.simple import parse_json_page, quick_version, release_needle
from tests.fakeindex import RECORDED, FakeFile, FakeIndex

SIMPLE = Path(__file__).parent / "data" / "simple"
"""Simple JSON pages recorded from PyPI (gzip'd): .egg/.exe/.msi/.zip/.tar.bz2 files,
upper-case and non-normalised names, yanked reasons, escaped text."""

PAGE_URL = "https://index.example/simple/demo/"
SHA = "ab" * 32


def _outcome(content: bytes, project: str | None, version: str | None, *, exact: bool) -> Any:
    try:
        return parse_json_page(content, PAGE_URL, project, version, exact=exact)
    except (BadAnswer, ValueError) as problem:
        return type(problem), str(problem)


def assert_same(content: bytes, project: str | None, versions: list[str | None]) -> None:
    for version in versions:
        quick = _outcome(content, project, version, exact=False)
        plain = _outcome(content, project, version, exact=True)
        assert quick == plain, version


def _from_project_json(path: Path) -> tuple[str, bytes]:
    """A simple page made of a recorded PyPI project JSON (tests/data/pypi)."""
    data = json.loads(path.read_text())
    files = [
        {
            "filename": entry["filename"],
            "url": entry["url"],
            "hashes": {"sha256": entry["digests"]["sha256"]},
            "requires-python": entry.get("requires_python"),
            "yanked": (entry.get("yanked_reason") or True) if entry.get("yanked") else False,
            "core-metadata": entry.get("core-metadata", False),
        }
        for entries in data["releases"].values()
        for entry in entries
    ]
    name = data["info"]["name"]
    return name, json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()


def _recorded_pages() -> list[tuple[str, bytes]]:
    pages = [
        (p.name.removesuffix(".json.gz"), gzip.decompress(p.read_bytes()))
        for p in SIMPLE.glob("*.json.gz")
    ]
    pages += [_from_project_json(p) for p in sorted(RECORDED.glob("*.json"))]
    return sorted(pages)


def _versions_of(content: bytes) -> list[str | None]:
    """Every version a page names, each file's version part as written, and spellings of
    them a pin may use instead."""
    data = json.loads(content)
    found = set(data.get("versions", []))
    found |= {v for f in data["files"] if (v := quick_version(f["filename"])) is not None}
    spelled = {s for v in found for s in (v + ".0", v.upper(), "v" + v, "0!" + v, " " + v)}
    return [None, "0", "0.0", "not-a-version", *sorted(found | spelled)]


@pytest.mark.parametrize(
    "name, content", _recorded_pages(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_recorded_page_gives_the_same_links_for_every_version(
    name: str, content: bytes
) -> None:
    assert len(content) > 1000
    assert_same(content, name, _versions_of(content))


def _page(*files: dict[str, Any], name: str = "demo", **top: Any) -> bytes:
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": name, "files": list(files), **top}
    ).encode()


def _file(filename: Any, url: str | None = None, **more: Any) -> dict[str, Any]:
    return {
        "filename": filename,
        "url": url if url is not None else f"https://files.example/p/{filename}#sha256={SHA}",
        "hashes": {"sha256": SHA},
        **more,
    }


SPELLINGS = [
    "1", "1.0", "1.0.0", "01.0", "1.00.0", "v1.0", "V1.0", "0!1.0", "1.0+local", "1.0+Local.1",
    "1.0rc1", "1.0-rc1", "1.0.rc.1", "1.0c1", "1.0RC1", "1.0rc01", "1.0pre1", "1.0preview1",
    "1.0a1", "1.0alpha1", "1.0.post1", "1.0-1", "1.0post1", "1.0.r1", "1.0rev1", "1.0.dev0",
    "1.0.dev", "1.0dev", "1.0.DEV0", "1.0.post1.dev2", "1!1.0", "10.0", "1.10", "11", "2.1",
    "0.1", "1.0.0.0.1", "not.a.version", "1.0_1", "1_0", "1.0-", "",
]  # fmt: skip


def _names_for(version: str) -> list[str]:
    return [
        f"demo-{version}-py3-none-any.whl",
        f"Demo_Pkg-{version}-1-cp311-cp311-manylinux_2_17_x86_64.whl",
        f"demo-{version}.tar.gz",
        f"Demo.Pkg-{version}.zip",
        f"python-demo-{version}.tar.bz2",
        f"demo-{version}.tgz",
        f"demo-{version}-py3.4.egg",
        f"demo-{version}.win32.exe",
        f"demo-{version}.whl",
        f"demo{version}.tar.gz",
    ]


def test_spellings_of_versions_and_every_kind_of_file_name() -> None:
    files = [_file(name) for version in SPELLINGS for name in _names_for(version)]
    content = _page(*files)
    assert_same(content, "demo", [None, *SPELLINGS, "1.0.0rc1", "1.0a", "01!1.0", "1.01"])
    assert_same(content, "demo-pkg", ["1.0", "1.0.post1"])


def test_the_needle_is_in_every_spelling_of_a_version() -> None:
    pieces = ["", "0", "00", "1", "01", "10", "007", "46", "046", "100"]
    texts = {".".join(parts) for n in (1, 2, 3, 4) for parts in itertools.product(pieces, repeat=n)}
    texts |= {t + tail for t in list(texts)[:300] for tail in ("rc1", ".post0", "-1", ".dev", "+x")}
    for wanted_text in ["1.0", "2.46", "10.0.7", "0.0.46", "1!46.0", "7", "1.0.post1", "0"]:
        wanted = version_key(wanted_text)
        needle = release_needle(wanted)
        for text in texts:
            if version_key(text) == wanted:
                assert needle is None or needle in text, (wanted_text, text)


ODD_FILES = [
    _file('demo-1.0-py3-none-any".whl'),
    _file("demo-1.0-py3-none-any\\.whl"),
    _file("d\u00e9mo-1.0-py3-none-any.whl"),
    _file("demo-\u0661.0-py3-none-any.whl"),  # an Arabic-Indic digit: not a PEP 440 version
    _file("DEMO-1.0.TAR.GZ"),
    _file("demo-1.0.tar.gz\n"),
    _file(" demo-1.0.tar.gz"),
    _file(17),
    _file(None),
    _file(["demo-1.0.tar.gz"]),
    {"url": "https://files.example/demo-1.0.tar.gz", "hashes": {}},
    {"hashes": {"sha256": SHA}, "url": "x/demo-1.0.tar.gz", "filename": "demo-1.0.tar.gz"},
    {"filename": "demo-2.0.tar.gz", "filename ": "demo-1.0.tar.gz", "hashes": {}},
    _file("demo-1.0.tar.gz", yanked='broken "quoted" \\ reason', size=10),
    _file("demo-1.0.tar.gz", **{"upload-time": "2020-01-01T00:00:00Z"}),
    _file("demo-1.0.tar.gz", **{"core-metadata": {"sha256": SHA}, "requires-python": ">=3.8"}),
]  # fmt: skip


def test_odd_file_entries() -> None:
    content = _page(*ODD_FILES, *[_file(n) for n in _names_for("2.0")])
    assert_same(content, "demo", [None, "1.0", "1", "2.0", "\u0661.0", "1.0 "])


def test_escapes_and_key_orders_in_the_text() -> None:
    # The same entries written with \u escapes, other key orders and whitespace.
    text = (
        '{ "name" : "demo" , "files" : [\n'
        '  { "url" : "https://files.example/p/demo-1.0.tar.gz", "hashes" : { "sha256" : "'
        + SHA
        + '" },'
        ' "filename" : "demo-1.0.tar.gz" },\n'
        '  {"\\u0066ilename": "demo-1\\u002e0-py3-none-any.whl", "url": "https://f.example/\\u0064.whl",'
        ' "hashes": {"sha256": "' + SHA + '"}},\n'
        '  {"filename": "demo-2.0.tar.gz", "hashes": {"filename": "demo-1.0.tar.gz"}},\n'
        '  {"filename": "demo-1.0.tar.gz", "hashes": {"filename": "demo-2.0.tar.gz"}},\n'
        '  {"filename": "demo-1.0.tar.gz", "filename": "demo-2.0.tar.gz", "hashes": {}},\n'
        '  {"filename": "demo-2.0.tar.gz", "filename": "demo-1.0.tar.gz", "hashes": {}}\n'
        "] }"
    )
    assert_same(text.encode(), "demo", [None, "1.0", "2.0", "1"])
    assert_same(text.encode("utf-16"), "demo", [None, "1.0"])
    assert_same(b"\xef\xbb\xbf" + text.encode(), "demo", ["1.0"])


def test_pages_that_are_not_pages() -> None:
    for content in [
        b"",
        b"[]",
        b'{"files": {}}',
        b'{"files": [1, "x", null]}',
        b'{"files": [], "name": "other"}',
        b'{"filename": "demo-2.0.tar.gz", "files": []}',
        b'{"files": [{"filename": "demo-1.0.tar.gz", "hashes": {"sha256": "short"}}]}',
        b'{"files": [{"filename": "demo-2.0.tar.gz", "hashes": {"sha256": "short"}}]}',
        b'{"files": [{"filename": "demo-1.0.tar.gz", "hashes": []}]}',
        b'{"files": [{"filename": "demo-1.0.tar.gz", "url": "http://[::1/x"}]}',
        b'{"files": [{"filename": "demo-1.0.tar.gz"}]',
        b"[" * 5000 + b"]" * 5000,
        _page(_file("demo-1.0.tar.gz"))[:-3],
    ]:
        assert_same(content, "demo", [None, "1.0"])


URLS = [
    f"https://files.example/p/demo-1.0.tar.gz#sha256={SHA}",
    "https://files.example/p/demo-1.0.tar.gz",
    "http://files.example:8080/p/demo-1.0.tar.gz#md5=x#y",
    "HTTPS://files.example/p/demo.tar.gz",
    "https://files.example/p/demo.tar.gz#",
    "https://files.example/p/demo.tar.gz?",
    "https://files.example/p/demo.tar.gz?x=1",
    "https://files.example/p;x/demo.tar.gz;v=1",
    "https://files.example/p/demo.tar.gz;",
    "https://files.example/p/de mo.tar.gz",
    "https://files.example/p/de\tmo.tar.gz",
    "https://files.example/p/de\nmo.tar.gz",
    " https://files.example/p/demo.tar.gz",
    "https://files.example/p/demo.tar.gz ",
    "https://user:pw@files.example/p/demo.tar.gz",
    "https://[::1]/p/demo.tar.gz",
    "https://[::1/p/demo.tar.gz",
    "https://files.example",
    "https://files.example/",
    "https:/files.example/p",
    "https:files.example/p",
    "//files.example/p/demo.tar.gz",
    "/p/demo.tar.gz",
    "../../p/demo.tar.gz",
    "demo.tar.gz",
    "ftp://files.example/demo.tar.gz",
    "file:///etc/passwd",
    "https://files.example/p/d\u00e9mo.tar.gz",
    "https://f\u00e9.example/p/demo.tar.gz",
    "https://files.example/p/./x/../demo.tar.gz",
    "",
]
BASES = [
    PAGE_URL,
    "http://127.0.0.1:8765/simple/demo/",
    "https://user@mirror.example/root/simple/demo/index.json?x=1",
    "https://[::1/simple/demo/",
    "",
]


@pytest.mark.parametrize("base", BASES)
def test_file_urls_are_joined_as_urljoin_joins_them(base: str) -> None:
    content = _page(*[_file(f"demo-1.0-{n}.tar.gz", url=url) for n, url in enumerate(URLS)])

    def links(exact: bool) -> Any:
        try:
            return parse_json_page(content, base, "demo", "1.0", exact=exact)
        except ValueError as problem:
            return str(problem)

    assert links(exact=False) == links(exact=True)
    for url in URLS:  # and both as urljoin itself
        try:
            expected: Any = urljoin(base, url)
        except ValueError as problem:
            expected = str(problem)
        one = _page(_file("demo-1.0.tar.gz", url=url))
        try:
            got: Any = [link.url for link in parse_json_page(one, base, "demo", "1.0")]
        except ValueError as problem:
            got = str(problem)
        assert got == expected or got == [expected], url


def test_the_pinned_release_is_read_whatever_its_files_spelling(
    fake_index: FakeIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through the command line: a pin of 1.0 finds its files spelled 1.0.0 and 01.0, and
    none of 11.0's or 1.0.1's (whose names hold the pinned version's number too)."""
    monkeypatch.chdir(tmp_path)
    wheel = FakeFile("demo-1.0.0-py3-none-any.whl", content=b"wheel")
    sdist = FakeFile("Demo-01.0.tar.gz", content=b"sdist")
    fake_index.add("demo", "1.0", wheel)
    fake_index.add("demo", "1.0", sdist)
    for other in ["11.0", "1.0.1", "0.1"]:
        fake_index.add(
            "demo", other, FakeFile(f"demo-{other}-py3-none-any.whl", content=other.encode())
        )
    (tmp_path / "r.txt").write_text(
        f"demo==1.0 --hash=sha256:{wheel.digest} --hash=sha256:{sdist.digest}\n"
    )
    code = main(
        [
            "--index-url",
            f"{fake_index.url}/simple",
            "--cache-dir",
            str(tmp_path / "c"),
            "--format",
            "json",
            "r.txt",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert json.loads(out)["summary"]["errors"] == 0, out
