"""Load one landing file (one source table, one export day) into raw_<system>.<TABLE>.

What it promises (docs/architecture.md, source-extracts.md):
* idempotent: loading day D again replaces exactly the rows of day D (raw, quarantine, meta);
* nothing read is lost: every data line either lands in the raw table with its file and
  line number, or lands in quarantine.rejected_rows with its raw text and the reason;
* a file that cannot be read at all (truncated gzip, empty, no header, a missing
  required column, duplicated column names, two deliveries of one day) raises
  LandingFileError naming the file, and nothing of that day is changed.

Parsing is done by Python's C csv reader (RFC 4180 quotes, fields with line breaks,
physical line numbers via reader.line_num) after decoding with the system's encoding;
typing and validation are one vectorised DuckDB statement over the text columns.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.lib.landing_contract import DUCKDB_TYPES, Column, Table, references_of
from dagster_project.lib.warehouse import ensure_schema

csv.field_size_limit(10_000_000)


class LandingFileError(Exception):
    """A landing file that cannot be loaded at all; the message names the file."""


@dataclass
class FileLoadResult:
    system: str
    table_name: str
    export_date: date
    source_file: str  # relative to the landing directory
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    extra_columns: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rejected_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_share(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0


def landing_file(landing: Path, table: Table, day: date) -> Path | None:
    """The file of `table` for export day `day`, or None when that day has no file."""
    folder = landing / table.system / table.name
    candidates = [p for p in (folder / f"{day:%Y-%m-%d}.csv", folder / f"{day:%Y-%m-%d}.csv.gz")
                  if p.exists()]
    if len(candidates) > 1:
        raise LandingFileError(
            f"{candidates[0].relative_to(landing)} and {candidates[1].relative_to(landing)}: "
            "the same day is delivered twice (plain and gzip); remove one of them"
        )
    return candidates[0] if candidates else None


# ----------------------------------------------------------------------------- reading


def _read_bytes(path: Path, rel: str) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise LandingFileError(f"{rel}: cannot be decompressed ({exc}); the file is cut off "
                                   "or not gzip") from exc
    return data


def _decode_lines(data: bytes, encoding: str) -> tuple[list[str], dict[int, str]]:
    """Physical lines (1-based index = position + 1) and the lines that could not be
    decoded, which are kept as escaped text for quarantine."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    encoding = "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding
    try:
        text = data.decode(encoding)
        lines = text.split("\n")
        undecodable: dict[int, str] = {}
    except UnicodeDecodeError:
        lines, undecodable = [], {}
        for number, raw in enumerate(data.split(b"\n"), start=1):
            try:
                lines.append(raw.decode(encoding))
            except UnicodeDecodeError:
                lines.append("")
                undecodable[number] = raw.removesuffix(b"\r").decode(
                    encoding, errors="backslashreplace")
    if lines and lines[-1] == "":
        lines.pop()  # the file ends with a line break
    return [line.removesuffix("\r") for line in lines], undecodable


@dataclass
class _Parsed:
    header: list[str]
    records: list[list[str]]  # good-shaped records
    record_lines: list[int]  # their first physical line
    record_text: list[str]  # their physical text, kept for quarantine
    rejected: list[tuple[int, str, str]]  # (line, raw text, reason)
    rows_read: int


def _parse(lines: list[str], undecodable: dict[int, str], rel: str, encoding: str) -> _Parsed:
    if not lines or not lines[0].strip():
        raise LandingFileError(f"{rel}: the file is empty (no header line)")
    if 1 in undecodable:
        raise LandingFileError(f"{rel}: the header cannot be decoded as {encoding}")
    header = [h.strip().upper() for h in next(csv.reader([lines[0]]))]
    dupes = [h for h, n in Counter(header).items() if n > 1]
    if dupes:
        raise LandingFileError(f"{rel}: duplicated column(s) in the header: {', '.join(dupes)}")

    records: list[list[str]] = []
    record_lines: list[int] = []
    record_text: list[str] = []
    rejected: list[tuple[int, str, str]] = []
    width = len(header)
    rows_read = 0

    def physical(start: int, end: int) -> str:
        return "\n".join(lines[start - 1:end])

    if not any('"' in line for line in lines):
        # Fast path (most exports): no quoting, so one physical line is one record.
        return _parse_unquoted(lines, undecodable, header, encoding)

    reader = csv.reader((line + "\n" for line in lines[1:]), strict=False)
    line_before = 1  # physical line number consumed so far (header = 1)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = reader.line_num + 1
            rejected.append((line_before + 1, physical(line_before + 1, end),
                             f"malformed CSV record: {exc}"))
            rows_read += 1
            line_before = end
            continue
        start, end = line_before + 1, reader.line_num + 1
        line_before = end
        bad = [n for n in range(start, end + 1) if n in undecodable]
        if bad:
            rows_read += 1
            rejected.append((start, "\n".join(undecodable.get(n, lines[n - 1])
                                              for n in range(start, end + 1)),
                             f"cannot be decoded as {encoding}"))
            continue
        if not row or row == [""]:
            continue  # a blank line is no record
        rows_read += 1
        if len(row) != width:
            what = "cut off" if len(row) < width else "too many fields"
            rejected.append((start, physical(start, end),
                             f"expected {width} fields, found {len(row)} ({what})"))
            continue
        records.append(row)
        record_lines.append(start)
        record_text.append(lines[start - 1] if start == end else physical(start, end))
    # An unterminated quote swallows the rest of the file into one record: csv returns it
    # with line_num at EOF, which the width check above rejects with its line number.
    return _Parsed(header, records, record_lines, record_text, rejected, rows_read)


def _parse_unquoted(lines: list[str], undecodable: dict[int, str], header: list[str],
                    encoding: str) -> _Parsed:
    width = len(header)
    records, record_lines, record_text, rejected = [], [], [], []
    for number, line in enumerate(lines[1:], start=2):
        if number in undecodable:
            rejected.append((number, undecodable[number], f"cannot be decoded as {encoding}"))
            continue
        if not line:
            continue  # a blank line is no record
        row = line.split(",")
        if len(row) != width:
            what = "cut off" if len(row) < width else "too many fields"
            rejected.append((number, line, f"expected {width} fields, found {len(row)} ({what})"))
            continue
        records.append(row)
        record_lines.append(number)
        record_text.append(line)
    rows_read = len(records) + len(rejected)
    return _Parsed(header, records, record_lines, record_text, rejected, rows_read)


# -------------------------------------------------------------------------- validating

_PATTERNS = {
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "timestamp": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
    "decimal": r"^[+-]?(\d+\.?\d*|\.\d+)$",
    "integer": r"^[+-]?\d+$",
    "yyyymm": r"^\d{4}(0[1-9]|1[0-2])$",
}


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cast_expr(col: Column, ref: str) -> str:
    if col.type == "date":
        return f"CAST(try_strptime({ref}, '%Y-%m-%d') AS DATE)"
    if col.type == "timestamp":
        return f"try_strptime({ref}, '%Y-%m-%d %H:%M:%S')"
    if col.type in ("decimal", "integer"):
        return f"TRY_CAST({ref} AS {DUCKDB_TYPES[col.type]})"
    return ref


def _problem_expr(col: Column, ref: str) -> str:
    """SQL that is a reason text when the field is bad, NULL when it is fine."""
    checks = []
    if col.required:
        checks.append((f"{ref} IS NULL", f"{col.name}: empty but required"))
    if col.type in ("decimal", "integer"):
        # A well-formed number the exact column type cannot hold (a decimal of 10^12 or
        # more, an integer beyond BIGINT) is told apart from a malformed one.
        pattern = _PATTERNS[col.type]
        checks.append((f"{ref} IS NOT NULL AND NOT regexp_full_match({ref}, '{pattern}')",
                       f"{col.name}: not a valid {col.type}"))
        checks.append((f"{ref} IS NOT NULL AND {_cast_expr(col, ref)} IS NULL",
                       f"{col.name}: out of range for {DUCKDB_TYPES[col.type]}"))
    elif col.type in _PATTERNS:
        pattern = _PATTERNS[col.type]
        bad = (f"{ref} IS NOT NULL AND (NOT regexp_full_match({ref}, '{pattern}') "
               f"OR {_cast_expr(col, ref)} IS NULL)")
        checks.append((bad, f"{col.name}: not a valid {col.type}"))
    if col.codes:
        listed = ", ".join(_sql_literal(c) for c in col.codes)
        checks.append((f"{ref} IS NOT NULL AND {ref} NOT IN ({listed})",
                       f"{col.name}: not one of {'/'.join(col.codes)}"))
    if not checks:
        return "NULL"
    parts = [f"WHEN {cond} THEN {_sql_literal(msg)} || coalesce(' (' || {ref} || ')', '')"
             for cond, msg in checks]
    return "CASE " + " ".join(parts) + " END"


# ----------------------------------------------------------------------------- loading


def load_file(con: duckdb.DuckDBPyConnection, landing: Path, table: Table, day: date,
              encoding: str) -> FileLoadResult | None:
    """Load the file of `table` for export day `day`; None when the day has no file
    (then nothing of that day is changed). Runs in one transaction."""
    path = landing_file(landing, table, day)
    if path is None:
        return None
    rel = path.relative_to(landing).as_posix()
    raw_bytes = path.read_bytes()
    sha256 = hashlib.sha256(raw_bytes).hexdigest()
    lines, undecodable = _decode_lines(_read_bytes(path, rel), encoding)
    parsed = _parse(lines, undecodable, rel, encoding)

    missing = [c for c in table.column_names if c not in parsed.header]
    if missing:
        raise LandingFileError(
            f"{rel}: required column(s) missing from the header: {', '.join(missing)} "
            f"(header has: {', '.join(parsed.header)})")
    extra = [h for h in parsed.header if h not in table.column_names]

    # Text columns of the contract, plus line numbers, as an Arrow table for DuckDB.
    positions = [parsed.header.index(c) for c in table.column_names]
    columns = list(zip(*parsed.records)) if parsed.records else [() for _ in parsed.header]
    arrays = {f"c{i}": pa.array(columns[pos], type=pa.string())
              for i, pos in enumerate(positions)}
    arrays["line_number"] = pa.array(parsed.record_lines, type=pa.int64())
    arrays["raw_line"] = pa.array(parsed.record_text, type=pa.string())
    incoming = pa.table(arrays)

    # An empty field is NULL (the contract); DuckDB does that for every column at once.
    con.register("incoming_fields", incoming)
    nullified = ", ".join(f"nullif(c{i}, '') AS c{i}" for i in range(len(table.columns)))
    refs = {c.name: f"c{i}" for i, c in enumerate(table.columns)}
    problems = [_problem_expr(c, refs[c.name]) for c in table.columns]
    for column, ref_table, ref_column in references_of(table):
        # A key no delivered snapshot of the referenced table knows points nowhere
        # (checked once that table has been delivered at all).
        ref, target_table = refs[column], f'{ref_table.schema}."{ref_table.name}"'
        problems.append(
            f"CASE WHEN {ref} IS NOT NULL AND EXISTS (SELECT 1 FROM {target_table}) AND "
            f'{ref} NOT IN (SELECT "{ref_column}" FROM {target_table}) '
            f"THEN '{column}: unknown to every {ref_table.name} snapshot (' || {ref} || ')' END")
    reason = "concat_ws('; ', " + ", ".join(problems) + ")"
    typed = ", ".join(f'{_cast_expr(c, refs[c.name])} AS "{c.name}"' for c in table.columns)
    target = f'{table.schema}."{table.name}"'

    con.execute("BEGIN TRANSACTION")
    try:
        ensure_schema(con)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE checked AS
                        WITH incoming_text AS (
                            SELECT {nullified}, line_number, raw_line FROM incoming_fields)
                        SELECT *, nullif({reason}, '') AS reason FROM incoming_text""")
        # Reloading day D replaces exactly day D: its raw rows, quarantine rows and log row.
        con.execute(f"DELETE FROM {target} WHERE _export_date = ?", [day])
        for bookkeeping in ("quarantine.rejected_rows", "meta.extract_files"):
            con.execute(f"DELETE FROM {bookkeeping} WHERE system = ? AND table_name = ? "
                        "AND export_date = ?", [table.system, table.name, day])
        con.execute(f"""INSERT INTO {target}
                        SELECT {typed}, ?::DATE, ?, line_number FROM checked
                        WHERE reason IS NULL ORDER BY line_number""", [day, rel])
        con.execute("""INSERT INTO quarantine.rejected_rows
                       SELECT ?, ?, ?::DATE, ?, line_number, raw_line, reason, now()
                       FROM checked WHERE reason IS NOT NULL""",
                    [table.system, table.name, day, rel])
        if parsed.rejected:
            con.executemany(
                "INSERT INTO quarantine.rejected_rows VALUES (?, ?, ?::DATE, ?, ?, ?, ?, now())",
                [[table.system, table.name, day, rel, line, raw, why]
                 for line, raw, why in parsed.rejected])
        counts = con.execute("""SELECT count(*) FILTER (WHERE reason IS NULL),
                                       count(*) FILTER (WHERE reason IS NOT NULL)
                                FROM checked""").fetchone()
        reasons = Counter(dict(con.execute(
            "SELECT split_part(reason, ':', 1), count(*) FROM checked "
            "WHERE reason IS NOT NULL GROUP BY 1").fetchall()))
        for _, _, why in parsed.rejected:
            reasons[why.split(":")[0].split(" (")[0]] += 1
        loaded, rejected_typed = counts
        rejected = rejected_typed + len(parsed.rejected)
        con.execute("INSERT INTO meta.extract_files VALUES (?, ?, ?::DATE, ?, ?, ?, ?, ?, ?, now())",
                    [table.system, table.name, day, rel, sha256, parsed.rows_read, loaded,
                     rejected, ",".join(extra)])
        con.execute("DROP TABLE checked")
        con.unregister("incoming_fields")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return FileLoadResult(table.system, table.name, day, rel, sha256, parsed.rows_read, loaded,
                          rejected, extra, parsed.header, dict(reasons))

