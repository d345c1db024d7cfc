"""A requirement line's text → what pip's requirement constructors make of it.

Models pip's install_req_from_line / install_req_from_editable: markers split off at
";", URLs and local paths turned into links, a wheel's name and version read from its
file name, an `#egg=` name, and the checks pip makes before anything is downloaded.

pip asks the filesystem one thing while it reads: whether a path names a folder (and
whether that folder has a pyproject.toml or setup.py). The caller answers for the paths
it may look at (`Folders`); for the others ("unknown") the reader assumes what a working
install needs: a path-like requirement that is not a valid requirement string is a
project folder, and so is an editable that is neither a URL nor an archive.
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reqhash_check.requirements import pep508
from reqhash_check.requirements.model import Kind
from reqhash_check.requirements.versions import PipRules

VCS_NAMES = ("bzr", "git", "hg", "svn")
VCS_SCHEMES = frozenset(
    (
        "bzr+http",
        "bzr+https",
        "bzr+ssh",
        "bzr+sftp",
        "bzr+ftp",
        "bzr+lp",
        "bzr+file",
        "git+http",
        "git+https",
        "git+ssh",
        "git+git",
        "git+file",
        "hg+file",
        "hg+http",
        "hg+https",
        "hg+ssh",
        "hg+static-http",
        "svn+ssh",
        "svn+http",
        "svn+https",
        "svn+svn",
        "svn+file",
    )
)
_URL_SCHEMES = frozenset(("http", "https", "file", "ftp")) | VCS_SCHEMES
ARCHIVE_EXTENSIONS = (
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
_EGG_RE = re.compile(r"[#&]egg=([^&]*)")
_PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_EXTRAS_SUFFIX_RE = re.compile(r"^(.+)(\[[^\]]+\])$")
_LEGACY_WHEEL_RE = re.compile(
    r"^(?P<name>[^\s-]+?)-(?P<ver>[^\s-]*?)"
    r"(?:(?:-\d[^-]*?)?-[^\s-]+?-[^\s-]+?-[^\s-]+?\.whl|\.dist-info)$"
)
_WHEEL_NAME_RE = re.compile(r"^[\w\d._]*$")
_SCHEME_LIKE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# `name==1.2.3`, the bulk of a lock file: every step of pip's reading is known for it.
_PLAIN_PIN_RE = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)==([0-9]+(?:\.[0-9]+)*)")


Folders = Callable[[str], str]
"""An absolute path → "project" (a folder with pyproject.toml or setup.py), "folder",
"missing" (no such folder), or "unknown" (not to be looked at)."""


def unknown_folders(path: str) -> str:
    return "unknown"


class BuildError(ValueError):
    """pip refuses the requirement before downloading anything."""


@dataclass(frozen=True)
class Built:
    """What pip builds from a requirement line's requirement part."""

    name: str | None
    specifiers: tuple[str, ...]
    extras: tuple[str, ...]
    marker: str | None
    url: str | None
    kind: Kind
    editable: bool


# ------------------------------------------------------------------------------ links


def splitext(path: str) -> tuple[str, str]:
    """pip's splitext: `.tar.gz` and friends count as one extension."""
    base, ext = posixpath.splitext(path)
    if base.lower().endswith(".tar"):
        ext = base[-4:] + ext
        base = base[:-4]
    return base, ext


def is_archive_file(name: str) -> bool:
    return splitext(name)[1].lower() in ARCHIVE_EXTENSIONS


def is_url(name: str, rules: PipRules) -> bool:
    """Whether pip takes `name` for a URL: by its scheme, which pip 24.1 and later read
    with urllib (which drops tabs and newlines) rather than up to the first colon."""
    if rules.version < (24, 1):
        return ":" in name and name.split(":", 1)[0].lower() in _URL_SCHEMES
    try:
        scheme = urllib.parse.urlsplit(name).scheme
    except ValueError as exc:
        raise BuildError(f"the URL cannot be parsed ({exc})") from None
    return scheme in _URL_SCHEMES


def looks_like_path(name: str) -> bool:
    return os.sep in name or (os.altsep is not None and os.altsep in name) or name.startswith(".")


def path_to_url(path: str, cwd: str) -> str:
    path = os.path.normpath(os.path.join(cwd, path))
    return urllib.parse.urljoin("file://", urllib.parse.quote(path))


class Link:
    def __init__(self, url: str, rules: PipRules, cwd: str) -> None:
        if url.startswith("\\\\"):
            url = path_to_url(url, cwd)
        try:
            parsed = urllib.parse.urlsplit(url)
        except ValueError as exc:
            raise BuildError(f"the URL cannot be parsed ({exc})") from None
        self.url = url
        self.scheme = parsed.scheme
        self.netloc = parsed.netloc
        self.path = urllib.parse.unquote(parsed.path)
        self.rules = rules
        self.egg_fragment = self._egg_fragment()

    def _egg_fragment(self) -> str | None:
        match = _EGG_RE.search(self.url)
        if match is None:
            return None
        name = match.group(1)
        if self.rules.egg_fragment_strict and not _PROJECT_NAME_RE.match(name):
            # Before 26.0 pip only warned that this would stop working.
            raise BuildError(
                "the #egg= fragment is invalid: it must be a bare project name "
                "(use `name[extra] @ URL` for anything more)"
            )
        return name

    @property
    def filename(self) -> str:
        name = posixpath.basename(self.path.rstrip("/"))
        if self.rules.version >= (26, 2):
            name = os.path.basename(name)
            if name in ("", os.curdir, os.pardir):
                name = ""
        elif name:
            return urllib.parse.unquote(name)
        if name:
            return name
        host = self.netloc.rpartition("@")[2]
        return os.path.basename(host) if self.rules.version >= (26, 2) else host

    def check_local(self) -> None:
        """pip turns a file: link into a path as it builds the requirement."""
        if self.scheme != "file":
            return
        if not self.url.startswith("file:"):
            raise BuildError("pip cannot turn this file: URL into a path (spell the scheme file:)")
        if self.netloc not in ("", "localhost"):
            raise BuildError("non-local file URIs are not supported on this platform")

    @property
    def is_wheel(self) -> bool:
        return splitext(posixpath.basename(self.path.rstrip("/")))[1] == ".whl"

    @property
    def is_vcs(self) -> bool:
        return self.scheme in VCS_SCHEMES


def _kind(link: Link | None, editable: bool) -> Kind:
    if editable:
        return Kind.EDITABLE
    if link is None:
        return Kind.NAMED
    if link.is_vcs:
        return Kind.VCS
    if link.scheme == "file":
        return Kind.LOCAL_FILE if is_archive_file(link.filename) else Kind.LOCAL_DIR
    return Kind.URL


# ----------------------------------------------------------------------- requirements


def _requirement(text: str, rules: PipRules) -> pep508.ParsedRequirement:
    try:
        return pep508.parse_requirement(text, pep508.grammar_for(rules.packaging))
    except pep508.InvalidRequirement as exc:
        raise BuildError(f"not a valid requirement ({exc})") from None


def _extras(text: str | None, rules: PipRules) -> tuple[str, ...]:
    """pip reads `[a,b]` after a path as the extras of a placeholder requirement."""
    if not text:
        return ()
    return _requirement("placeholder" + text.lower(), rules).extras


def _requirement_extras(requirement: pep508.ParsedRequirement, rules: PipRules) -> tuple[str, ...]:
    if rules.safe_extras:
        return tuple(re.sub("[^A-Za-z0-9.-]+", "_", extra).lower() for extra in requirement.extras)
    return requirement.extras


def strip_extras(path: str, rules: PipRules) -> tuple[str, str | None]:
    match = _EXTRAS_SUFFIX_RE.match(path)
    if match is None:
        return path, None
    base = match.group(1).rstrip() if rules.version >= (25, 3) else match.group(1)
    return base, match.group(2)


def _wheel_name(filename: str, rules: PipRules) -> tuple[str, str]:
    if rules.wheel_names != "legacy":
        parsed = _wheel_name_packaging(filename, check_tags=rules.packaging >= (26, 3))
        if parsed is not None:
            return parsed
        if rules.wheel_names == "packaging":
            raise BuildError(f"{filename} is not a valid wheel filename")
    match = _LEGACY_WHEEL_RE.match(filename)
    if match is None:
        raise BuildError(f"{filename} is not a valid wheel filename")
    return match.group("name").replace("_", "-"), match.group("ver").replace("_", "-")


def _wheel_name_packaging(filename: str, check_tags: bool) -> tuple[str, str] | None:
    if not filename.endswith(".whl"):
        return None
    stem = filename[:-4]
    dashes = stem.count("-")
    if dashes not in (4, 5):
        return None
    parts = stem.split("-", dashes - 2)
    if "__" in parts[0] or not _WHEEL_NAME_RE.match(parts[0]):
        return None
    try:
        version = str(Version(parts[1]))
    except InvalidVersion:
        return None
    if dashes == 5 and not re.match(r"(\d+)(.*)", parts[2]):
        return None
    if check_tags:  # packaging 26.3 checks the tags too
        components = [part.split(".") for part in parts[-1].split("-")]
        if any("" in part for part in components):
            return None
        if not all(interpreter.isidentifier() for interpreter in components[0]):
            return None
    return canonicalize_name(parts[0]), version


def _url_from_path(path: str, name: str, rules: PipRules, cwd: str, folders: Folders) -> str | None:
    if looks_like_path(name):
        kind = folders(os.path.join(cwd, path))
        if kind == "project":
            return path_to_url(path, cwd)
        if kind == "folder":
            raise BuildError(
                f"Directory {name!r} is not installable. Neither 'setup.py' nor "
                "'pyproject.toml' found."
            )
        if kind == "unknown" and not is_archive_file(path):
            try:
                _requirement(name, rules)
            except BuildError:
                return path_to_url(path, cwd)  # a project folder, assumed to be there
            return None
    if not is_archive_file(path):
        return None
    before_at = name.split("@", 1)
    if len(before_at) >= 2 and not looks_like_path(before_at[0]):
        return None
    return path_to_url(path, cwd)


def from_line(
    text: str,
    rules: PipRules,
    cwd: str,
    *,
    constraint: bool = False,
    folders: Folders = unknown_folders,
) -> Built:
    """pip's install_req_from_line for a requirement line's requirement part."""
    plain = _PLAIN_PIN_RE.fullmatch(text.strip()) if ";" not in text else None
    if plain is not None:
        name, version = plain.groups()
        return Built(name, (f"=={version}",), (), None, None, Kind.NAMED, False)
    grammar = pep508.grammar_for(rules.packaging)
    marker: str | None = None
    separator = "; " if ":" in text and is_url(text, rules) else ";"
    if separator in text:
        text, marker_text = text.split(separator, 1)
        marker_text = marker_text.strip()
        if marker_text:
            try:
                marker = pep508.parse_marker(marker_text, grammar)
            except pep508.InvalidMarker as exc:
                raise BuildError(f"not a valid environment marker ({exc})") from None
    text = text.strip()
    path = os.path.normpath(os.path.join(cwd, text))
    link: Link | None = None
    extras: tuple[str, ...] = ()
    if ":" in text and is_url(text, rules):
        link = Link(text, rules, cwd)
    else:
        base, extras_text = strip_extras(path, rules)
        extras = _extras(extras_text, rules)
        url = _url_from_path(base, text, rules, cwd, folders)
        if url is not None:
            link = Link(url, rules, cwd)
    requirement_text: str | None
    if link is not None:
        if link.scheme == "file" and re.search(r"\.\./", link.url):
            link = Link(path_to_url(link.path, cwd), rules, cwd)
        if link.is_wheel:
            wheel_name, wheel_version = _wheel_name(link.filename, rules)
            requirement_text = f"{wheel_name}=={wheel_version}"
        else:
            requirement_text = link.egg_fragment
    else:
        requirement_text = text
    try:
        requirement = None if requirement_text is None else _requirement(requirement_text, rules)
    except BuildError as exc:
        raise BuildError(f"{exc}{_hint(requirement_text or '', cwd, folders)}") from None
    if requirement is not None and rules.extras_after_version_refused:
        for clause in requirement.specifiers:
            if clause.endswith("]"):
                raise BuildError(f"extras after the version ('{clause}')")
    if link is None and requirement is not None and requirement.url:
        link = Link(requirement.url, rules, cwd)
    if link is not None:
        link.check_local()
    if not extras and requirement is not None:
        extras = _requirement_extras(requirement, rules)
    if marker is None and requirement is not None:
        marker = requirement.marker
    return Built(
        name=requirement.name if requirement is not None else None,
        specifiers=requirement.specifiers if requirement is not None else (),
        extras=extras,
        marker=marker,
        url=link.url if link is not None else None,
        kind=_kind(link, editable=False),
        editable=False,
    )


_OPERATORS = ("~=", "==", "!=", "<=", ">=", "<", ">", "===")


def _hint(text: str, cwd: str, folders: Folders) -> str:
    """pip's hint after a requirement it cannot parse."""
    if os.sep in text:
        missing = folders(os.path.join(cwd, text)) == "missing"
        return " It looks like a path." + (f" File {text!r} does not exist." if missing else "")
    if "=" in text and not any(operator in text for operator in _OPERATORS):
        return " = is not a valid operator. Did you mean == ?"
    return ""


def _assume_project_folder(path: str) -> bool:
    return not (_SCHEME_LIKE_RE.match(path) or "#" in path or is_archive_file(path))


def from_editable(
    text: str,
    rules: PipRules,
    cwd: str,
    *,
    constraint: bool = False,
    folders: Folders = unknown_folders,
) -> Built:
    """pip's install_req_from_editable for the value of `-e`."""
    if constraint and rules.editable_constraint_refused_early:
        raise BuildError("Editable requirements are not allowed as constraints")
    name, url, extras = _parse_editable(text, rules, cwd, folders)
    requirement = _requirement(name, rules) if name is not None else None
    link = Link(url, rules, cwd)
    link.check_local()
    return Built(
        name=requirement.name if requirement is not None else None,
        specifiers=requirement.specifiers if requirement is not None else (),
        extras=extras or (_requirement_extras(requirement, rules) if requirement else ()),
        marker=requirement.marker if requirement is not None else None,
        url=link.url,
        kind=Kind.EDITABLE,
        editable=True,
    )


def _parse_editable(
    text: str, rules: PipRules, cwd: str, folders: Folders
) -> tuple[str | None, str, tuple[str, ...]]:
    if rules.direct_url_editables:
        try:
            direct = pep508.parse_requirement(text, pep508.grammar_for(rules.packaging))
        except pep508.InvalidRequirement:
            direct = None
        if direct is not None and direct.url:
            name = f"{direct.name} ; {direct.marker}" if direct.marker else direct.name
            _check_editable_link(Link(direct.url, rules, cwd), name)
            return name, direct.url, direct.extras
    url = text
    base, extras_text = strip_extras(url, rules)
    kind = folders(os.path.join(cwd, base)) if base else "missing"
    if kind in ("project", "folder") or (kind == "unknown" and _assume_project_folder(base)):
        base = path_to_url(base, cwd)
    if base.lower().startswith("file:"):
        return Link(base, rules, cwd).egg_fragment, base, _extras(extras_text, rules)
    for name in VCS_NAMES:
        if url.lower().startswith(f"{name}:"):
            url = f"{name}+{url}"
            break
    link = Link(url, rules, cwd)
    _check_editable_link(link, link.egg_fragment)
    return link.egg_fragment, url, ()


def _check_editable_link(link: Link, name: str | None) -> None:
    if not link.is_vcs and not link.url.startswith("file:"):
        raise BuildError(
            "not a valid editable requirement: it should be a path to a local project or "
            "a VCS URL (git+, hg+, svn+ or bzr+)"
        )
    if not name and not link.url.startswith("file:"):
        how = "name @ URL" if link.rules.direct_url_editables else "#egg=name"
        raise BuildError(f"pip cannot tell the project's name; name it with {how}")


def constraint_problem(built: Built) -> str | None:
    """pip's check of a constraint, made when the constraints are collected."""
    if not built.name:
        return "Unnamed requirements are not allowed as constraints"
    if built.editable:
        return "Editable requirements are not allowed as constraints"
    if built.extras:
        return "Constraints cannot have extras"
    return None
