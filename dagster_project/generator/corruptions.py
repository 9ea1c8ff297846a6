"""Corruptions of a landing tree: what a real extract gets wrong (source-extracts.md, last
section), as pure functions over a landing directory.

Each function breaks exactly one file (or day) of `landing` in place, in the file's own
format (encoding of its system, BOM, gzip, line ends kept) and returns what it did: the
file relative to the landing directory, the 1-based physical line it broke (the header is
line 1) and the text of that line as the loader will show it. A test states exactly which
file and line it broke and asserts the pipeline's answer. Nothing here is random.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dagster_project.lib.landing_contract import DEFAULT_ENCODINGS, TABLES, TABLES_BY_NAME

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Broken:
    """What a corruption did: `file` relative to the landing directory; for a row-level
    corruption the physical `line` (header = 1) and its `raw_line` as the loader reads it."""

    file: str
    line: int | None = None
    raw_line: str | None = None


# ------------------------------------------------------------------------ file access


def landing_file(landing: Path, table: str, day: date) -> Path:
    t = TABLES_BY_NAME[table]
    found = sorted((landing / t.system / t.name).glob(f"{day:%Y-%m-%d}.csv*"))
    if len(found) != 1:
        raise FileNotFoundError(f"{t.system}/{t.name}/{day}: expected one file, found {found}")
    return found[0]


def _rel(landing: Path, path: Path) -> str:
    return path.relative_to(landing).as_posix()


@dataclass
class _Text:
    path: Path
    encoding: str
    lines: list[str]  # without line ends
    newline: str
    bom: bool
    gz: bool
    final_newline: bool


def _read(landing: Path, table: str, day: date) -> _Text:
    path = landing_file(landing, table, day)
    data = path.read_bytes()
    gz = path.name.endswith(".gz")
    if gz:
        data = gzip.decompress(data)
    bom = data.startswith(BOM)
    if bom:
        data = data[3:]
    encoding = _encoding(table)
    # undecodable bytes (a corruption applied earlier) survive a rewrite unchanged
    text = data.decode(encoding, errors="surrogateescape")
    newline = "\r\n" if "\r\n" in text else "\n"
    final = text.endswith(newline)
    lines = text.split(newline)
    if final:
        lines.pop()
    return _Text(path, encoding, lines, newline, bom, gz, final)


def _encoding(table: str) -> str:
    enc = DEFAULT_ENCODINGS[TABLES_BY_NAME[table].system]
    return "utf-8" if enc == "utf-8-sig" else enc


def _write(t: _Text, raw_lines: list[bytes] | None = None, path: Path | None = None) -> Path:
    nl = t.newline.encode()
    body = (
        raw_lines
        if raw_lines is not None
        else [line.encode(t.encoding, errors="surrogateescape") for line in t.lines]
    )
    data = (BOM if t.bom else b"") + nl.join(body) + (nl if t.final_newline else b"")
    path = path or t.path
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def _join(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def header(landing: Path, table: str, day: date) -> list[str]:
    return _fields(_read(landing, table, day).lines[0])


def data_line_count(landing: Path, table: str, day: date) -> int:
    return sum(1 for line in _read(landing, table, day).lines[1:] if line)


def line_text(landing: Path, table: str, day: date, line: int) -> str:
    return _read(landing, table, day).lines[line - 1]


def field(landing: Path, table: str, day: date, line: int, column: str) -> str:
    t = _read(landing, table, day)
    return _fields(t.lines[line - 1])[_fields(t.lines[0]).index(column)]


# ------------------------------------------------------------------ row-level corruptions


def set_field(landing: Path, table: str, day: date, line: int, column: str, value: str) -> Broken:
    """Line `line` gets `value` in `column` (a date 2026-02-30, a number 12,5 — written
    quoted, as a CSV writer would —, a code 1.0, a key that points nowhere)."""
    t = _read(landing, table, day)
    names = _fields(t.lines[0])
    fields = _fields(t.lines[line - 1])
    fields[names.index(column)] = value
    t.lines[line - 1] = _join(fields)
    _write(t)
    return Broken(_rel(landing, t.path), line, t.lines[line - 1])


def append_copy(landing: Path, table: str, day: date, line: int, **changes: str) -> Broken:
    """Append a copy of line `line` at the end of the file, with `changes` (column=value):
    without changes a duplicated row, with them a re-delivery with a correction."""
    t = _read(landing, table, day)
    names = _fields(t.lines[0])
    fields = _fields(t.lines[line - 1])
    for column, value in changes.items():
        fields[names.index(column)] = value
    t.lines.append(_join(fields))
    _write(t)
    return Broken(_rel(landing, t.path), len(t.lines), t.lines[-1])


def append_from_day(
    landing: Path, table: str, day: date, from_day: date, line: int, **changes: str
) -> Broken:
    """Append line `line` of the file of `from_day` (columns matched by name) to the file
    of `day`, with `changes`: a late row for an earlier day (a back-filled reading)."""
    src = _read(landing, table, from_day)
    row = dict(zip(_fields(src.lines[0]), _fields(src.lines[line - 1]), strict=True))
    row.update(changes)
    t = _read(landing, table, day)
    t.lines.append(_join([row.get(c, "") for c in _fields(t.lines[0])]))
    _write(t)
    return Broken(_rel(landing, t.path), len(t.lines), t.lines[-1])


def line_in_encoding(
    landing: Path, table: str, day: date, line: int, encoding: str = "utf-8"
) -> Broken:
    """Line `line` written in `encoding` instead of the file's (a UTF-8 line in a GBK
    file). raw_line is the line as the loader shows undecodable bytes (backslash escapes)."""
    t = _read(landing, table, day)
    raw = [x.encode(t.encoding, errors="surrogateescape") for x in t.lines]
    raw[line - 1] = t.lines[line - 1].encode(encoding)
    _write(t, raw)
    return Broken(
        _rel(landing, t.path), line, raw[line - 1].decode(t.encoding, errors="backslashreplace")
    )


def truncate_last_line(landing: Path, table: str, day: date, keep_fields: int = 3) -> Broken:
    """The last line cut off after `keep_fields` fields, without a final line break (an
    export killed while writing)."""
    t = _read(landing, table, day)
    cut = ",".join(t.lines[-1].split(",")[:keep_fields])
    t.lines[-1] = cut
    t.final_newline = False
    _write(t)
    return Broken(_rel(landing, t.path), len(t.lines), cut)


def add_column(
    landing: Path, table: str, day: date, name: str, value: str, position: int = 1
) -> Broken:
    """A header that gained a column (inserted at `position`), every row with `value`."""
    t = _read(landing, table, day)
    t.lines = [
        _join(_fields(x)[:position] + [name if i == 0 else value] + _fields(x)[position:])
        if x
        else x
        for i, x in enumerate(t.lines)
    ]
    _write(t)
    return Broken(_rel(landing, t.path))


def drop_column(landing: Path, table: str, day: date, column: str) -> Broken:
    """A header that lost a (required) column, and every row its field."""
    t = _read(landing, table, day)
    pos = _fields(t.lines[0]).index(column)
    t.lines = [_join(_fields(x)[:pos] + _fields(x)[pos + 1 :]) if x else x for x in t.lines]
    _write(t)
    return Broken(_rel(landing, t.path))


# ----------------------------------------------------------------- file-level corruptions


def whole_file_in_encoding(landing: Path, table: str, day: date, encoding: str = "utf-8") -> Broken:
    """The whole file written in `encoding` where its system declares another (a UTF-8
    file where GBK is declared)."""
    t = _read(landing, table, day)
    _write(t, [x.encode(encoding, errors="surrogateescape") for x in t.lines])
    return Broken(_rel(landing, t.path))


def empty_file(landing: Path, table: str, day: date) -> Broken:
    """The file exists and has no bytes (not even a header)."""
    path = landing_file(landing, table, day)
    path.write_bytes(gzip.compress(b"", mtime=0) if path.name.endswith(".gz") else b"")
    return Broken(_rel(landing, path))


def other_tables_file(landing: Path, table: str, day: date, other: str, other_day: date) -> Broken:
    """The file of `table` holds the columns and rows of `other` (a misrouted export)."""
    path = landing_file(landing, table, day)
    src = _read(landing, other, other_day)
    t = _Text(path, _encoding(table), src.lines, src.newline, False, False, True)
    _write(t)
    return Broken(_rel(landing, path))


def truncate_gzip(landing: Path, table: str, day: date, keep_share: float = 0.5) -> Broken:
    """A .csv.gz cut off after `keep_share` of its bytes (a transfer that stopped); a plain
    file is gzipped first."""
    path = landing_file(landing, table, day)
    data = path.read_bytes()
    if not path.name.endswith(".gz"):
        path.unlink()
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data[: max(10, int(len(data) * keep_share))])
    return Broken(_rel(landing, path))


def deliver_twice(landing: Path, table: str, day: date) -> tuple[Broken, Broken]:
    """The day delivered twice: the plain file and a gzipped copy (or the reverse)."""
    path = landing_file(landing, table, day)
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        other = path.with_name(path.name[:-3])
        other.write_bytes(gzip.decompress(data))
    else:
        other = path.with_name(path.name + ".gz")
        other.write_bytes(gzip.compress(data, mtime=0))
    return Broken(_rel(landing, path)), Broken(_rel(landing, other))


def delete_file(landing: Path, table: str, day: date) -> Broken:
    """A day with no file for this table."""
    path = landing_file(landing, table, day)
    path.unlink()
    return Broken(_rel(landing, path))


def delete_day(landing: Path, day: date) -> list[Broken]:
    """A day with no files at all."""
    gone = []
    for t in TABLES:
        for path in sorted((landing / t.system / t.name).glob(f"{day:%Y-%m-%d}.csv*")):
            path.unlink()
            gone.append(Broken(_rel(landing, path)))
    # the fifth source too: the day's returned workbooks and the platform's answer export
    feedback = landing / "feedback"
    for path in [
        *sorted((feedback / f"{day:%Y-%m-%d}").glob("*.xlsx")),
        *sorted((feedback / "R_AUDIT_FEEDBACK").glob(f"{day:%Y-%m-%d}.csv*")),
    ]:
        path.unlink()
        gone.append(Broken(_rel(landing, path)))
    return gone
