"""The rules that need release data, on in-memory release data (the checker is pure)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reqhash_check.check import CheckOptions, ReleaseLookup, check
from reqhash_check.index.base import DistFile, ReleaseFiles
from reqhash_check.requirements import load
from reqhash_check.targets import parse_target_name


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dist(filename: str, version: str, **extra: object) -> DistFile:
    return DistFile(
        filename=filename,
        version=version,
        url=f"https://files.example.invalid/{filename}",
        hashes={"sha256": sha(filename)},
        **extra,  # type: ignore[arg-type]
    )


WHEEL_2 = dist("demo-2.0-py3-none-any.whl", "2.0")
SDIST_2 = dist("demo-2.0.tar.gz", "2.0")
WHEEL_1 = dist("demo-1.0-py3-none-any.whl", "1.0")
RELEASE_2 = ReleaseFiles("demo", "2.0", (WHEEL_2, SDIST_2), requires_dist=("idna>=2",))
HISTORY = {f.sha256: f for f in (WHEEL_1, WHEEL_2, SDIST_2) if f.sha256}
LINUX = parse_target_name("linux-x86_64-glibc2.28-cp312")


def findings(tmp_path: Path, text: str, lookup: ReleaseLookup, **options: object):  # type: ignore[no-untyped-def]
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    req_set, problems = load(str(path), environ={})
    opts = CheckOptions(targets=(LINUX,), **options)  # type: ignore[arg-type]
    return check(req_set, problems, {("demo", "2.0"): lookup}, opts)


def test_all_hashes_published_is_clean(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256} --hash=sha256:{SDIST_2.sha256}\nidna==3.6\n"
    result = findings(tmp_path, text, ReleaseLookup(release=RELEASE_2, history=HISTORY))
    assert [f.rule for f in result.findings if f.project == "demo"] == []


def test_stale_hash_names_the_version_it_belongs_to(tmp_path: Path) -> None:
    text = f"demo==2.0 \\\n    --hash=sha256:{WHEEL_1.sha256}\nidna==3.6\n"
    result = findings(tmp_path, text, ReleaseLookup(release=RELEASE_2, history=HISTORY))
    (stale,) = [f for f in result.findings if f.rule == "stale-hash"]
    assert (stale.location.line, stale.location.end_line) == (1, 2)
    assert stale.kb == "pip/hash-mismatch-requirements-file"
    assert "belongs to demo 1.0" in stale.message and "without regenerating" in stale.message
    assert stale.hashes is not None
    assert stale.hashes.expected == tuple(sorted(f"sha256:{f.sha256}" for f in RELEASE_2.files))


def test_stale_hash_that_matches_nothing(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{'0' * 64}\nidna==3.6\n"
    result = findings(tmp_path, text, ReleaseLookup(release=RELEASE_2, history=HISTORY))
    (stale,) = [f for f in result.findings if f.rule == "stale-hash"]
    assert "matches no file published for demo on the index" in stale.message


def test_foreign_hash(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256} --hash=sha256:{'1' * 64}\nidna==3.6\n"
    result = findings(tmp_path, text, ReleaseLookup(release=RELEASE_2, history=HISTORY))
    assert [f.rule for f in result.findings if f.project == "demo"] == ["foreign-hash"]


def test_uncovered_target_when_only_an_unusable_file_is_hashed(tmp_path: Path) -> None:
    win = dist("demo-2.0-cp312-cp312-win_amd64.whl", "2.0")
    release = ReleaseFiles("demo", "2.0", (win, WHEEL_2))
    text = f"demo==2.0 --hash=sha256:{win.sha256}\n"
    result = findings(tmp_path, text, ReleaseLookup(release=release))
    (uncovered,) = [f for f in result.findings if f.rule == "uncovered-target"]
    assert uncovered.target == LINUX.name and WHEEL_2.filename in uncovered.message


def test_fallback_target_when_only_the_sdist_is_hashed(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{SDIST_2.sha256}\nidna==3.6\n"
    result = findings(tmp_path, text, ReleaseLookup(release=RELEASE_2))
    (fallback,) = [f for f in result.findings if f.rule == "fallback-target"]
    assert WHEEL_2.filename in fallback.message and SDIST_2.filename in fallback.message


def test_no_installable_file(tmp_path: Path) -> None:
    mac = dist("demo-2.0-cp312-cp312-macosx_11_0_arm64.whl", "2.0")
    text = f"demo==2.0 --hash=sha256:{mac.sha256}\n"
    release = ReleaseFiles("demo", "2.0", (mac,))
    result = findings(tmp_path, text, ReleaseLookup(release=release))
    assert [f.rule for f in result.findings] == ["no-installable-file"]


def test_unknown_project_and_version(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{'0' * 64}\n"
    assert [
        f.rule for f in findings(tmp_path, text, ReleaseLookup(missing="project")).findings
    ] == ["unknown-project"]
    assert [
        f.rule for f in findings(tmp_path, text, ReleaseLookup(missing="version")).findings
    ] == ["unknown-version"]


def test_yanked_with_reason(tmp_path: Path) -> None:
    yanked = ReleaseFiles(
        "demo",
        "2.0",
        tuple(
            DistFile(f.filename, f.version, f.url, f.hashes, yanked=True, yanked_reason="broken")
            for f in RELEASE_2.files
        ),
    )
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256}\n"
    result = findings(tmp_path, text, ReleaseLookup(release=yanked))
    (finding,) = [f for f in result.findings if f.rule == "yanked"]
    assert "broken" in finding.message


def test_missing_dependency(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256}\n"
    result = findings(tmp_path, text, ReleaseLookup(release=RELEASE_2))
    (missing,) = [f for f in result.findings if f.rule == "missing-dependency"]
    assert "idna" in missing.message


def test_dependency_behind_an_unused_extra_or_marker_is_not_missing(tmp_path: Path) -> None:
    release = ReleaseFiles(
        "demo",
        "2.0",
        (WHEEL_2,),
        requires_dist=('socks; extra == "socks"', 'colorama; sys_platform == "win32"'),
    )
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256}\n"
    assert findings(tmp_path, text, ReleaseLookup(release=release)).findings == ()
    text = f"demo[socks]==2.0 --hash=sha256:{WHEEL_2.sha256}\n"
    rules = [f.rule for f in findings(tmp_path, text, ReleaseLookup(release=release)).findings]
    assert rules == ["missing-dependency"]


def test_unreachable_index_is_unverified_not_ok(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256}\n"
    result = findings(tmp_path, text, ReleaseLookup(error="HTTP 503 after 4 attempts"))
    assert result.findings == ()
    assert [u.reason for u in result.unverified] == ["HTTP 503 after 4 attempts"]


def test_offline_miss_is_an_unverifiable_warning(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256}\n"
    result = findings(tmp_path, text, ReleaseLookup(error="not in the cache", offline=True))
    assert [f.rule for f in result.findings] == ["unverifiable"]


def test_sha512_only_is_unverifiable_not_stale(tmp_path: Path) -> None:
    text = f"demo==2.0 --hash=sha512:{'ab' * 64}\nidna==3.6\n"
    result = findings(tmp_path, text, ReleaseLookup(release=RELEASE_2))
    assert [f.rule for f in result.findings if f.project == "demo"] == ["unverifiable"]


def test_dependency_known_only_from_the_json_summary_is_a_warning(tmp_path: Path) -> None:
    release = ReleaseFiles(
        "demo", "2.0", (WHEEL_2,), requires_dist=("idna>=2",), requires_dist_exact=False
    )
    text = f"demo==2.0 --hash=sha256:{WHEEL_2.sha256}\n"
    (finding,) = findings(tmp_path, text, ReleaseLookup(release=release)).findings
    assert finding.rule == "missing-dependency" and finding.severity.value == "warning"
    assert "JSON summary" in finding.message
