"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

from reqhash_check import __version__
from reqhash_check.escape import json_text
from reqhash_check.findings import Finding, Location, Report, Severity, Unverified
from reqhash_check.report import RenderContext
from reqhash_check.rules import DOCS_URL, RULES, Rule

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "reqhashCheck/v1"
TOOL_NAME = "reqhash-check"

_RULE_INDEX = {rule_id: index for index, rule_id in enumerate(RULES)}


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _tags(rule: Rule) -> list[str]:
    tags = ["pip", "hash-checking"]
    if rule.kb:
        tags.append("supply-chain")
    if rule.id in ("insecure-index", "foreign-hash"):
        tags.append("security")
    return tags


def _descriptor(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tags": _tags(rule),
        "precision": "very-high",
        "problem.severity": _level(rule.severity),
        "requiresIndex": rule.needs_index,
        "fixable": rule.fixable is not None,
    }
    if rule.kb:
        properties["kb"] = rule.kb
    descriptor: dict[str, Any] = {"id": rule.id}
    name = _pascal(rule.id)
    if name.lower() != rule.id.lower():  # SARIF wants a name only when it differs from the id
        descriptor["name"] = name
    return descriptor | {
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{rule.summary} What pip does: {rule.pip_does}"},
        # The whole documentation travels with the report: code scanning shows it as is.
        "help": {"text": rule.explain(), "markdown": rule.markdown()},
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": properties,
    }


def artifact_uri(path: str) -> tuple[str, str | None]:
    """A finding's path as a SARIF artifact URI and its base: relative paths hang off %SRCROOT%."""
    posix = path.replace("\\", "/")
    if re.match(r"^[A-Za-z]:/", posix):  # a Windows drive path
        return "file:///" + quote(posix, safe="/:", errors="surrogateescape"), None
    if posix.startswith("/"):
        return "file://" + quote(posix, safe="/", errors="surrogateescape"), None
    while posix.startswith("./"):
        posix = posix[2:]
    return quote(posix, safe="/", errors="surrogateescape"), SRCROOT


def _location(location: Location) -> dict[str, Any]:
    uri, base = artifact_uri(location.path)
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if location.line >= 1:
        physical["region"] = {
            "startLine": location.line,
            "endLine": max(location.line, location.end_line),
        }
    return {"physicalLocation": physical}


def fingerprint(finding: Finding) -> str:
    """Stable across runs and line moves: what the finding is about, not where the line is now."""
    parts = [
        finding.rule,
        finding.location.path.replace("\\", "/"),
        (finding.project or "").lower(),
        finding.version or "",
        finding.target or "",
    ]
    if finding.project is None:
        parts.append(finding.message)
    return hashlib.sha256("\0".join(parts).encode(errors="surrogateescape")).hexdigest()[:32]


def _result(finding: Finding) -> dict[str, Any]:
    optional = {
        "project": finding.project,
        "version": finding.version,
        "target": finding.target,
        "kb": finding.kb,
        "fix": finding.fix.title if finding.fix is not None else None,
    }
    properties: dict[str, Any] = {"severity": finding.severity.value}
    properties.update({key: value for key, value in optional.items() if value is not None})
    if finding.hashes is not None:
        properties["hashes"] = {
            "listed": list(finding.hashes.listed),
            "expected": list(finding.hashes.expected),
        }
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _level(finding.severity),
        "message": {"text": finding.message},
        "locations": [_location(finding.location)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": properties,
    }
    if finding.rule in _RULE_INDEX:
        result["ruleIndex"] = _RULE_INDEX[finding.rule]
    if finding.suppressed:
        result["suppressions"] = [
            {"kind": "inSource", "justification": "# reqhash: ignore[...] on its lines"}
        ]
    return result


def _notification(item: Unverified) -> dict[str, Any]:
    label = f"{item.project} {item.version}" if item.version else item.project
    properties: dict[str, Any] = {"project": item.project}
    if item.version is not None:
        properties["version"] = item.version
    return {
        "level": "warning",
        "message": {"text": f"{label} could not be verified: {item.reason}"},
        "locations": [_location(item.location)],
        "properties": properties,
    }


def build(report: Report, context: RenderContext) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    findings = sorted(report.findings, key=lambda f: f.sort_key)
    unverified = sorted(report.unverified, key=lambda u: (u.location, u.project))
    invocation: dict[str, Any] = {"executionSuccessful": not unverified}
    if unverified:
        invocation["toolExecutionNotifications"] = [_notification(u) for u in unverified]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": context.tool_version or __version__,
                "informationUri": DOCS_URL,
                "rules": [_descriptor(rule) for rule in RULES.values()],
            }
        },
        "invocations": [invocation],
        "results": [_result(f) for f in findings],
        "columnKind": "unicodeCodePoints",
    }
    if report.targets:
        run["properties"] = {"targets": list(report.targets)}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, context: RenderContext) -> str:
    return json_text(build(report, context))
