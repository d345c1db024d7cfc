"""missing-dependency on in-memory release data: pip's message, markers, the fix it carries."""

from __future__ import annotations

from pathlib import Path

from reqhash_check.check import CheckOptions, ReleaseLookup, check
from reqhash_check.check.shared import combine_markers, without_extras
from reqhash_check.findings import Finding, PinDependency, Severity
from reqhash_check.index.base import ReleaseFiles
from reqhash_check.requirements import load
from reqhash_check.targets import parse_target_name, targets_from_pip_options
from tests.test_check_index_rules import dist

LINUX = parse_target_name("linux-x86_64-glibc2.28-cp312")
WINDOWS = parse_target_name("windows-amd64-cp312")
WHEEL = dist("tool-1.0-py3-none-any.whl", "1.0")


def missing(
    tmp_path: Path, requires: tuple[str, ...], *targets: object, extras: str = ""
) -> list[Finding]:
    path = tmp_path / "requirements.txt"
    path.write_text(f"tool{extras}==1.0 --hash=sha256:{WHEEL.sha256}\n")
    req_set, problems = load(str(path), environ={})
    release = ReleaseFiles("tool", "1.0", (WHEEL,), requires_dist=requires)
    options = CheckOptions(targets=tuple(targets) or (LINUX,))  # type: ignore[arg-type]
    result = check(req_set, problems, {("tool", "1.0"): ReleaseLookup(release=release)}, options)
    return [f for f in result.findings if f.rule == "missing-dependency"]


def test_an_unpinned_dependency_gets_pips_pinned_message(tmp_path: Path) -> None:
    (finding,) = missing(tmp_path, ("colorama>=0.4",))
    assert "all requirements must have their versions pinned with ==" in finding.message


def test_an_exactly_pinned_dependency_gets_pips_hashes_message(tmp_path: Path) -> None:
    (finding,) = missing(tmp_path, ("colorama==0.4.6",))
    assert "Hashes are required in --require-hashes mode" in finding.message


def test_a_platform_marker_is_evaluated_per_target_and_carried_by_the_fix(tmp_path: Path) -> None:
    requires = ('colorama; platform_system == "Windows"',)
    assert missing(tmp_path, requires, LINUX) == []
    (finding,) = missing(tmp_path, requires, LINUX, WINDOWS)
    assert finding.target == WINDOWS.name and finding.severity is Severity.ERROR
    assert finding.fix == PinDependency(
        "colorama", (), 'platform_system == "Windows"', "tool", finding.location.path
    )


def test_an_extra_clause_says_why_not_where(tmp_path: Path) -> None:
    requires = ('PySocks!=1.5.7,>=1.5.6; extra == "socks"',)
    assert missing(tmp_path, requires) == []
    (finding,) = missing(tmp_path, requires, extras="[socks]")
    assert isinstance(finding.fix, PinDependency)
    assert finding.fix.marker is None  # needed wherever tool[socks] is installed
    assert finding.fix.specifiers == (("!=1.5.7,>=1.5.6", "tool 1.0"),)


def test_a_patch_release_marker_on_a_target_without_a_patch_release_is_a_warning(
    tmp_path: Path,
) -> None:
    # redis 4.5.5: async-timeout only up to Python 3.11.2; "3.11" says nothing of the patch.
    (target,) = targets_from_pip_options(["3.11"], ["manylinux2014_x86_64"])
    requires = ('async-timeout>=4.0.2; python_full_version <= "3.11.2"',)
    (finding,) = missing(tmp_path, requires, target)
    assert finding.severity is Severity.WARNING
    assert "Only on some patch releases" in finding.message
    (exact,) = targets_from_pip_options(["3.11.1"], ["manylinux2014_x86_64"])
    (finding,) = missing(tmp_path, requires, exact)
    assert finding.severity is Severity.ERROR
    (later,) = targets_from_pip_options(["3.11.7"], ["manylinux2014_x86_64"])
    assert missing(tmp_path, requires, later) == []


def test_markers_without_extras_and_combined() -> None:
    from packaging.markers import Marker

    assert without_extras(Marker('sys_platform == "win32" and extra == "cli"')) == (
        'sys_platform == "win32"'
    )
    assert without_extras(Marker('extra == "cli"')) is None
    assert without_extras(Marker('extra == "a" or python_version < "3.9"')) is None
    assert combine_markers('python_version < "3.11"', 'os_name == "nt" or os_name == "java"') == (
        'python_version < "3.11" and (os_name == "nt" or os_name == "java")'
    )
    assert combine_markers(None, None) is None
