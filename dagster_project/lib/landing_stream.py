"""A landing file as a stream of UTF-8 blocks of whole physical lines (lib/extract.py).

One pass over the file's bytes, in blocks of about `block_bytes`: the raw bytes are hashed
(sha256 of the file as delivered) and gunzipped as they are read, the BOM is dropped, each
block is cut after its last `\\n` (the rest waits for the next block) and decoded whole with
the system's encoding at C speed. Only a block that fails to decode is decoded line by line,
to find the lines that cannot be decoded: they become empty lines in the block (so that every
later line keeps its physical line number) and are kept aside, backslash-escaped, for the
quarantine. A `\\r` before a `\\n` is dropped (`\\r\\n` files), as the loader always did.

A block is handed over as bytes plus the positions of its line ends (numpy, vectorised), from
which `Block.arrow_lines()` builds an Arrow string array of its lines without copying a line
in Python: DuckDB splits and types them. Memory is a few blocks, whatever the file's size.

The encoding must be ASCII-compatible for the bytes `\\n`, `\\r`, `,` and `"` (UTF-8, GBK,
GB18030, Big5, Latin-1 ...): those bytes are never part of a multi-byte character there, so a
block can be cut and split into lines before it is decoded.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Self

import numpy as np
import pyarrow as pa

BOM = b"\xef\xbb\xbf"
BLOCK_BYTES = 16 * 1024 * 1024  # a block of E_MP_DAY_READ is ~190,000 rows


class LandingStreamError(Exception):
    """The file cannot be read at all (a truncated or corrupt gzip); the message says why."""


def codec_name(encoding: str) -> str:
    """The Python codec for a configured encoding; `utf-8-sig` reads as UTF-8 (the BOM is
    dropped for every encoding anyway)."""
    name = codecs.lookup(encoding).name
    name = "utf-8" if name == "utf-8-sig" else name
    if any(ch.encode(name) != ch.encode("ascii") for ch in '\n\r,"'):
        raise ValueError(
            f"encoding {encoding!r} is not ASCII-compatible; the loader reads "
            "ASCII-compatible encodings only (UTF-8, GBK, GB18030, ...)"
        )
    return name


@dataclass
class Block:
    """Whole physical lines of a file, UTF-8, `\\r\\n` already `\\n`, every line ended by `\\n`."""

    first_line: int  # physical line number (header = 1) of its first line
    data: bytes
    ends: np.ndarray  # int64 position of every line's `\n` in data
    undecodable: dict[int, str] = field(default_factory=dict)  # line -> escaped raw text
    final: bool = False  # the last block of the file

    @property
    def line_count(self) -> int:
        return len(self.ends)

    @property
    def last_line(self) -> int:
        return self.first_line + len(self.ends) - 1

    def starts(self) -> np.ndarray:
        starts = np.empty(len(self.ends), dtype=np.int64)
        if len(self.ends):
            starts[0] = 0
            starts[1:] = self.ends[:-1] + 1
        return starts

    def line(self, number: int) -> str:
        """One line's text (for the few lines that need Python: multi-line records)."""
        i = number - self.first_line
        start = int(self.ends[i - 1]) + 1 if i else 0
        return self.data[start : int(self.ends[i])].decode("utf-8")

    def has_quote(self) -> bool:
        return b'"' in self.data

    def arrow_lines(self) -> pa.Array:
        """The lines as an Arrow string array, without their `\\n`: the data buffer is the
        block with its line breaks removed, and line i starts at its old offset minus i."""
        n = len(self.ends)
        offsets = np.empty(n + 1, dtype=np.int64)
        offsets[0] = 0
        offsets[1:] = self.ends + 1
        offsets -= np.arange(n + 1, dtype=np.int64)
        text = self.data.replace(b"\n", b"")
        if len(text) < 2**31:
            return pa.StringArray.from_buffers(
                n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(text)
            )
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))

    def tail(self, from_line: int) -> Block:
        """The block from line `from_line` on (a record that goes on in the next block)."""
        i = from_line - self.first_line
        start = int(self.ends[i - 1]) + 1 if i else 0
        return Block(
            from_line,
            self.data[start:],
            self.ends[i:] - start,
            {n: t for n, t in self.undecodable.items() if n >= from_line},
            self.final,
        )

    def followed_by(self, other: Block) -> Block:
        assert other.first_line == self.last_line + 1, (self.last_line, other.first_line)
        return Block(
            self.first_line,
            self.data + other.data,
            np.concatenate([self.ends, other.ends + len(self.data)]),
            {**self.undecodable, **other.undecodable},
            other.final,
        )


class _HashingReader:
    """A binary file whose bytes are hashed as they are read (gzip reads through it)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        return data

    def readable(self) -> bool:
        return True

    def drain(self) -> str:
        """Hash what is left unread (bytes after the last gzip member) and return the hash."""
        while self.read(1 << 20):
            pass
        return self.sha256.hexdigest()


class LandingStream:
    """`with LandingStream(path, rel, encoding) as s:` then `s.header()` (the first line as
    text, or None when it cannot be decoded), `for block in s.blocks(): ...`, `s.sha256()`."""

    def __init__(self, path: Path, rel: str, encoding: str, block_bytes: int = BLOCK_BYTES):
        self.path, self.rel, self.encoding = path, rel, encoding
        self.codec = codec_name(encoding)
        self.block_bytes = max(1, block_bytes)
        self._next_line = 1
        self._pending = b""
        self._eof = False

    def __enter__(self) -> Self:
        self._file = self.path.open("rb")
        self._hashing = _HashingReader(self._file)
        self._source = (
            gzip.GzipFile(fileobj=self._hashing, mode="rb")
            if self.path.name.endswith(".gz")
            else self._hashing
        )
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    def _read(self) -> bytes:
        if self._eof:
            return b""
        try:
            data = self._source.read(self.block_bytes)
        except (EOFError, OSError, zlib.error) as exc:
            raise LandingStreamError(str(exc)) from exc
        if not data:
            self._eof = True
        return data

    def header(self) -> tuple[bool, str | None]:
        """(whether the file has any byte, the first line decoded, or None if it cannot be)."""
        self._pending = self._read()
        while len(self._pending) < len(BOM) and not self._eof:
            self._pending += self._read()
        self._pending = self._pending.removeprefix(BOM)
        while b"\n" not in self._pending and not self._eof:
            self._pending += self._read()
        if not self._pending:
            return False, None
        cut = self._pending.find(b"\n")
        raw = self._pending if cut < 0 else self._pending[:cut]
        self._pending = b"" if cut < 0 else self._pending[cut + 1 :]
        self._next_line = 2
        try:
            return True, raw.removesuffix(b"\r").decode(self.codec)
        except UnicodeDecodeError:
            return True, None

    def blocks(self) -> Iterator[Block]:
        """The lines after the header, in blocks of at most `block_bytes` (or one line, if a
        line is longer); the last one has `final` set (it may have no line at all)."""
        for data, final in self._raw_blocks():
            yield self._block(data, final)

    def lines(self, wanted: list[int]) -> dict[int, str]:
        """The text of the lines `wanted` (after `header()`): a second pass that decodes only
        the blocks holding one of them (lib/extract.py: keys that point nowhere)."""
        wanted, found, i = sorted(wanted), {}, 0
        for data, final in self._raw_blocks():
            if i == len(wanted):
                break
            last = self._next_line + data.count(b"\n") - 1
            if wanted[i] > last:
                self._next_line = last + 1
                continue
            block = self._block(data, final)
            while i < len(wanted) and wanted[i] <= last:
                found[wanted[i]] = block.undecodable.get(wanted[i]) or block.line(wanted[i])
                i += 1
        return found

    def _raw_blocks(self) -> Iterator[tuple[bytes, bool]]:
        while True:
            while not self._eof and len(self._pending) < self.block_bytes:
                self._pending += self._read()
            data = self._pending
            cut = data.rfind(b"\n", 0, self.block_bytes)
            if cut < 0:
                cut = data.find(b"\n")  # a line longer than a block
                if cut < 0 and not self._eof:
                    self._pending += self._read()
                    continue
            if self._eof and (cut < 0 or len(data) <= self.block_bytes):
                self._pending = b""
                if data and not data.endswith(b"\n"):
                    data += b"\n"  # the last line has no line break (a cut-off export)
                yield data, True
                return
            self._pending = data[cut + 1 :]
            yield data[: cut + 1], False

    def _block(self, data: bytes, final: bool) -> Block:
        data = data.replace(b"\r\n", b"\n")
        undecodable: dict[int, str] = {}
        try:
            if self.codec == "utf-8":
                data.decode("utf-8")  # validation only: UTF-8 is what DuckDB reads
            else:
                data = data.decode(self.codec).encode("utf-8")
        except UnicodeDecodeError:
            data, undecodable = self._decode_lines(data)
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
        block = Block(self._next_line, data, ends.astype(np.int64), undecodable, final)
        self._next_line += len(ends)
        return block

    def _decode_lines(self, data: bytes) -> tuple[bytes, dict[int, str]]:
        """The slow path, for a block with bytes that cannot be decoded: line by line."""
        out, undecodable = [], {}
        lines = data.split(b"\n")
        lines.pop()  # the block ends with a line break
        for number, raw in enumerate(lines, start=self._next_line):
            try:
                out.append(raw.decode(self.codec).encode("utf-8"))
            except UnicodeDecodeError:
                out.append(b"")  # keeps the line numbers of every later line
                undecodable[number] = raw.decode(self.codec, errors="backslashreplace")
        return b"\n".join(out) + b"\n", undecodable

    def sha256(self) -> str:
        """The hash of the whole file as delivered (after the blocks are read)."""
        return self._hashing.drain()
