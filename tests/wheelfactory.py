"""Tiny real wheels and sdists for tests: pip accepts them, nothing needs the network.

The sdists carry their own in-tree PEP 517 backend (`build-system.requires = []`), so pip
can prepare their metadata, and build them, in an isolated build environment without
asking any index for setuptools.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import io
import struct
import tarfile
import textwrap
import zipfile
import zlib
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


# --- archives built by hand: members whose headers say what the test wants ---------------


class RawMember(NamedTuple):
    """A zip member as stored: `data` already compressed by `method`; `crc` and `size` are
    what the headers state (a bomb states a small size)."""

    name: str
    data: bytes
    method: int = zipfile.ZIP_STORED
    crc: int = 0
    size: int = 0


def raw_member(name: str, content: bytes, method: int = zipfile.ZIP_DEFLATED) -> RawMember:
    """An honest member: `content` compressed by `method`, its real CRC and size."""
    if method == zipfile.ZIP_DEFLATED:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = compressor.compress(content) + compressor.flush()
    elif method == zipfile.ZIP_BZIP2:
        data = bz2.compress(content, 9)
    else:
        data = content
    return RawMember(name, data, method, zlib.crc32(content), len(content))


def zip_archive(members: Iterable[RawMember], before: bytes = b"") -> bytes:
    """A zip of `members` exactly as given (after `before`, e.g. a shebang line)."""
    local, central = io.BytesIO(), io.BytesIO()
    members = list(members)
    for member in members:
        name = member.name.encode()
        offset = local.tell()
        version = 46 if member.method == zipfile.ZIP_BZIP2 else 20
        sizes = (member.crc, len(member.data), member.size)
        local.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", version, 0, member.method, 0,
                                0x5021, *sizes, len(name), 0))  # fmt: skip
        local.write(name + member.data)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, version, 0, member.method,
                                  0, 0x5021, *sizes, len(name), 0, 0, 0, 0, 0, offset))  # fmt: skip
        central.write(name)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(central.getvalue()), local.tell(), 0)  # fmt: skip
    return before + local.getvalue() + central.getvalue() + end


def zeros_deflate(size: int) -> bytes:
    """Raw deflate data of `size` zeros (a multiple of 1 MiB), about a thousandth of that:
    after a full flush each 1 MiB of zeros compresses to the same bytes, so they are
    repeated rather than compressed again."""
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + again * (size // len(chunk) - 1) + compressor.flush()


_BZ_BLOCK_MAGIC = 0x314159265359
_BZ_END_MAGIC = 0x177245385090


def zeros_bzip2(size: int) -> bytes:
    """One bzip2 stream of `size` zeros (a multiple of 1 MiB), a few KB per GiB: the block
    that holds 1 MiB of zeros is repeated, bit for bit, and the stream's CRC (each block's
    CRC folded in) set for the whole."""
    one = bz2.compress(bytes(1 << 20), 9)
    bits = bin(int.from_bytes(one, "big"))[2:].zfill(len(one) * 8)
    for pad in range(8):  # the stream ends on a byte: 48 + 32 bits, then 0-7 bits of padding
        end = len(bits) - pad - 80
        if int(bits[end : end + 48], 2) == _BZ_END_MAGIC:
            break
    else:
        raise AssertionError("no end of stream found")
    block = bits[32:end]
    assert int(block[:48], 2) == _BZ_BLOCK_MAGIC
    block_crc = int(block[48:80], 2)
    combined = 0
    for _ in range(size >> 20):
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ block_crc
    stream = bits[:32] + block * (size >> 20) + bits[end : end + 48] + f"{combined:032b}"
    stream += "0" * (-len(stream) % 8)
    return int(stream, 2).to_bytes(len(stream) // 8, "big")


def bomb_wheel(
    name: str, version: str, method: int, expands_to: int, before: bytes = b""
) -> BuiltFile:
    """A wheel whose METADATA says it holds a few hundred bytes, while its data (deflate or
    bzip2) expands to `expands_to` zeros."""
    dist = _dist_name(name)
    metadata = core_metadata(name, version)
    data = zeros_bzip2(expands_to) if method == zipfile.ZIP_BZIP2 else zeros_deflate(expands_to)
    members = [
        raw_member(f"{dist}/__init__.py", b""),
        RawMember(
            f"{dist}-{version}.dist-info/METADATA",
            data,
            method,
            zlib.crc32(metadata),
            len(metadata),
        ),  # fmt: skip
        raw_member(f"{dist}-{version}.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
    ]
    content = zip_archive(members, before)
    filename = f"{dist}-{version}-py3-none-any.whl"
    return BuiltFile(filename, content, hashlib.sha256(content).hexdigest(), metadata)


def zip_sdist(name: str, version: str, pkg_info: RawMember | bytes) -> BuiltFile:
    """A `.zip` sdist holding only its PKG-INFO (given as bytes, or as a member as stored)."""
    root = f"{_dist_name(name)}-{version}"
    if isinstance(pkg_info, bytes):
        pkg_info = raw_member(f"{root}/PKG-INFO", pkg_info)
    member = pkg_info._replace(name=f"{root}/PKG-INFO")
    content = zip_archive([member])
    return BuiltFile(f"{root}.zip", content, hashlib.sha256(content).hexdigest(), b"")


def tar_gz_sdist_behind_zeros(name: str, version: str, zeros: int, pkg_info: bytes) -> BuiltFile:
    """A `.tar.gz` sdist whose first member is `zeros` zero bytes (a multiple of 1 MiB) and
    whose PKG-INFO comes after it: reading it means decompressing all of them."""
    root = f"{_dist_name(name)}-{version}"

    def header(path: str, size: int) -> bytes:
        info = tarfile.TarInfo(path)
        info.size, info.mtime, info.mode = size, _TAR_MTIME, 0o644
        return info.tobuf(tarfile.USTAR_FORMAT)

    chunk = bytes(1 << 20)
    tail = header(f"{root}/PKG-INFO", len(pkg_info)) + pkg_info
    tail += bytes(-len(tail) % 512) + bytes(1024)
    head = header(f"{root}/zeros", zeros)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = compressor.compress(head) + compressor.compress(chunk)
    first += compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    content = first + again * (zeros // len(chunk) - 1) + compressor.compress(tail)
    crc = zlib.crc32(head)
    for _ in range(zeros // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + zeros + len(tail)
    content += compressor.flush()[:-8] + struct.pack("<II", crc, size & 0xFFFFFFFF)
    return BuiltFile(f"{root}.tar.gz", content, hashlib.sha256(content).hexdigest(), pkg_info)
