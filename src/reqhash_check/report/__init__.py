"""Output formats. Each is a module with `render(report, context) -> str`: a pure projection."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reqhash_check.findings import Report

FORMATS = ("text", "json", "sarif", "github", "markdown")


@dataclass(frozen=True)
class RenderContext:
    """How a report is shown."""

    color: bool = False
    verbose: bool = False
    quiet: bool = False
    tool_version: str = ""
    fix_command: str = "reqhash-check --fix"
    """The command a user runs to fix mismatch findings, shown under them."""
    fix_hint: str = "reqhash-check --fix {path}"
    """How to fix a fixable finding where the tool runs; `{path}` is the finding's file."""
    fix_hints: Mapping[str, str | None] | None = field(default=None, compare=False)
    """Path → the command that fixes that file's findings, reproducing the run's options;
    None for a path no printed command can fix (standard input). Wins over fix_hint."""
    hint_note: str | None = None
    """Said once under the hints when they cannot be run exactly as printed."""

    def fix_hint_for(self, path: str) -> str | None:
        if self.fix_hints is not None:
            return self.fix_hints.get(path)
        return self.fix_hint.replace("{path}", path)


Renderer = Callable[[Report, RenderContext], str]


def renderer(name: str) -> Renderer:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
    module = importlib.import_module(f"reqhash_check.report.{name}")
    render: Renderer = module.render
    return render
