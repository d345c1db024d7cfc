"""The SARIF output: snapshot, schema validity, and what code scanning relies on."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reqhash_check.findings import KB_HASH_MISMATCH, Location, Report, Severity
from reqhash_check.report import RenderContext, renderer, sarif
from reqhash_check.rules import RULES
from tests.report_cases import CONTEXT, MAIN, ODD, assert_snapshot, clean_report, sample_report

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-2.1.0.json"


def _log(report: Report | None = None, context: RenderContext = CONTEXT) -> dict[str, Any]:
    return json.loads(sarif.render(report or sample_report(), context))  # type: ignore[no-any-return]


def _validate(log: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def test_snapshot() -> None:
    assert_snapshot("sarif.json", sarif.render(sample_report(), CONTEXT))


def test_registered_as_a_format() -> None:
    assert renderer("sarif")(sample_report(), CONTEXT) == sarif.render(sample_report(), CONTEXT)


def test_the_schema_file_is_the_official_2_1_0_one() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


@pytest.mark.parametrize("report", [sample_report(), clean_report()], ids=["findings", "clean"])
def test_valid_against_the_sarif_2_1_0_schema(report: Report) -> None:
    assert _validate(_log(report)) == []


def test_schema_validation_would_catch_a_broken_log() -> None:
    log = _log()
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(_validate(log)) == 2


def test_one_run_with_the_driver_and_every_rule() -> None:
    log = _log()
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "reqhash-check"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    for descriptor in driver["rules"]:
        rule = RULES[descriptor["id"]]
        assert "helpUri" not in descriptor  # the help travels in the log: no link to go dead
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["text"] == rule.explain()
        assert descriptor["help"]["markdown"] == rule.markdown()
        assert rule.fix in descriptor["help"]["text"]
        assert rule.example.splitlines()[0] in descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] == rule.severity.value
        assert descriptor["properties"].get("kb") == rule.kb
        assert "pip" in descriptor["properties"]["tags"]
        assert descriptor.get("name", "").lower() != rule.id.lower()


def test_mismatch_rules_carry_the_kb_id() -> None:
    rules = {r["id"]: r for r in _log()["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["stale-hash"]["properties"]["kb"] == KB_HASH_MISMATCH
    assert KB_HASH_MISMATCH in rules["stale-hash"]["help"]["text"]
    assert "kb" not in rules["missing-hash"]["properties"]


def test_results_point_at_file_and_lines() -> None:
    run = _log()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(sample_report().findings)
    stale = next(r for r in results if r["ruleId"] == "stale-hash")
    assert rules[stale["ruleIndex"]]["id"] == "stale-hash"
    assert stale["level"] == "error"
    location = stale["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": MAIN, "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "endLine": 5}
    assert stale["properties"]["project"] == "requests"
    assert stale["properties"]["version"] == "2.32.3"
    assert stale["properties"]["kb"] == KB_HASH_MISMATCH
    assert stale["properties"]["hashes"]["listed"] == ["sha256:" + "a" * 64]
    assert len(stale["properties"]["hashes"]["expected"]) == 2
    warning = next(r for r in results if r["ruleId"] == "yanked")
    assert warning["level"] == "warning"
    target = next(r for r in results if r["ruleId"] == "uncovered-target")
    assert target["properties"]["target"] == "macos-arm64-11-cp311"


def test_awkward_paths_become_uri_references() -> None:
    results = _log()["runs"][0]["results"]
    odd = next(r for r in results if r["ruleId"] == "parse-error")
    uri = odd["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert ODD != uri == "requirements-odd%20%7C%25.txt"
    assert sarif.artifact_uri("./reqs/a.txt") == ("reqs/a.txt", "%SRCROOT%")
    assert sarif.artifact_uri("/abs/a b.txt") == ("file:///abs/a%20b.txt", None)
    assert sarif.artifact_uri("C:\\w\\r.txt") == ("file:///C:/w/r.txt", None)


def test_message_text_is_kept_verbatim() -> None:
    results = _log()["runs"][0]["results"]
    odd = next(r for r in results if r["ruleId"] == "parse-error")
    assert odd["message"]["text"].startswith("100% broken: a, b\nsecond line | with a pipe")


def test_fingerprints_are_stable_across_line_moves_and_distinct() -> None:
    report = sample_report()
    results = _log(report)["runs"][0]["results"]
    prints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in results]
    assert len(set(prints)) == len(prints)
    moved = Report(
        findings=tuple(
            replace(
                f, location=Location(f.location.path, f.location.line + 7, f.location.end_line + 7)
            )
            for f in report.findings
        ),
        unverified=report.unverified,
        targets=report.targets,
    )
    moved_prints = [
        r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in _log(moved)["runs"][0]["results"]
    ]
    assert moved_prints == prints
    bumped = replace(report.findings[0], version="2.32.4")
    assert sarif.fingerprint(bumped) != sarif.fingerprint(report.findings[0])


def test_unverified_requirements_are_notifications_and_mark_the_run_incomplete() -> None:
    (invocation,) = _log()["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [n["properties"]["project"] for n in notes] == ["click", "rich"]
    assert "offline, nothing cached" in notes[0]["message"]["text"]
    assert notes[1]["locations"][0]["physicalLocation"]["region"]["startLine"] == 18
    assert all(n["level"] == "warning" for n in notes)


def test_clean_run() -> None:
    run = _log(clean_report())["runs"][0]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_tool_version_falls_back_to_the_package_version() -> None:
    from reqhash_check import __version__

    log = _log(clean_report(), RenderContext())
    assert log["runs"][0]["tool"]["driver"]["version"] == __version__


def test_severity_override_is_reflected_in_the_level() -> None:
    report = sample_report()
    demoted = replace(report.findings[0], severity=Severity.WARNING)
    log = _log(Report(findings=(demoted,)))
    assert log["runs"][0]["results"][0]["level"] == "warning"


def _multitool() -> list[str] | None:
    npx = shutil.which("npx")
    if npx is None:
        return None
    probe = subprocess.run(
        [npx, "--no-install", "@microsoft/sarif-multitool", "--version"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if probe.returncode != 0:
        return None
    return [npx, "--no-install", "@microsoft/sarif-multitool"]


def test_sarif_multitool_validate_finds_nothing(tmp_path: Path) -> None:
    """Microsoft's validator, when installed (`npm install @microsoft/sarif-multitool`)."""
    tool = _multitool()
    if tool is None:
        pytest.skip("@microsoft/sarif-multitool is not installed for npx")
    log_path = tmp_path / "out.sarif"
    log_path.write_text(sarif.render(sample_report(), CONTEXT), encoding="utf-8")
    result_path = tmp_path / "validation.sarif"
    run = subprocess.run(
        [*tool, "validate", str(log_path), "--output", str(result_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    validation = json.loads(result_path.read_text(encoding="utf-8"))
    problems = [
        r["message"].get("text", r.get("ruleId"))
        for r in validation["runs"][0]["results"]
        if r.get("level", "warning") in ("error", "warning")
    ]
    assert problems == []
