"""Targets, tags and pip's choice of file, as tables of cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion

from reqhash_check.index.base import DistFile
from reqhash_check.targets import (
    BinaryPolicy,
    Pick,
    Target,
    _tags_only,
    candidates,
    current_target,
    parse_target_name,
    pick_file,
    targets_from_pip_options,
)


def dist(filename: str, sha: str | None = None, **kwargs: object) -> DistFile:
    version = filename.split("-")[1].removesuffix(".tar.gz").removesuffix(".zip")
    hashes = {"sha256": sha} if sha else {}
    return DistFile(
        filename=filename,
        version=version,
        url=f"https://files.example/{filename}",
        hashes=hashes,
        **kwargs,  # type: ignore[arg-type]
    )


def tagstrs(target: Target) -> list[str]:
    return [str(t) for t in target.tags]


def one(**kwargs: object) -> Target:
    [target] = targets_from_pip_options(**kwargs)  # type: ignore[arg-type]
    return target


LINUX_2014_312 = one(
    python_versions=["3.12"], platforms=["manylinux2014_x86_64"], implementation="cp"
)
LINUX_228_312 = one(
    python_versions=["3.12"], platforms=["manylinux_2_28_x86_64"], implementation="cp"
)
MAC_ARM_312 = one(python_versions=["3.12"], platforms=["macosx_11_0_arm64"], implementation="cp")
WIN_38 = one(python_versions=["3.8"], platforms=["win_amd64"], implementation="cp")

FOO_FILES = (
    dist("foo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "a1"),
    dist("foo-1.0-cp312-cp312-macosx_11_0_arm64.whl", "a2"),
    dist("foo-1.0-cp312-cp312-win_amd64.whl", "a3"),
    dist("foo-1.0-py3-none-any.whl", "a4"),
    dist("foo-1.0.tar.gz", "a5"),
)


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("platform", "present", "absent"),
    [
        # legacy aliases widen to the older legacy tags
        (
            "manylinux2014_x86_64",
            ["cp312-cp312-manylinux2010_x86_64", "cp312-cp312-manylinux1_x86_64"],
            ["cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-linux_x86_64"],
        ),
        (
            "manylinux2010_x86_64",
            ["cp312-cp312-manylinux1_x86_64"],
            ["cp312-cp312-manylinux2014_x86_64"],
        ),
        # non-x86 manylinux2014 has no older aliases
        (
            "manylinux2014_aarch64",
            ["cp312-cp312-manylinux2014_aarch64"],
            ["cp312-cp312-manylinux2010_aarch64"],
        ),
        # PEP 600 tags are taken literally: no older manylinux_2_x, no legacy alias
        (
            "manylinux_2_28_x86_64",
            ["cp312-cp312-manylinux_2_28_x86_64", "py3-none-manylinux_2_28_x86_64"],
            [
                "cp312-cp312-manylinux_2_17_x86_64",
                "cp312-cp312-manylinux2014_x86_64",
                "cp312-cp312-manylinux_2_27_x86_64",
            ],
        ),
        # macOS versions widen downwards, with universal2
        (
            "macosx_11_0_arm64",
            ["cp312-cp312-macosx_11_0_universal2", "cp312-cp312-macosx_10_9_universal2"],
            ["cp312-cp312-macosx_10_9_arm64", "cp312-cp312-macosx_12_0_arm64"],
        ),
        (
            "macosx_12_0_x86_64",
            ["cp312-cp312-macosx_10_9_x86_64", "cp312-cp312-macosx_11_0_x86_64"],
            ["cp312-cp312-macosx_13_0_x86_64"],
        ),
        ("win_amd64", ["cp312-abi3-win_amd64", "cp32-abi3-win_amd64"], ["cp312-cp312-win32"]),
    ],
)
def test_platform_expansion_follows_pip(
    platform: str, present: list[str], absent: list[str]
) -> None:
    tags = tagstrs(one(python_versions=["3.12"], platforms=[platform], implementation="cp"))
    assert tags[0] == f"cp312-cp312-{platform}"
    for tag in present:
        assert tag in tags
    for tag in absent:
        assert tag not in tags
    # pure-python tags close the list, newest python first
    assert tags[-1] == "py30-none-any"
    assert "py312-none-any" in tags and "py3-none-any" in tags


def test_tag_order_matches_pip_get_supported() -> None:
    tags = tagstrs(LINUX_2014_312)
    assert tags[:6] == [
        "cp312-cp312-manylinux2014_x86_64",
        "cp312-cp312-manylinux2010_x86_64",
        "cp312-cp312-manylinux1_x86_64",
        "cp312-abi3-manylinux2014_x86_64",
        "cp312-abi3-manylinux2010_x86_64",
        "cp312-abi3-manylinux1_x86_64",
    ]
    assert tags.index("cp312-none-manylinux1_x86_64") < tags.index(
        "cp311-abi3-manylinux2014_x86_64"
    )
    assert tags.index("py312-none-manylinux2014_x86_64") < tags.index("cp312-none-any")
    assert tags.index("cp312-none-any") < tags.index("py3-none-any")


def test_several_platforms_make_one_target_as_in_one_pip_download() -> None:
    # `pip download --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64` is one
    # install that accepts wheels of either platform, not two installs.
    targets = targets_from_pip_options(
        python_versions=["3.8", "3.12"],
        platforms=["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
        implementation="cp",
    )
    assert [t.name for t in targets] == [
        "cp38-manylinux_2_28_x86_64+manylinux2014_x86_64",
        "cp312-manylinux_2_28_x86_64+manylinux2014_x86_64",
    ]
    assert [t.python_version for t in targets] == [(3, 8), (3, 12)]
    tags = targets[1].tags
    assert tags[0] == Tag("cp312", "cp312", "manylinux_2_28_x86_64")
    assert Tag("cp312", "cp312", "manylinux2014_x86_64") in tags
    assert Tag("cp312", "cp312", "manylinux1_x86_64") in tags  # the 2014 alias still widens
    assert tags.index(Tag("cp312", "cp312", "manylinux_2_28_x86_64")) < tags.index(
        Tag("cp312", "cp312", "manylinux2014_x86_64")
    )
    assert targets[0].marker_environment["python_full_version"] == "3.8.0"
    assert targets[0].marker_environment["sys_platform"] == "linux"


def test_windows_platform_target_markers() -> None:
    (target,) = targets_from_pip_options(["3.8"], ["win_amd64"], "cp")
    assert target.marker_environment["sys_platform"] == "win32"
    assert target.marker_environment["platform_machine"] == "AMD64"
    assert target.tags[0] == Tag("cp38", "cp38", "win_amd64")


@pytest.mark.parametrize(
    ("platform", "sys_platform", "system", "machine"),
    [
        ("manylinux_2_28_aarch64", "linux", "Linux", "aarch64"),
        ("musllinux_1_2_x86_64", "linux", "Linux", "x86_64"),
        ("macosx_11_0_arm64", "darwin", "Darwin", "arm64"),
        ("win32", "win32", "Windows", "x86"),
        ("win_arm64", "win32", "Windows", "ARM64"),
    ],
)
def test_platform_markers(platform: str, sys_platform: str, system: str, machine: str) -> None:
    env = one(python_versions=["3.11"], platforms=[platform]).marker_environment
    assert (env["sys_platform"], env["platform_system"], env["platform_machine"]) == (
        sys_platform,
        system,
        machine,
    )
    assert env["python_version"] == "3.11"


def test_nothing_given_is_the_running_interpreter() -> None:
    [target] = targets_from_pip_options()
    here = current_target()
    assert target == here
    assert target.python_version == tuple(sys.version_info[:3])
    assert target.name.startswith("this interpreter (cp")
    assert target.marker_environment["python_version"] == "{}.{}".format(*sys.version_info)


def test_missing_parts_are_filled_from_the_running_interpreter() -> None:
    only_version = one(python_versions=["3.9"])
    assert only_version.python_version == (3, 9)
    assert only_version.tags[0].interpreter == "cp39"
    # the platforms are this host's
    host_platforms = {t.platform for t in current_target().tags}
    assert {t.platform for t in only_version.tags} <= host_platforms
    only_platform = one(platforms=["win_amd64"])
    assert only_platform.python_version == tuple(sys.version_info[:3])
    assert only_platform.tags[0].platform == "win_amd64"


@pytest.mark.parametrize(
    ("text", "expected"), [("3", (3,)), ("312", (3, 12)), ("3.12.4", (3, 12, 4))]
)
def test_python_version_spellings(text: str, expected: tuple[int, ...]) -> None:
    assert one(python_versions=[text], platforms=["win_amd64"]).python_version == expected


def test_pypy_implementation_uses_generic_tags() -> None:
    tags = tagstrs(
        one(python_versions=["3.10"], platforms=["manylinux2014_x86_64"], implementation="pp")
    )
    assert tags[0].startswith("pp310-")
    assert "pp310-none-manylinux2014_x86_64" in tags
    assert not any("abi3" in t for t in tags)
    assert "pp310-none-any" in tags


def test_explicit_abis() -> None:
    tags = tagstrs(
        one(python_versions=["3.11"], platforms=["win_amd64"], implementation="cp", abis=["none"])
    )
    assert tags[0] == "cp311-abi3-win_amd64"  # abi3 is always added for CPython
    assert "cp311-cp311-win_amd64" not in tags


# --------------------------------------------------------------------------- --target names


@pytest.mark.parametrize(
    ("name", "first", "present", "absent", "markers"),
    [
        (
            "linux-x86_64-glibc2.28-cp312",
            "cp312-cp312-linux_x86_64",
            [
                "cp312-cp312-manylinux_2_28_x86_64",
                "cp312-cp312-manylinux_2_17_x86_64",
                "cp312-cp312-manylinux2014_x86_64",
                "cp312-cp312-manylinux1_x86_64",
                "cp32-abi3-manylinux_2_5_x86_64",
                "py3-none-any",
            ],
            ["cp312-cp312-manylinux_2_29_x86_64", "cp312-cp312-musllinux_1_1_x86_64"],
            ("linux", "x86_64"),
        ),
        (
            "linux-aarch64-glibc2.31-cp311",
            "cp311-cp311-linux_aarch64",
            ["cp311-cp311-manylinux_2_17_aarch64", "cp311-cp311-manylinux2014_aarch64"],
            ["cp311-cp311-manylinux_2_16_aarch64", "cp311-cp311-manylinux2010_aarch64"],
            ("linux", "aarch64"),
        ),
        (
            "linux-x86_64-musl1.2-cp311",
            "cp311-cp311-linux_x86_64",
            ["cp311-cp311-musllinux_1_2_x86_64", "cp311-cp311-musllinux_1_0_x86_64"],
            ["cp311-cp311-manylinux2014_x86_64", "cp311-cp311-musllinux_1_3_x86_64"],
            ("linux", "x86_64"),
        ),
        (
            "macos-arm64-11-cp311",
            "cp311-cp311-macosx_11_0_arm64",
            ["cp311-cp311-macosx_11_0_universal2", "cp311-cp311-macosx_10_9_universal2"],
            ["cp311-cp311-macosx_12_0_arm64", "cp311-cp311-macosx_10_9_x86_64"],
            ("darwin", "arm64"),
        ),
        (
            "macos-x86_64-10.15-cp39",
            "cp39-cp39-macosx_10_15_x86_64",
            ["cp39-cp39-macosx_10_9_x86_64", "cp39-cp39-macosx_10_4_intel"],
            ["cp39-cp39-macosx_11_0_x86_64", "cp39-cp39-macosx_11_0_arm64"],
            ("darwin", "x86_64"),
        ),
        (
            "windows-amd64-cp310",
            "cp310-cp310-win_amd64",
            ["cp310-abi3-win_amd64", "py310-none-win_amd64", "py3-none-any"],
            ["cp310-cp310-win32"],
            ("win32", "AMD64"),
        ),
        (
            "windows-x86-cp38",
            "cp38-cp38-win32",
            ["cp38-none-win32"],
            ["cp38-cp38-win_amd64"],
            ("win32", "x86"),
        ),
        (
            "linux-x86_64-glibc2.17-pp310",
            "pp310-pypy310_pp73-linux_x86_64",
            ["pp310-pypy310_pp73-manylinux2014_x86_64", "pp310-none-any"],
            ["cp310-cp310-manylinux2014_x86_64", "cp310-abi3-manylinux2014_x86_64"],
            ("linux", "x86_64"),
        ),
    ],
)
def test_target_names(
    name: str, first: str, present: list[str], absent: list[str], markers: tuple[str, str]
) -> None:
    target = parse_target_name(name)
    tags = tagstrs(target)
    assert target.name == name
    assert tags[0] == first
    for tag in present:
        assert tag in tags
    for tag in absent:
        assert tag not in tags
    assert len(tags) == len(set(tags))
    env = target.marker_environment
    assert (env["sys_platform"], env["platform_machine"]) == markers


def test_glibc_target_orders_newer_manylinux_first() -> None:
    tags = tagstrs(parse_target_name("linux-x86_64-glibc2.28-cp312"))
    assert tags.index("cp312-cp312-manylinux_2_28_x86_64") < tags.index(
        "cp312-cp312-manylinux_2_17_x86_64"
    )
    # the legacy alias sits right after its PEP 600 twin
    i = tags.index("cp312-cp312-manylinux_2_17_x86_64")
    assert tags[i + 1] == "cp312-cp312-manylinux2014_x86_64"


def test_glibc_target_is_wider_than_the_same_platform_option() -> None:
    named = set(parse_target_name("linux-x86_64-glibc2.28-cp312").tags)
    option = set(LINUX_228_312.tags)
    assert option < named


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "linux-x86_64-cp312",
        "linux-x86_64-glibc2-cp312",
        "linux-x86_64-glibc2.28-py312",
        "macos-ppc-11-cp312",
        "macos-arm64-10.15-cp312",
        "windows-amd64",
        "windows-ia64-cp312",
        "freebsd-amd64-cp312",
        "linux-aarch64-glibc2.12-cp312",
        "linux-x86_64-glibc3.1-cp312",
        "windows-amd64-cp27",
    ],
)
def test_bad_target_names(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_target_name(bad)
    assert repr(bad) in str(info.value)


def test_bad_grammar_message_shows_the_grammar() -> None:
    with pytest.raises(ValueError, match=r"linux-<arch>-glibc<M>\.<m>-<py>.*windows-"):
        parse_target_name("solaris-sparc-cp312")


# --------------------------------------------------------------------------- binary policy


@pytest.mark.parametrize(
    ("ordered", "only", "no"),
    [
        ([("only_binary", ":all:")], {":all:"}, set()),
        ([("only_binary", "Foo_Bar,baz")], {"foo-bar", "baz"}, set()),
        ([("no_binary", ":all:"), ("only_binary", "foo")], {"foo"}, {":all:"}),
        ([("only_binary", "foo"), ("no_binary", ":all:")], set(), {":all:"}),
        ([("only_binary", ":all:"), ("only_binary", ":none:")], set(), set()),
        ([("only_binary", ":all:,:none:,foo")], {"foo"}, set()),
        ([("only_binary", "foo"), ("no_binary", "foo")], set(), {"foo"}),
        ([("no_binary", ":all:"), ("only_binary", ":all:")], {":all:"}, set()),
    ],
)
def test_binary_policy_follows_format_control(
    ordered: list[tuple[str, str]], only: set[str], no: set[str]
) -> None:
    policy = BinaryPolicy.from_ordered(ordered)
    assert policy.only_binary == only
    assert policy.no_binary == no


@pytest.mark.parametrize(
    ("policy", "project", "wheel", "sdist"),
    [
        (BinaryPolicy(), "foo", True, True),
        (BinaryPolicy(only_binary=frozenset({":all:"})), "foo", True, False),
        (BinaryPolicy(no_binary=frozenset({":all:"})), "foo", False, True),
        # a named project wins over :all: of the other option
        (
            BinaryPolicy(only_binary=frozenset({"foo"}), no_binary=frozenset({":all:"})),
            "Foo",
            True,
            False,
        ),
        (
            BinaryPolicy(only_binary=frozenset({":all:"}), no_binary=frozenset({"foo"})),
            "foo",
            False,
            True,
        ),
        (BinaryPolicy(only_binary=frozenset({"bar"})), "foo", True, True),
    ],
)
def test_binary_policy_allows(policy: BinaryPolicy, project: str, wheel: bool, sdist: bool) -> None:
    assert policy.allows_wheel(project) is wheel
    assert policy.allows_sdist(project) is sdist


def test_binary_policy_from_options_and_errors() -> None:
    policy = BinaryPolicy.from_options(["foo"], [":all:"], prefer_binary=True)
    assert policy == BinaryPolicy(frozenset({"foo"}), frozenset({":all:"}), True)
    with pytest.raises(ValueError, match="requires 1 argument"):
        BinaryPolicy.from_options(["--foo"], [])


# --------------------------------------------------------------------------- candidates


@pytest.mark.parametrize(
    ("target", "policy", "expected"),
    [
        (
            LINUX_2014_312,
            BinaryPolicy(),
            [
                "foo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "foo-1.0-py3-none-any.whl",
                "foo-1.0.tar.gz",
            ],
        ),
        # manylinux_2_28 does not accept the manylinux2014 wheel
        (LINUX_228_312, BinaryPolicy(), ["foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz"]),
        (
            MAC_ARM_312,
            BinaryPolicy(only_binary=frozenset({":all:"})),
            ["foo-1.0-cp312-cp312-macosx_11_0_arm64.whl", "foo-1.0-py3-none-any.whl"],
        ),
        # cp312 wheel does not fit Python 3.8
        (WIN_38, BinaryPolicy(), ["foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz"]),
        (WIN_38, BinaryPolicy(no_binary=frozenset({"foo"})), ["foo-1.0.tar.gz"]),
        (LINUX_228_312, BinaryPolicy(only_binary=frozenset({"foo"})), ["foo-1.0-py3-none-any.whl"]),
    ],
)
def test_candidates(target: Target, policy: BinaryPolicy, expected: list[str]) -> None:
    assert [f.filename for f in candidates(target, FOO_FILES, "foo", policy)] == expected


def test_prefer_binary_puts_any_wheel_above_sdist_only_across_versions() -> None:
    files = [dist("foo-1.0-py3-none-any.whl", "a"), dist("foo-1.1.tar.gz", "b")]
    plain = candidates(WIN_38, files, "foo", pinned=False)
    assert [f.filename for f in plain] == ["foo-1.1.tar.gz", "foo-1.0-py3-none-any.whl"]
    preferred = candidates(WIN_38, files, "foo", BinaryPolicy(prefer_binary=True), pinned=False)
    assert [f.filename for f in preferred] == ["foo-1.0-py3-none-any.whl", "foo-1.1.tar.gz"]


@pytest.mark.parametrize(
    ("requires_python", "target", "kept"),
    [
        (">=3.9", WIN_38, False),
        (">=3.8", WIN_38, True),
        # --python-version 3.12 is checked as 3.12.0
        (">=3.12.1", LINUX_2014_312, False),
        ("<3.12", LINUX_2014_312, False),
        ("~=3.12", LINUX_2014_312, True),
        ("not a specifier", WIN_38, True),  # pip ignores what it cannot parse
    ],
)
def test_requires_python(requires_python: str, target: Target, kept: bool) -> None:
    files = [dist("foo-1.0-py3-none-any.whl", "a", requires_python=requires_python)]
    assert bool(candidates(target, files, "foo")) is kept


def test_build_tag_and_name_and_bad_files() -> None:
    files = [
        dist("foo-1.0-1-py3-none-any.whl", "a"),
        dist("foo-1.0-2-py3-none-any.whl", "b"),
        dist("foo-1.0-py3-none-any.whl", "c"),
        dist("bar-1.0-py3-none-any.whl", "d"),  # another project
        dist("foo-1.0-py3-none-any.egg", "e"),  # not a format pip installs
        dist("foo-1.0.exe", "f"),
        dist("foo-1.0-macosx10.zip", "g"),  # pip skips these
        dist("foo-1.0.zip", "h"),
    ]
    ranked = [f.filename for f in candidates(WIN_38, files, "foo")]
    assert ranked == [
        "foo-1.0-2-py3-none-any.whl",
        "foo-1.0-1-py3-none-any.whl",
        "foo-1.0-py3-none-any.whl",
        "foo-1.0.zip",
    ]


def test_two_sdists_the_one_listed_last_wins_like_pip() -> None:
    files = [dist("foo-1.0.zip", "a"), dist("foo-1.0.tar.gz", "b")]
    assert candidates(WIN_38, files, "foo")[0].filename == "foo-1.0.tar.gz"


# --------------------------------------------------------------------------- yanked


@pytest.mark.parametrize(
    ("yanked", "pinned", "expected"),
    [
        # some files yanked: those are skipped, pinned or not
        ({"foo-1.0-py3-none-any.whl"}, True, ["foo-1.0.tar.gz"]),
        # every file yanked and pinned with ==: pip installs it
        (
            {"foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz"},
            True,
            ["foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz"],
        ),
        # every file yanked, not pinned: nothing
        ({"foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz"}, False, []),
    ],
)
def test_yanked(yanked: set[str], pinned: bool, expected: list[str]) -> None:
    files = [
        dist(name, "h" + name, yanked=name in yanked)
        for name in ("foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz")
    ]
    assert [f.filename for f in candidates(WIN_38, files, "foo", pinned=pinned)] == expected


# --------------------------------------------------------------------------- pick_file


@pytest.mark.parametrize(
    ("target", "allowed", "policy", "best", "chosen", "ok"),
    [
        # the best file is hashed
        (
            LINUX_2014_312,
            ["sha256:a1", "sha256:a4"],
            BinaryPolicy(),
            "manylinux",
            "manylinux",
            True,
        ),
        # only the universal wheel is hashed: pip falls back to it
        (LINUX_2014_312, ["sha256:a4"], BinaryPolicy(), "manylinux", "py3-none", True),
        # only the sdist is hashed: pip builds the sdist
        (LINUX_2014_312, ["sha256:a5"], BinaryPolicy(), "manylinux", "tar.gz", True),
        # only the sdist is hashed but sdists are forbidden: the best wheel, which fails
        (
            LINUX_2014_312,
            ["sha256:a5"],
            BinaryPolicy(only_binary=frozenset({":all:"})),
            "manylinux",
            "manylinux",
            False,
        ),
        # only a wheel for another platform is hashed: nothing installable matches
        (
            LINUX_2014_312,
            ["sha256:a2", "sha256:a3"],
            BinaryPolicy(),
            "manylinux",
            "manylinux",
            False,
        ),
        # nothing matches at all
        (MAC_ARM_312, ["sha256:ffff"], BinaryPolicy(), "macosx", "macosx", False),
        # hashes of several algorithms, one sha256 matches
        (MAC_ARM_312, ["sha512:beef", "sha256:a2"], BinaryPolicy(), "macosx", "macosx", True),
        # upper case digest in the requirement still matches
        (WIN_38, ["sha256:A5"], BinaryPolicy(), "py3-none", "tar.gz", True),
        # no hashes at all: pip installs the best file, nothing to check against
        (WIN_38, [], BinaryPolicy(), "py3-none", "py3-none", False),
        # a hash in mapping form
        (WIN_38, {"sha256": {"a4"}}, BinaryPolicy(), "py3-none", "py3-none", True),
    ],
)
def test_pick_file(
    target: Target,
    allowed: list[str] | dict[str, set[str]],
    policy: BinaryPolicy,
    best: str,
    chosen: str,
    ok: bool,
) -> None:
    pick = pick_file(target, FOO_FILES, allowed, "foo", policy)
    assert pick.best is not None and best in pick.best.filename
    assert pick.chosen is not None and chosen in pick.chosen.filename
    assert pick.ok is ok
    assert pick.fallback is (pick.best != pick.chosen)
    assert pick.candidates == tuple(candidates(target, FOO_FILES, "foo", policy))


def test_pick_file_nothing_installable() -> None:
    files = [dist("foo-1.0-cp312-cp312-win_amd64.whl", "a")]
    pick = pick_file(LINUX_2014_312, files, ["sha256:a"], "foo", BinaryPolicy())
    assert pick == Pick(best=None, chosen=None, ok=False, candidates=())


def test_pick_file_keeps_files_without_a_published_digest_behind_matching_ones() -> None:
    files = [
        dist("foo-1.0-cp312-cp312-manylinux2014_x86_64.whl"),  # index gave no digest
        dist("foo-1.0-py3-none-any.whl", "a4"),
        dist("foo-1.0.tar.gz", "a5"),
    ]
    pick = pick_file(LINUX_2014_312, files, ["sha256:a5"], "foo")
    # the hashed sdist is preferred over the undigested wheel; the other wheel is dropped
    assert pick.chosen is not None and pick.chosen.filename == "foo-1.0.tar.gz"
    assert pick.ok
    # nothing matches: the best file, whose digest is unknown
    pick = pick_file(LINUX_2014_312, files, ["sha256:zz"], "foo")
    assert pick.chosen is not None and pick.chosen.filename.endswith("manylinux2014_x86_64.whl")
    assert not pick.ok and pick.unknown_hash


def test_pick_file_unknown_when_only_other_algorithms_listed() -> None:
    pick = pick_file(WIN_38, FOO_FILES, ["sha512:" + "0" * 128], "foo")
    assert not pick.ok
    assert pick.unknown_hash
    assert not pick_file(WIN_38, FOO_FILES, ["sha256:00"], "foo").unknown_hash


@pytest.mark.parametrize(
    ("yanked", "allowed", "pinned", "chosen", "ok"),
    [
        # the hashed file is yanked, others have other digests: the hash filter leaves only
        # yanked files, so a pinned requirement installs it
        ({"foo-1.0-py3-none-any.whl"}, ["sha256:w"], True, "foo-1.0-py3-none-any.whl", True),
        ({"foo-1.0-py3-none-any.whl"}, ["sha256:w"], False, None, False),
        # the hashed file is not yanked, the best one is: the hashed one
        ({"foo-1.0-py3-none-any.whl"}, ["sha256:s"], True, "foo-1.0.tar.gz", True),
        # nothing matches and the wheel is yanked: the sdist, which fails
        ({"foo-1.0-py3-none-any.whl"}, ["sha256:x"], True, "foo-1.0.tar.gz", False),
    ],
)
def test_pick_file_yanked(
    yanked: set[str], allowed: list[str], pinned: bool, chosen: str | None, ok: bool
) -> None:
    files = [
        dist("foo-1.0-py3-none-any.whl", "w", yanked="foo-1.0-py3-none-any.whl" in yanked),
        dist("foo-1.0.tar.gz", "s", yanked="foo-1.0.tar.gz" in yanked),
    ]
    pick = pick_file(WIN_38, files, allowed, "foo", pinned=pinned)
    assert (pick.chosen.filename if pick.chosen else None) == chosen
    assert pick.ok is ok
    assert pick.best is not None and pick.best.filename == "foo-1.0.tar.gz"


def test_pick_file_unpinned_picks_the_version_a_hash_matches() -> None:
    files = [
        dist("foo-1.0-py3-none-any.whl", "old"),
        dist("foo-2.0-py3-none-any.whl", "new"),
    ]
    pick = pick_file(WIN_38, files, ["sha256:old"], "foo", pinned=False)
    assert pick.best is not None and pick.best.version == "2.0"
    assert pick.chosen is not None and pick.chosen.version == "1.0"
    assert pick.ok


_ODD_WHEEL_NAMES = [
    "foo-1.0-1-py3-none-any.whl",
    "foo-1.0-x1-py3-none-any.whl",
    "foo__bar-1.0-py3-none-any.whl",
    "foo-bad!-py3-none-any.whl",
    "foo-1.0-py3-none.whl",
    "foo-1.0-py3--any.whl",
    "foo-1.0-py3..py2-none-any.whl",
    "foo-1.0-3py-none-any.whl",
    "foo-1.0-py3-none-any.WHL",
    "foo-1.0-1-py3-none-any-x.whl",
    "Foo.Bar-1.0.post1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
]


def _recorded_wheel_names() -> set[str]:
    names = set()
    for path in (Path(__file__).parent / "data" / "pypi").glob("*.json"):
        for release in json.loads(path.read_text())["releases"].values():
            names.update(f["filename"] for f in release if f["filename"].endswith(".whl"))
    return names


def test_a_wheels_tags_are_read_alone_as_packaging_reads_them() -> None:
    """The checker looks at a wheel's tags before its name; for every name packaging
    accepts, the tags read alone are packaging's (the others are never applicable)."""
    names = _recorded_wheel_names() | set(_ODD_WHEEL_NAMES)
    assert len(names) > 400
    accepted = 0
    for name in names:
        try:
            tags = parse_wheel_filename(name)[3]
        except (InvalidWheelFilename, InvalidVersion):
            continue
        accepted += 1
        assert _tags_only(name) == tags, name
    assert accepted > 400
