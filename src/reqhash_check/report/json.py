"""Machine output with its own versioned schema: fields are only ever added."""

from __future__ import annotations

from collections import Counter
from typing import Any

from reqhash_check.escape import json_text
from reqhash_check.findings import (
    AddHashes,
    Finding,
    Fix,
    IndexUse,
    PinDependency,
    RepinProject,
    Report,
    RewriteLockEntries,
    SetHashes,
    Severity,
)
from reqhash_check.report import RenderContext

SCHEMA_VERSION = 1


def render(report: Report, context: RenderContext) -> str:
    document = {
        "schema": SCHEMA_VERSION,
        "tool": {"name": "reqhash-check", "version": context.tool_version},
        "findings": [finding_dict(f) for f in sorted(report.findings, key=lambda f: f.sort_key)],
        "summary": {
            "errors": report.count(Severity.ERROR),
            "warnings": report.count(Severity.WARNING),
            "suppressed": report.suppressed,
            "by_rule": dict(sorted(Counter(f.rule for f in report.active).items())),
            "files": list(dict.fromkeys(report.files)),
            "requirements": report.requirements_checked,
            "targets": list(report.targets),
            "unverified": len(report.unverified),
            "unreadable": list(report.unreadable),
            "indexes": [index_dict(u) for u in report.indexes],
            "index_errors": list(report.index_errors),
            "dependencies_unknown": list(report.dependencies_unknown),
        },
        "unverified": [
            {
                "path": u.location.path,
                "line": u.location.line,
                "end_line": u.location.end_line,
                "project": u.project,
                "version": u.version,
                "reason": u.reason,
            }
            for u in report.unverified
        ],
    }
    return json_text(document)


def index_dict(use: IndexUse) -> dict[str, Any]:
    return {
        "url": use.url,
        "kind": use.kind,
        "path": use.origin.path if use.origin else None,
        "line": use.origin.line if use.origin else None,
        "contacted": use.contacted,
    }


def fix_dict(fix: Fix | None) -> dict[str, Any] | None:
    if isinstance(fix, SetHashes):
        return {"kind": "set-hashes", "title": fix.title, "hashes": list(fix.hashes)}
    if isinstance(fix, AddHashes):
        return {"kind": "add-hashes", "title": fix.title, "hashes": list(fix.hashes)}
    if isinstance(fix, PinDependency):
        return {
            "kind": "pin-dependency",
            "title": fix.title,
            "project": fix.project,
            "specifiers": [spec for spec, _ in fix.specifiers],
            "marker": fix.marker,
            "path": fix.path,
        }
    if isinstance(fix, RepinProject):
        return {
            "kind": "repin",
            "title": fix.title,
            "project": fix.project,
            "specifiers": [spec for spec, _ in fix.specifiers],
        }
    if isinstance(fix, RewriteLockEntries):
        return {"kind": "rewrite-lock-entries", "title": fix.title, "project": fix.project}
    return None


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "path": finding.location.path,
        "line": finding.location.line,
        "end_line": finding.location.end_line,
        "project": finding.project,
        "version": finding.version,
        "message": finding.message,
        "kb": finding.kb,
        "hashes": {
            "listed": list(finding.hashes.listed) if finding.hashes else [],
            "expected": list(finding.hashes.expected) if finding.hashes else [],
        },
        "target": finding.target,
        "suppressed": finding.suppressed,
        "fix": fix_dict(finding.fix),
    }
