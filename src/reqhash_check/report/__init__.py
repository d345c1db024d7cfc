"""Output formats. Each is a module with `render(report, context) -> str`: a pure projection."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from reqhash_check.findings import Report

FORMATS = ("text", "json", "sarif", "github", "markdown")


@dataclass(frozen=True)
class RenderContext:
    color: bool = False
    verbose: bool = False
    quiet: bool = False
    tool_version: str = ""
    fix_command: str = "reqhash-check --fix"
    """The command a user runs to fix mismatch findings, shown under them."""
    fix_hint: str = "reqhash-check --fix {path}"
    """How to fix a fixable finding where the tool runs; `{path}` is the finding's file."""


Renderer = Callable[[Report, RenderContext], str]


def renderer(name: str) -> Renderer:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
    module = importlib.import_module(f"reqhash_check.report.{name}")
    render: Renderer = module.render
    return render
