"""An xlsx file as a zip archive, trusted no further than it is checked.

The file, its entries and its central directory are held within their bounds before
:mod:`zipfile` reads the directory, and a part is only ever inflated from its raw data: never
beyond its declared size, and checked against that size and its CRC when read to the end, so a
directory that lies is caught. The bounds and why they are what they are:
:mod:`ops_pipeline.readers.xlsx`.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ops_pipeline.readers.errors import LandingError, message_line

MiB = 1 << 20
MAX_FILE_BYTES = 64 * MiB  # the .xlsx file itself
MAX_ENTRIES = 10_000  # zip entries (parts)
MAX_DIRECTORY_BYTES = 4 * MiB  # the zip's central directory
MAX_PART_BYTES = 256 * MiB  # any one part, inflated
MAX_TOTAL_BYTES = 512 * MiB  # all parts together, inflated
REFUSED = "refused (export larger tables as CSV)"

_CHUNK = MiB
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader


def broken(path: str | Path, problem: str) -> LandingError:
    """The error for a file that is no xlsx workbook (or a damaged one)."""
    return LandingError(path, f"cannot be opened as xlsx: {problem}")


def part_key(name: str) -> bytes:
    """A part name as calamine matches it: ASCII case ignored (and only ASCII case)."""
    return name.encode("utf-8", "surrogateescape").lower()


class Archive:
    """The bytes of an xlsx file and its zip directory, within the bounds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = _read_file(path)
        self.infos = _open_zip(path, self.data).infolist()
        self._parts = {part_key(info.filename): info for info in self.infos}

    def close(self) -> None:
        """Let go of the file's bytes."""
        self.data = b""

    def part(self, name: str) -> zipfile.ZipInfo | None:
        """A part by name, found as calamine finds it (ASCII case ignored)."""
        return self._parts.get(part_key(name))

    def broken(self, problem: str) -> LandingError:
        return broken(self.path, problem)

    def verify(self, info: zipfile.ZipInfo) -> None:
        """Inflate a part to its end, for its size and CRC."""
        for _ in self.inflate(info):
            pass

    def inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The inflated bytes of a part, in chunks, from its raw data: never more than its
        declared size, and checked against its size and CRC when read to the end."""
        data = self.data
        name = info.filename
        offset = info.header_offset
        header = data[offset : offset + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise self.broken(f"part {name!r} has no local header (the file is damaged)")
        fields = _LOCAL_HEADER.unpack(header)
        start = offset + _LOCAL_HEADER.size + fields[10] + fields[11]
        raw = memoryview(data)[start : start + info.compress_size]
        if len(raw) < info.compress_size:
            raise self.broken(f"part {name!r} is cut short (the file is truncated)")
        size = info.file_size
        crc = 0
        produced = 0
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != size:
                raise self.broken(f"part {name!r} is stored with two different sizes")
            for i in range(0, size, _CHUNK):
                chunk = bytes(raw[i : i + _CHUNK])
                crc = zlib.crc32(chunk, crc)
                yield chunk
        else:
            inflater = zlib.decompressobj(-15)
            position = 0
            pending = b""
            while not inflater.eof:
                if not pending and position < len(raw):
                    pending = raw[position : position + MiB]
                    position += len(pending)
                try:
                    chunk = inflater.decompress(pending, _CHUNK)
                except zlib.error as exc:
                    problem = f"part {name!r} is damaged (its deflate data is corrupt)"
                    raise self.broken(problem) from exc
                pending = inflater.unconsumed_tail
                produced += len(chunk)
                if produced > size:
                    raise self.broken(
                        f"part {name!r} inflates to more than its declared {size:,} bytes"
                    )
                if chunk:
                    crc = zlib.crc32(chunk, crc)
                    yield chunk
                elif not pending and position >= len(raw):
                    break
            if not inflater.eof:
                raise self.broken(f"part {name!r} is cut short (its deflate data ends early)")
            if produced != size:
                raise self.broken(
                    f"part {name!r} inflates to {produced:,} bytes, not its declared {size:,}"
                )
        if crc != info.CRC:
            raise self.broken(f"part {name!r} is damaged (its CRC does not match)")


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LandingError(
                path, f"is {size:,} bytes, beyond the bound of {MAX_FILE_BYTES:,}: {REFUSED}"
            )
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise broken(path, f"{exc.strerror or exc}") from exc
    # The file may have grown since its size was taken.
    if len(data) > MAX_FILE_BYTES:
        raise LandingError(path, f"grew beyond the bound of {MAX_FILE_BYTES:,} bytes: {REFUSED}")
    return data


def _open_zip(path: Path, data: bytes) -> zipfile.ZipFile:
    """The zip directory, after its end record says it is within the bounds."""
    if data.startswith(_OLE2):
        raise broken(
            path,
            "it is an OLE2 compound file (a password-protected workbook, or an .xls named .xlsx)",
        )
    if not data.startswith(b"PK"):
        raise broken(path, "it is not a zip archive" if data else "the file is empty")
    end = data.rfind(_EOCD, max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        raise broken(path, "the zip archive is truncated (it has no central directory)")
    # The end record's counts, read before zipfile reads (and allocates) the directory.
    entries, directory = struct.unpack_from("<HL", data, end + 10)
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        locator = end - 20
        if locator >= 0 and data[locator : locator + 4] == _ZIP64_LOCATOR:
            (record,) = struct.unpack_from("<Q", data, locator + 8)
            if data[record : record + 4] == _ZIP64_EOCD and len(data) >= record + 56:
                entries, directory = struct.unpack_from("<QQ", data, record + 32)
    if entries > MAX_ENTRIES:
        raise LandingError(
            path, f"has {entries:,} zip entries, beyond the bound of {MAX_ENTRIES:,}: {REFUSED}"
        )
    if directory > MAX_DIRECTORY_BYTES:
        raise LandingError(
            path,
            f"has a zip directory of {directory:,} bytes, beyond the bound of "
            f"{MAX_DIRECTORY_BYTES:,}: {REFUSED}",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        problem = message_line(exc) or type(exc).__name__
        raise broken(path, f"the zip archive is damaged ({problem})") from exc
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise LandingError(
            path, f"has {len(infos):,} zip entries, beyond the bound of {MAX_ENTRIES:,}: {REFUSED}"
        )
    names: set[bytes] = set()
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise broken(path, f"part {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise broken(
                path,
                f"part {info.filename!r} uses compression method {info.compress_type} (only "
                "stored and deflate are read)",
            )
        key = part_key(info.filename)
        if key in names:
            raise broken(path, f"it holds part {info.filename!r} twice")
        names.add(key)
        if info.file_size > MAX_PART_BYTES:
            raise LandingError(
                path,
                f"part {info.filename!r} is {info.file_size:,} bytes inflated, beyond the bound "
                f"of {MAX_PART_BYTES:,}: {REFUSED}",
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise LandingError(
            path,
            f"its parts are {total:,} bytes inflated, beyond the bound of {MAX_TOTAL_BYTES:,}: "
            f"{REFUSED}",
        )
    return archive
