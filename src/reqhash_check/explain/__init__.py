"""`reqhash-check explain [LOG …]`: name the cause of a failed pip run's hash errors."""

from __future__ import annotations

from reqhash_check.explain.command import explain_main

__all__ = ["explain_main"]
