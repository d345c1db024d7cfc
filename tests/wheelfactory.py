"""Tiny real wheels and sdists for tests: pip accepts them, nothing needs the network.

The sdists carry their own in-tree PEP 517 backend (`build-system.requires = []`), so pip
can prepare their metadata, and build them, in an isolated build environment without
asking any index for setuptools.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import textwrap
import zipfile
from collections.abc import Iterable
from typing import NamedTuple

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

# A fixed timestamp keeps the bytes, and so the hashes, the same on every run.
_ZIP_TIME = (2020, 2, 2, 0, 0, 0)
_TAR_MTIME = 1580601600


class BuiltFile(NamedTuple):
    filename: str
    content: bytes
    sha256: str
    metadata: bytes
    """The core metadata (METADATA / PKG-INFO), as served for PEP 658."""


def _dist_name(name: str) -> str:
    """The filename form of a project name (PEP 427 / PEP 625)."""
    return canonicalize_name(name).replace("-", "_")


def core_metadata(
    name: str,
    version: str,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {req}" for req in requires_dist]
    return ("\n".join(lines) + "\n\n").encode()


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel_bytes(
    name: str,
    version: str,
    tags: str = "py3-none-any",
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    build: str | None = None,
) -> tuple[str, bytes, bytes]:
    """(filename, wheel bytes, METADATA bytes)."""
    dist = _dist_name(name)
    dist_info = f"{dist}-{version}.dist-info"
    metadata = core_metadata(name, version, requires_dist, requires_python)
    wheel_lines = ["Wheel-Version: 1.0", "Generator: wheelfactory", "Root-Is-Purelib: true"]
    wheel_lines += [f"Tag: {tag}" for tag in sorted(str(t) for t in parse_tag(tags))]
    if build:
        wheel_lines.append(f"Build: {build}")
    members = {
        f"{dist}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": ("\n".join(wheel_lines) + "\n").encode(),
    }
    record = [_record_line(path, data) for path, data in members.items()]
    record.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, _ZIP_TIME), data)
    parts = [dist, version] + ([build] if build else []) + [tags]
    return "-".join(parts) + ".whl", buffer.getvalue(), metadata


def build_wheel(
    name: str,
    version: str,
    tags: str = "py3-none-any",
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    build: str | None = None,
) -> BuiltFile:
    """A valid wheel; `tags` is the compressed tag set of the filename, e.g.
    "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"."""
    filename, content, metadata = wheel_bytes(
        name, version, tags, tuple(requires_dist), requires_python, build
    )
    return BuiltFile(filename, content, hashlib.sha256(content).hexdigest(), metadata)


_BACKEND = '''\
"""In-tree PEP 517 backend: metadata from PKG-INFO, a pure wheel with no code."""
import base64, hashlib, os, zipfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = {dist!r}
_VERSION = {version!r}
_DIST_INFO = _NAME + "-" + _VERSION + ".dist-info"


def _metadata():
    with open(os.path.join(_HERE, "PKG-INFO"), "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    target = os.path.join(metadata_directory, _DIST_INFO)
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "METADATA"), "wb") as f:
        f.write(_metadata())
    return _DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    filename = _NAME + "-" + _VERSION + "-py3-none-any.whl"
    members = {{
        _DIST_INFO + "/METADATA": _metadata(),
        _DIST_INFO + "/WHEEL": b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    record = []
    for path, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append("%s,sha256=%s,%d" % (path, digest.decode(), len(data)))
    record.append(_DIST_INFO + "/RECORD,,")
    members[_DIST_INFO + "/RECORD"] = ("\\n".join(record) + "\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return filename
'''


def build_sdist(
    name: str,
    version: str,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
) -> BuiltFile:
    """A `.tar.gz` sdist with PKG-INFO, pyproject.toml and an in-tree build backend."""
    dist = _dist_name(name)
    root = f"{dist}-{version}"
    metadata = core_metadata(name, version, tuple(requires_dist), requires_python)
    pyproject = textwrap.dedent(
        """\
        [build-system]
        requires = []
        build-backend = "wheelfactory_backend"
        backend-path = ["."]
        """
    ).encode()
    members = {
        f"{root}/PKG-INFO": metadata,
        f"{root}/pyproject.toml": pyproject,
        f"{root}/wheelfactory_backend.py": _BACKEND.format(dist=dist, version=version).encode(),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = _TAR_MTIME
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()

    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    content = compressed.getvalue()
    return BuiltFile(f"{root}.tar.gz", content, hashlib.sha256(content).hexdigest(), metadata)
