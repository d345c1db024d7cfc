"""A top-level requirements file and its includes → a RequirementSet and its problems.

The files are untrusted: an include is read only when it resolves inside the root (the
git work tree of the top-level file, else the current folder), is a regular file and is
not under `.git/`; every file is read once per set, and the sizes are capped (see the
constants below). An included file that turns out not to be a requirements file is
reported by its path, quoting none of its content.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from packaging.utils import canonicalize_name

from reqhash_check import fs
from reqhash_check.findings import Location
from reqhash_check.requirements import construct
from reqhash_check.requirements.decode import decode_requirements, read_text
from reqhash_check.requirements.lines import (
    ExpansionTooLong,
    LogicalLine,
    expand,
    logical_lines,
    suppressions,
)
from reqhash_check.requirements.model import (
    HASHES,
    REQUIREMENT,
    FileOption,
    HashSpec,
    Kind,
    ParseProblem,
    RequirementEntry,
    RequirementSet,
    RequirementsFileError,
)
from reqhash_check.requirements.options import LineOptions, OptionError, parse_line
from reqhash_check.requirements.versions import OLDEST, PipRules, rules_for

# The caps: exceeding one stops the whole set with RequirementsFileError.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_LINE_CHARS = 100 * 1024
MAX_FILES_PER_SET = 1_000
MAX_LINES_PER_SET = 2_000_000
MAX_INCLUDE_DEPTH = 100

# An included file with at least this many logical lines, more than half of them
# refused, is not a requirements file.
_NOT_REQUIREMENTS_MIN_LINES = 3
_QUOTED = re.compile(r"'[^'\n]*'")


def _unquoted(problem: ParseProblem) -> ParseProblem:
    """A problem in an included file, without the text pip's message quotes from the line:
    an include the checked file names may hold what was never meant to be printed (a
    one-line `.env` with a token in it). The file and line are still named."""
    return replace(problem, message=_QUOTED.sub("'…'", problem.message))


_SCHEME_RE = re.compile(r"^(http|https|file):", re.IGNORECASE)

# Option line values pip applies to the whole install: option dest → FileOption name.
_PLAIN_OPTIONS = (
    ("index_url", "index_url"),
    ("extra_index_urls", "extra_index_url"),
    ("trusted_hosts", "trusted_host"),
    ("features_enabled", "use_feature"),
)
_FLAG_OPTIONS = (
    ("no_index", "no_index"),
    ("require_hashes", "require_hashes"),
    ("no_require_hashes", "no_require_hashes"),
    ("pre", "pre"),
    ("prefer_binary", "prefer_binary"),
)


@dataclass(frozen=True)
class _Source:
    """A file of the set: as findings name it, where it is, and its URL when included as one."""

    display: str
    """The path as findings name it (relative paths stay relative)."""
    real: str | None
    """Its realpath; None for standard input."""
    url: str | None = None
    """The file: URL it was included by, when it was (pip resolves from that)."""


@dataclass
class _Include:
    """A -r or -c line, followed once its file is read."""

    target: str
    constraint: bool
    location: Location
    suppressed: frozenset[str]
    written: str
    """The target as written (before ${VAR} expansion): what messages name."""
    expanded: bool = False


class _NulInPath(Exception):
    """An include names a path holding a NUL character."""


@dataclass
class _FileResult:
    """What one file gives, in pip's order, before it is merged into the set."""

    items: list[RequirementEntry | ParseProblem | FileOption | _Include] = field(
        default_factory=list
    )
    logical: int = 0
    refused: int = 0
    substitutions: dict[str, str] = field(default_factory=dict)


class _Loader:
    def __init__(
        self,
        environ: Mapping[str, str],
        rules: PipRules,
        cwd: str,
        allow_outside_includes: bool,
        overlay: Mapping[str, str],
    ) -> None:
        self.environ = environ
        self.overlay = overlay
        self.rules = rules
        self.cwd = cwd
        self.allow_outside = allow_outside_includes
        self.root = fs.Root(cwd)
        self.seen: set[tuple[str, bool]] = set()
        self.folder_kinds: dict[str, str] = {}
        self.files_read = 0
        self.lines_read = 0

    # -- top level --------------------------------------------------------------------

    def load(self, path: str, text: str | None) -> tuple[RequirementSet, list[ParseProblem]]:
        req_set = RequirementSet(top_level=path, pip_version=self.rules.version)
        problems: list[ParseProblem] = []
        self.root = fs.Root.at(fs.repository_root(path, self.cwd), allow_outside=self.allow_outside)
        if path == "-":
            source = _Source("-", None)
        else:
            source = _Source(path, os.path.realpath(os.path.join(self.cwd, path)))
        if text is None:
            text = self.overlay.get(path)
        if text is None:
            text = self._read_top_level(path)
        self._count_file()
        self._merge(source, self._read_file(source, text, False), req_set, problems, (), 0)
        conflict = _require_hashes_conflict(req_set.options, self.rules)
        if conflict is not None:
            problems.append(conflict)
        return req_set, [_unquoted(p) if p.location.path != path else p for p in problems]

    def _read_top_level(self, path: str) -> str:
        try:
            data = fs.read_bytes(self.root, path, MAX_FILE_BYTES, cwd=self.cwd)
        except fs.Refused as refused:
            raise RequirementsFileError(_top_level_refusal(path, refused)) from None
        self._check_size(path, len(data))
        return read_text(data, path, self.rules.version)

    # -- caps -------------------------------------------------------------------------

    @staticmethod
    def _check_size(path: str, size: int) -> None:
        if size > MAX_FILE_BYTES:
            raise RequirementsFileError(
                f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the cap on a "
                "requirements file"
            )

    def _count_file(self) -> None:
        self.files_read += 1
        if self.files_read > MAX_FILES_PER_SET:
            raise RequirementsFileError(
                f"more than {MAX_FILES_PER_SET} files in one requirements set, the cap on includes"
            )

    def _count_lines(self, source: _Source, count: int) -> None:
        self.lines_read += count
        if self.lines_read > MAX_LINES_PER_SET:
            raise RequirementsFileError(
                f"{source.display}: more than {MAX_LINES_PER_SET} lines in one requirements "
                "set, the cap on lines"
            )

    @staticmethod
    def _check_line(source: _Source, line: LogicalLine | int, length: int) -> None:
        if length > MAX_LINE_CHARS:
            number = line if isinstance(line, int) else line.start
            raise RequirementsFileError(
                f"{source.display}:{number}: a line longer than {MAX_LINE_CHARS // 1024} KiB, "
                "the cap on a logical line"
            )

    # -- one file ---------------------------------------------------------------------

    def _read_file(self, source: _Source, text: str, constraint: bool) -> _FileResult:
        physical = text.splitlines(keepends=True)
        bare = text.splitlines()
        self._count_lines(source, len(bare))
        for index, physical_line in enumerate(bare):
            if len(physical_line) > MAX_LINE_CHARS:
                self._check_line(source, index + 1, len(physical_line))
        result = _FileResult()
        for line in logical_lines(bare):
            self._check_line(source, line, len(line.written))
            if "${" in line.written:
                line = self._expand(source, line)
            result.logical += 1
            raw = "".join(physical[line.start - 1 : line.end])
            location = Location(source.display, line.start, line.end)
            before = len(result.items)
            self._read_line(line, location, raw, constraint, result)
            if any(isinstance(item, ParseProblem) for item in result.items[before:]):
                result.refused += 1
            result.substitutions.update(line.substituted)
        return result

    def _expand(self, source: _Source, line: LogicalLine) -> LogicalLine:
        try:
            text, substituted = expand(line.written, self.environ, MAX_LINE_CHARS)
        except ExpansionTooLong:
            self._check_line(source, line, MAX_LINE_CHARS + 1)
            raise  # pragma: no cover - _check_line raised
        return LogicalLine(line.start, line.end, line.written, text, substituted)

    def _read_line(
        self,
        line: LogicalLine,
        location: Location,
        raw: str,
        constraint: bool,
        result: _FileResult,
    ) -> None:
        suppressed = suppressions(raw)
        items = result.items
        try:
            options = parse_line(line.text, self.rules)
        except OptionError as exc:
            items.append(self._problem(line, location, exc.reason, exc.quoted, suppressed))
            return
        written = self._written_options(line, options)
        for position, (name, value) in enumerate(options.binary):
            items.append(
                self._file_option(line, location, name, value, written, "binary", position)
            )
        editables = options.strings("editables")
        if options.args or editables:
            if options.args and not self.rules.editable_option_wins:
                options.values.pop("editables", None)
            self._requirement(line, location, raw, constraint, options, suppressed, items, written)
            return
        if options.refused_hash is not None:
            items.append(self._problem(line, location, options.refused_hash, False, suppressed))
            return
        self._option_line(line, location, options, written, items)
        dest = "requirements" if options.strings("requirements") else "constraints"
        targets = options.strings(dest)
        if targets:
            shown = written.strings(dest)[0] if written is not None else _shorten(line.written)
            include = _Include(
                targets[0], dest == "constraints", location, suppressed, shown, shown != targets[0]
            )
            items.append(include)

    def _written_options(self, line: LogicalLine, options: LineOptions) -> LineOptions | None:
        """The options of the line as written, when they line up with the expanded ones."""
        if not line.substituted:
            return options
        try:
            written = parse_line(line.written, self.rules)
        except OptionError:
            return None
        return written if _shape(written) == _shape(options) else None

    def _file_option(
        self,
        line: LogicalLine,
        location: Location,
        name: str,
        value: str | bool,
        written_options: LineOptions | None,
        dest: str,
        position: int,
    ) -> FileOption:
        if not line.substituted or isinstance(value, bool):
            return FileOption(name, value, location)
        written: str | None = None
        if written_options is not None:
            if dest == "binary":
                written = written_options.binary[position][1]
            else:
                found = written_options.values.get(dest)
                written = str(found[position] if isinstance(found, list) else found)
        if written is None:  # the expansion changed the options: show the line as written
            return FileOption(name, value, location, _shorten(line.written), True)
        expanded = any("${" + var + "}" in written for var, _ in line.substituted)
        return FileOption(name, value, location, written, expanded)

    def _option_line(
        self,
        line: LogicalLine,
        location: Location,
        options: LineOptions,
        written: LineOptions | None,
        items: list[RequirementEntry | ParseProblem | FileOption | _Include],
    ) -> None:
        values = options.values
        for dest, name in _FLAG_OPTIONS:
            if values.get(dest):
                items.append(FileOption(name, True, location))
        for dest, name in _PLAIN_OPTIONS:
            value = values.get(dest)
            if isinstance(value, list):
                for position, item in enumerate(value):
                    items.append(
                        self._file_option(line, location, name, item, written, dest, position)
                    )
            elif isinstance(value, str) and value:
                items.append(self._file_option(line, location, name, value, written, dest, 0))
        find_links = options.strings("find_links")
        if find_links:  # pip applies only the first --find-links of a line
            items.append(
                self._file_option(
                    line, location, "find_links", find_links[0], written, "find_links", 0
                )
            )
        for name, value in options.releases:
            items.append(FileOption(name, value, location))

    def _requirement(
        self,
        line: LogicalLine,
        location: Location,
        raw: str,
        constraint: bool,
        options: LineOptions,
        suppressed: frozenset[str],
        items: list[RequirementEntry | ParseProblem | FileOption | _Include],
        written: LineOptions | None = None,
    ) -> None:
        editables = options.strings("editables")
        editable = bool(editables)
        text = options.args or editables[0]
        if editable and options.refused_hash is not None:
            items.append(self._problem(line, location, options.refused_hash, False, suppressed))
            return
        try:
            build = construct.from_editable if editable else construct.from_line
            built = build(text, self.rules, self.cwd, constraint=constraint, folders=self.folder)
        except construct.BuildError as exc:
            reason = f"Invalid requirement: {_quote_text(line, text)}: {exc}"
            items.append(self._problem(line, location, reason, True, suppressed))
            return
        if constraint:
            problem = construct.constraint_problem(built)
            if problem is not None:
                items.append(self._problem(line, location, problem, False, suppressed))
                return
        dests = self.rules.editable_dests if editable else self.rules.requirement_dests
        hashes = tuple(HashSpec(a, d) for a, d in options.hashes) if "hashes" in dests else ()
        # pip passes a requirement's --config-settings on, but not a constraint's.
        keep_config = "config_settings" in dests and not constraint
        config = tuple(options.config_settings) if keep_config else ()
        clauses = tuple(sorted(set(built.specifiers)))
        raw_name = built.name or ""
        items.append(
            RequirementEntry(
                name=canonicalize_name(raw_name) if raw_name else "",
                raw_name=raw_name,
                kind=built.kind,
                specifier=",".join(clauses),
                pin=_pin(clauses) if built.kind is Kind.NAMED else None,
                extras=tuple(sorted(built.extras)),
                marker=built.marker,
                hashes=hashes,
                location=location,
                raw=raw,
                is_constraint=constraint,
                url=built.url,
                suppressed=suppressed,
                config_settings=config,
                expanded=bool(line.substituted),
                tainted=_tainted(line, options, written),
                written=_shorten(line.written) if line.substituted else "",
            )
        )

    def _problem(
        self,
        line: LogicalLine,
        location: Location,
        reason: str,
        quotes_line: bool,
        suppressed: frozenset[str],
    ) -> ParseProblem:
        pip = f"pip {self.rules.version[0]}.{self.rules.version[1]}"
        if line.substituted and quotes_line:
            names = ", ".join("${" + name + "}" for name, _ in line.substituted)
            message = (
                f"{pip} refuses this line once {names} is expanded: {_shorten(line.written)!r}"
            )
        else:
            message = f"{pip} refuses this line: {reason}"
        return ParseProblem("parse-error", location, message, suppressed)

    # -- includes ---------------------------------------------------------------------

    def _merge(
        self,
        source: _Source,
        result: _FileResult,
        req_set: RequirementSet,
        problems: list[ParseProblem],
        chain: tuple[str, ...],
        depth: int,
    ) -> None:
        req_set.files.append(source.display)
        req_set.expanded.update(result.substitutions)
        here = (*chain, source.real or "-")
        for item in result.items:
            if isinstance(item, RequirementEntry):
                req_set.entries.append(item)
            elif isinstance(item, FileOption):
                req_set.options.append(item)
            elif isinstance(item, ParseProblem):
                problems.append(item)
            else:
                self._include(source, item, req_set, problems, here, depth + 1)

    def _include(
        self,
        parent: _Source,
        include: _Include,
        req_set: RequirementSet,
        problems: list[ParseProblem],
        chain: tuple[str, ...],
        depth: int,
    ) -> None:
        def refuse(message: str) -> None:
            problems.append(
                ParseProblem("include-error", include.location, message, include.suppressed)
            )

        written = include.written
        try:
            target = self._resolve(parent, include.target)
        except _NulInPath:
            # No file name can hold a NUL, and pip stops on it with an error of its own. The
            # path is the file's text: not quoted; its file and line are named.
            where = f"{include.location.path}:{include.location.line}"
            option = "-c" if include.constraint else "-r"
            raise RequirementsFileError(
                f"{where}: {option} names a path holding a NUL character (written as %00 or "
                "raw), which no file name can hold; pip cannot open it"
            ) from None
        if target is None:
            refuse(f"{written}: a remote include is not fetched; pip would download it")
            return
        if isinstance(target, str):
            refuse(f"{written}: {target}")
            return
        source = target
        assert source.real is not None
        if source.real in chain:
            names = [os.path.basename(p) for p in (*chain, source.real) if p != "-"]
            shown = written if include.expanded else " -> ".join(names)
            refuse(f"include cycle: {shown}")
            return
        if depth > MAX_INCLUDE_DEPTH:
            raise RequirementsFileError(
                f"{parent.display}: includes nested more than {MAX_INCLUDE_DEPTH} deep, the "
                "cap on include depth"
            )
        key = (source.real, include.constraint)
        if key in self.seen:
            return
        text: str | None = self.overlay.get(source.display)
        if text is None:
            data_or_error = self._read_include(source.display)
            if isinstance(data_or_error, str):
                refuse(f"{written}: {data_or_error}")
                return
            text = self._decode_include(source, data_or_error)
        self._count_file()
        self.seen.add(key)
        if text is None:
            refuse(f"{written}: is not a requirements file")
            return
        result = self._read_file(source, text, include.constraint)
        if result.logical >= _NOT_REQUIREMENTS_MIN_LINES and result.refused * 2 > result.logical:
            refuse(f"{written}: is not a requirements file")
            return
        self._merge(source, result, req_set, problems, chain, depth)

    def _resolve(self, parent: _Source, target: str) -> _Source | str | None:
        """Where pip looks for an include: a _Source, why it cannot, or None (remote)."""
        if parent.url is None and not _SCHEME_RE.search(target):
            base = os.path.dirname(parent.display) if parent.display != "-" else ""
            display = os.path.normpath(os.path.join(base, target))
            if "\x00" in display:
                raise _NulInPath
            return _Source(display, os.path.realpath(os.path.join(self.cwd, display)))
        try:
            url = urllib.parse.urljoin(parent.url, target) if parent.url else target
            parts = urllib.parse.urlsplit(url)
        except ValueError:
            return "pip cannot open this URL"
        if parts.scheme.lower() in ("http", "https"):
            return None
        if not url.startswith("file://"):
            return "pip cannot open this file: URL (only file:// URLs on this host)"
        if parts.netloc not in ("", "localhost"):
            return "pip does not open file: URLs on another host"
        path = urllib.parse.unquote(parts.path)
        if "\x00" in path:
            raise _NulInPath
        return _Source(path, os.path.realpath(path), url)

    def folder(self, path: str) -> str:
        """What pip would find at `path` (see construct.Folders); only looked at inside
        the root, as everything else the reader reads."""
        kind = self.folder_kinds.get(path)
        if kind is None:
            kind = self.folder_kinds[path] = self._folder(path)
        return kind

    def _folder(self, path: str) -> str:
        try:
            found = fs.kind(self.root, path, cwd=self.cwd)
            if found == "refused":
                return "unknown"
            if found != "folder":
                return "missing"
            for marker in ("pyproject.toml", "setup.py"):
                if fs.kind(self.root, os.path.join(path, marker), cwd=self.cwd) == "file":
                    return "project"
        except (OSError, ValueError):
            return "unknown"
        return "folder"

    def _read_include(self, path: str) -> bytes | str:
        """The bytes of an include, or why it is not read."""
        try:
            data = fs.read_bytes(self.root, path, MAX_FILE_BYTES, cwd=self.cwd)
        except fs.Refused as refused:
            if refused.confinement:
                return f"{refused.reason}; not read"
            if refused.reason == "is a directory":
                return "is not a regular file"
            return refused.reason
        _Loader._check_size(path, len(data))
        return data

    def _decode_include(self, source: _Source, data: bytes) -> str | None:
        try:
            if source.url is not None:
                text = _decode_like_a_download(source.display, data)
            else:
                text = decode_requirements(data, self.rules.version)[0]
        except (UnicodeDecodeError, LookupError, ValueError):
            return None
        if text is None or "\x00" in text:
            return None
        return text


def _top_level_refusal(path: str, refused: fs.Refused) -> str:
    if refused.reason == "does not exist":
        return f"{path}: no such file"
    if refused.reason == "is a directory":
        return f"{path}: is a directory, not a requirements file"
    if refused.confinement:
        hint = (
            " (--allow-outside-includes reads it)" if refused.reason.startswith("outside") else ""
        )
        return f"{path}: resolves {refused.reason}; not read{hint}"
    return f"{path}: {refused.reason}"


def _decode_like_a_download(path: str, data: bytes) -> str | None:
    """A file:// include is fetched like a download: its text is decoded by the type its
    name suggests (text: ISO-8859-1, JSON: UTF-8), with no byte-order mark handling."""
    import mimetypes

    content_type = mimetypes.guess_type(path)[0] or "text/plain"
    if "text" in content_type:
        return data.decode("iso-8859-1")
    if "application/json" in content_type:
        return data.decode("utf-8")
    return None


def _tainted(
    line: LogicalLine, options: LineOptions, written: LineOptions | None
) -> frozenset[str]:
    """Which parts of a requirement derive from an expansion, found where ${VAR} is expanded:
    a part is tainted when it reads differently as written; every part when the expansion
    changed the line's options."""
    if not line.substituted:
        return frozenset()
    if written is None:
        return frozenset({REQUIREMENT, HASHES})
    tainted = set()
    if written.args != options.args or written.strings("editables") != options.strings("editables"):
        tainted.add(REQUIREMENT)
    if written.hashes != options.hashes:
        tainted.add(HASHES)
    return frozenset(tainted)


def _shape(options: LineOptions) -> tuple[dict[str, int], list[str]]:
    """Which options a line has and how many times: values pair up when shapes match."""
    counts = {k: len(v) if isinstance(v, list) else 1 for k, v in options.values.items()}
    return counts, [name for name, _ in options.binary]


def _require_hashes_conflict(options: list[FileOption], rules: PipRules) -> ParseProblem | None:
    """pip refuses the install when --require-hashes and --no-require-hashes both apply."""
    names = [o.name for o in options]
    if "require_hashes" not in names or "no_require_hashes" not in names:
        return None
    second = max(names.index("require_hashes"), names.index("no_require_hashes"))
    location = options[second].location
    assert location is not None
    pip = f"pip {rules.version[0]}.{rules.version[1]}"
    return ParseProblem(
        "parse-error",
        location,
        f"{pip} refuses the install: --require-hashes and --no-require-hashes are "
        "mutually exclusive",
    )


def _pin(clauses: tuple[str, ...]) -> str | None:
    if len(clauses) != 1:
        return None
    clause = clauses[0]
    if clause.startswith("==="):
        return clause[3:]
    if clause.startswith("==") and not clause.endswith(".*"):
        return clause[2:]
    return None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote_text(line: LogicalLine, text: str) -> str:
    return repr(_shorten(text))


def load(
    path: str,
    *,
    text: str | None = None,
    environ: Mapping[str, str] | None = None,
    pip_version: tuple[int, int] = OLDEST,
    allow_outside_includes: bool = False,
    cwd: str | None = None,
    overlay: Mapping[str, str] | None = None,
) -> tuple[RequirementSet, list[ParseProblem]]:
    """Read one top-level requirements file and its includes as the given pip would.

    `text` is the content of `path` when it was already read (standard input is "-");
    `overlay` holds new texts of files in the set, by the path findings show for them
    (`--fix` checks its edits in memory before anything is written).
    Raises RequirementsFileError when the top-level file cannot be read or a cap is hit.
    """
    loader = _Loader(
        os.environ if environ is None else environ,
        rules_for(pip_version),
        os.getcwd() if cwd is None else cwd,
        allow_outside_includes,
        overlay or {},
    )
    return loader.load(path, text)
