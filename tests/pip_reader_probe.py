"""Read requirements files with pip's own parser and print what pip made of them, as JSON.

Run by a pinned pip's interpreter (never imported by the test process):

    PYTHON -I tests/pip_reader_probe.py < cases.json > results.json

Input: a JSON list of cases, each {"id", "dir", "env": {NAME: value}}: the folder holds
the case's files, the top-level one is "requirements.txt". Each case is read with its
folder as the current directory, with exactly the case's environment, and with the
network switched off.

Output: one record per case: "lines" (what each parsed line gave: a requirement as pip's
InstallRequirement sees it, or the options of an option line, with the format control
after the line) and "error" (pip's error text and where it happened), following pip
install's order: parse a line, build its requirement, then check the constraints.
"""

from __future__ import annotations

import inspect
import json
import os
import socket
import sys
import traceback
import types
from typing import Any


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise OSError("network is switched off for this probe")


socket.socket.connect = _no_network  # type: ignore[method-assign]
socket.getaddrinfo = _no_network
socket.create_connection = _no_network

from pip._internal.models.format_control import FormatControl  # noqa: E402
from pip._internal.network.session import PipSession  # noqa: E402
from pip._internal.req import req_file  # noqa: E402
from pip._internal.req.constructors import install_req_from_parsed_requirement  # noqa: E402
from pip._internal.req.req_install import check_invalid_constraint_type  # noqa: E402
from pip._internal.utils.filetypes import is_archive_file  # noqa: E402

try:
    from pip._internal.models.release_control import ReleaseControl
except ImportError:  # pip < 26.0
    ReleaseControl = None

# Where pip is: a stack of [file, line] of the files being read, innermost last.
_STACK: list[list[Any]] = []
_ERROR_AT: list[Any] = []

_original_parse_file = req_file.RequirementsFileParser._parse_file
_original_preprocess = req_file.preprocess


def _tracking_parse_file(self: Any, filename: str, constraint: bool) -> Any:
    _STACK.append([filename, None])
    try:
        yield from _original_parse_file(self, filename, constraint)
    except BaseException:
        if not _ERROR_AT:
            _ERROR_AT.extend(item[:] for item in _STACK)
        raise
    finally:
        _STACK.pop()


def _tracking_preprocess(content: str) -> Any:
    for number, line in _original_preprocess(content):
        _STACK[-1][1] = number
        yield number, line


req_file.RequirementsFileParser._parse_file = _tracking_parse_file
req_file.preprocess = _tracking_preprocess


_SESSIONS: list[Any] = []


def _session() -> Any:
    if not _SESSIONS:
        _SESSIONS.append(PipSession(retries=0))
    return _SESSIONS[0]


def _build(parsed_req: Any) -> Any:
    """As pip install does: a requirement's --config-settings go with it, a constraint's
    do not."""
    accepts = "config_settings" in inspect.signature(install_req_from_parsed_requirement).parameters
    if parsed_req.constraint or not accepts or not parsed_req.options:
        return install_req_from_parsed_requirement(parsed_req)
    return install_req_from_parsed_requirement(
        parsed_req, config_settings=parsed_req.options.get("config_settings")
    )


def _kind(ireq: Any) -> str:
    link = ireq.link
    if ireq.editable:
        return "editable"
    if link is None:
        return "named"
    if link.is_vcs:
        return "vcs"
    if link.scheme == "file":
        return "local-file" if is_archive_file(link.filename) else "local-dir"
    return "url"


def _specs(req: Any) -> list[str]:
    return sorted(str(spec) for spec in req.specifier) if req is not None else []


def _format_control(finder: Any) -> list[list[str]]:
    control = finder.format_control
    return [sorted(control.no_binary), sorted(control.only_binary)]


def _option_line(opts: Any) -> dict[str, Any]:
    names = (
        "index_url",
        "extra_index_urls",
        "no_index",
        "find_links",
        "trusted_hosts",
        "require_hashes",
        "no_require_hashes",
        "pre",
        "prefer_binary",
        "features_enabled",
        "requirements",
        "constraints",
        "editables",
    )
    return {name: getattr(opts, name, None) for name in names}


def _relative(path: str, root: str) -> str:
    if path.startswith(("file:", "http:", "https:")):
        return path
    absolute = os.path.abspath(path)
    if absolute.startswith(root + os.sep):
        return os.path.relpath(absolute, root)
    return path


def read_case(case: dict[str, Any], root: str) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    finder = types.SimpleNamespace(
        format_control=FormatControl(set(), set()),
        release_control=ReleaseControl() if ReleaseControl is not None else None,
    )
    parser = req_file.RequirementsFileParser(_session(), req_file.get_line_parser(finder))
    constraints: list[tuple[Any, dict[str, Any]]] = []
    hash_flags: dict[str, int] = {}
    _STACK.clear()
    _ERROR_AT.clear()
    where: list[Any] = []
    try:
        for parsed in parser.parse("requirements.txt", constraint=False):
            where = [[_relative(parsed.filename, root), parsed.lineno]]
            record: dict[str, Any] = {
                "file": _relative(parsed.filename, root),
                "line": parsed.lineno,
                "format_control": _format_control(finder),
            }
            parsed_req = req_file.handle_line(parsed)
            if parsed_req is None:
                record["options"] = _option_line(parsed.opts)
                lines.append(record)
                for flag in ("require_hashes", "no_require_hashes"):
                    if record["options"][flag]:
                        hash_flags.setdefault(flag, len(lines) - 1)
                continue
            ireq = _build(parsed_req)
            record["requirement"] = {
                "name": ireq.req.name if ireq.req is not None else None,
                "specifier": _specs(ireq.req),
                "extras": sorted(ireq.extras),
                "marker": str(ireq.markers) if ireq.markers is not None else None,
                "hashes": {k: list(v) for k, v in (ireq.hash_options or {}).items()},
                "editable": bool(ireq.editable),
                "url": ireq.link.url if ireq.link is not None else None,
                "kind": _kind(ireq),
                "constraint": bool(ireq.constraint),
                "config_settings": getattr(ireq, "config_settings", None),
                "global_options": getattr(ireq, "global_options", None) or [],
                "install_options": getattr(ireq, "install_options", None) or [],
            }
            lines.append(record)
            if ireq.constraint:
                constraints.append((ireq, record))
        if len(hash_flags) == 2:  # as pip install checks once every file is read
            second = lines[max(hash_flags.values())]
            where = [[second["file"], second["line"]]]
            raise RuntimeError("--require-hashes and --no-require-hashes are mutually exclusive")
        for ireq, record in constraints:
            where = [[record["file"], record["line"]]]
            problem = check_invalid_constraint_type(ireq)
            if problem:
                raise RuntimeError(problem)
    except (Exception, RecursionError) as error:  # noqa: BLE001 - every refusal is data
        at = [[_relative(f, root), n] for f, n in _ERROR_AT] if _ERROR_AT else where
        text = str(error)
        if not text.strip():
            text = "".join(traceback.format_exception_only(type(error), error)).strip()
        return {"lines": lines, "error": {"type": type(error).__name__, "text": text, "at": at}}
    return {"lines": lines, "error": None}


def main() -> None:
    cases = json.load(sys.stdin)
    sys.setrecursionlimit(400)
    results = {}
    keep_env = dict(os.environ)
    for case in cases:
        root = os.path.realpath(case["dir"])
        os.chdir(root)
        os.environ.clear()
        os.environ.update(case.get("env", {}))
        try:
            results[case["id"]] = read_case(case, root)
        finally:
            os.environ.clear()
            os.environ.update(keep_env)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
