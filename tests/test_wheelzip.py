"""Reading a wheel's METADATA from its central directory, held to what zipfile reads."""

from __future__ import annotations

import io
import random
import zipfile
import zlib

import pytest

from reqhash_check.index.wheelzip import METADATA_MEMBER, NeedBytes, SparseFile, metadata_member

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: idna>=3\n\n"
LIMIT = 4096


def _zip(
    *members: tuple[str, bytes],
    compression: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
    zip64: bool = False,
    before: bytes = b"",
) -> bytes:
    buffer = io.BytesIO()
    buffer.write(before)
    with zipfile.ZipFile(buffer, "a" if before else "w", compression) as archive:
        for name, data in members:
            with archive.open(name, "w", force_zip64=zip64 and name.endswith("METADATA")) as out:
                out.write(data)
        archive.comment = comment
    return buffer.getvalue()


def _wheel(*extra: tuple[str, bytes], **options: object) -> bytes:
    return _zip(
        ("demo/__init__.py", b"x = 1\n" * 100),
        *extra,
        ("demo-1.0.dist-info/RECORD", b""),
        **options,  # type: ignore[arg-type]
    )


def _with_zipfile(wheel: SparseFile, limit: int) -> bytes | None:
    """The reference: what zipfile itself reads (it decompresses a member whole, so only
    for these small cases)."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if METADATA_MEMBER.fullmatch(n)]
        if len(names) != 1:
            return None
        info = archive.getinfo(names[0])
        if info.file_size > limit:
            return None
        return archive.read(info)


def _whole(data: bytes) -> SparseFile:
    sparse = SparseFile(len(data))
    sparse.add(0, data)
    return sparse


def _outcome(read: object, data: bytes) -> object:
    """The METADATA bytes, None, or "refused": every error the dependency reader turns into
    "cannot be read" counts as one answer."""
    try:
        return read(_whole(data), LIMIT)  # type: ignore[operator]
    except (
        zipfile.BadZipFile,
        zlib.error,
        ValueError,
        NotImplementedError,
        RuntimeError,
        EOFError,
    ):
        return "refused"


def _set(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def _member_data(data: bytes) -> int:
    """Where the METADATA member's compressed bytes start."""
    header = data.index(b"PK\x03\x04", data.index(b"demo/__init__.py"))
    name_length = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_length = int.from_bytes(data[header + 28 : header + 30], "little")
    return header + 30 + name_length + extra_length


CASES = {
    "deflated": _wheel(("demo-1.0.dist-info/METADATA", METADATA)),
    "stored": _wheel(("demo-1.0.dist-info/METADATA", METADATA), compression=zipfile.ZIP_STORED),
    "many members": _wheel(
        *((f"demo/m{n}.py", b"") for n in range(3000)), ("demo-1.0.dist-info/METADATA", METADATA)
    ),
    "a comment": _wheel(("demo-1.0.dist-info/METADATA", METADATA), comment=b"made by hand"),
    "two METADATA": _wheel(
        ("demo-1.0.dist-info/METADATA", METADATA), ("other-1.0.dist-info/METADATA", METADATA)
    ),
    "no METADATA": _wheel(),
    "METADATA too large": _wheel(("demo-1.0.dist-info/METADATA", METADATA * 100)),
    "nested METADATA only": _wheel(("demo/x-1.0.dist-info/METADATA", METADATA)),
    "ZIP64 member": _wheel(("demo-1.0.dist-info/METADATA", METADATA), zip64=True),
    "bzip2": _wheel(("demo-1.0.dist-info/METADATA", METADATA), compression=zipfile.ZIP_BZIP2),
    "lzma": _wheel(("demo-1.0.dist-info/METADATA", METADATA), compression=zipfile.ZIP_LZMA),
    "bzip2 and ZIP64": _wheel(
        ("demo-1.0.dist-info/METADATA", METADATA), compression=zipfile.ZIP_BZIP2, zip64=True
    ),
    "data before the archive": _wheel(("demo-1.0.dist-info/METADATA", METADATA), before=b"#!x\n"),
    "a UTF-8 name": _wheel(("demo/é.py", b""), ("demo-1.0.dist-info/METADATA", METADATA)),
    "not a zip": b"\x00" * 100,
    "cut short": _wheel(("demo-1.0.dist-info/METADATA", METADATA))[:-10],
}
_DEFLATED = CASES["deflated"]
CASES["a damaged member"] = _flip(_DEFLATED, _member_data(_DEFLATED) + 3)
CASES["a damaged directory"] = _flip(_DEFLATED, _DEFLATED.rindex(b"PK\x01\x02") + 29)
_END_AT = _DEFLATED.rindex(b"PK\x05\x06")
CASES["damaged deflate data"] = _set(_DEFLATED, _member_data(_DEFLATED), b"\xff")
CASES["a one-byte comment"] = _wheel(("demo-1.0.dist-info/METADATA", METADATA), comment=b"c")
CASES["a two-byte comment"] = _wheel(("demo-1.0.dist-info/METADATA", METADATA), comment=b"cc")
CASES["a byte after the end record"] = _DEFLATED + b"\n"
CASES["too few entries counted"] = _set(_DEFLATED, _END_AT + 10, (1).to_bytes(2, "little"))
CASES["too many entries counted"] = _set(_DEFLATED, _END_AT + 10, (5).to_bytes(2, "little"))
_CENTRAL = _DEFLATED.index(b"PK\x01\x02")
_FLAGS = _DEFLATED.index(b"demo-1.0.dist-info/METADATA", _CENTRAL) - 46 + 8
CASES["encrypted"] = _set(_DEFLATED, _FLAGS, b"\x01")
CASES["a NUL in a name"] = _wheel(("demo-1.0.dist-info/METADATA\0x", METADATA))


@pytest.mark.parametrize("case", sorted(CASES))
def test_reads_what_zipfile_reads(case: str) -> None:
    data = CASES[case]
    ours, theirs = _outcome(metadata_member, data), _outcome(_with_zipfile, data)
    assert ours == theirs
    if case in (
        "deflated",
        "stored",
        "many members",
        "a comment",
        "ZIP64 member",
        "bzip2",
        "lzma",
        "bzip2 and ZIP64",
        "data before the archive",
    ):
        assert ours == METADATA


def test_asks_only_for_the_end_then_the_member() -> None:
    """From the wheel's last 64 KiB, the central directory is read and exactly the bytes of
    the METADATA member are asked for next; with them, the member is read."""
    data = _wheel(
        ("demo-1.0.dist-info/METADATA", METADATA),
        *((f"demo/big{n}.bin", random.Random(n).randbytes(40_000)) for n in range(4)),
    )
    sparse = SparseFile(len(data))
    sparse.add(len(data) - 65536, data[-65536:])
    with pytest.raises(NeedBytes) as asked:
        metadata_member(sparse, LIMIT)
    need = asked.value
    assert need.end - need.start < 200  # the member's local header, not the whole wheel
    sparse.add(need.start, data[need.start : need.start + 8192])
    assert metadata_member(sparse, LIMIT) == METADATA
