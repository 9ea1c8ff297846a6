"""Load one landing file (one source table, one export day) into raw_<system>.<TABLE>.

What it promises (docs/architecture.md, source-extracts.md):
* idempotent: loading day D again replaces exactly the rows of day D (raw, quarantine, meta);
* nothing read is lost: every data line either lands in the raw table with its file and
  line number, or lands in quarantine.rejected_rows with its raw text and the reason;
* a file that cannot be read at all (truncated gzip, empty, no header, a missing
  required column, duplicated column names, two deliveries of one day) raises
  LandingFileError naming the file, and nothing of that day is changed.

Design (issue 10: disk speed in bounded memory, no row-by-row Python on the data path;
docs/architecture.md "Extract"):

1. lib/landing_stream.py reads the file once, in blocks of whole lines (BLOCK_BYTES, 16 MB):
   it hashes the raw bytes, gunzips, drops the BOM and the `\r` of `\r\n`, decodes each
   block whole at C speed (only a block that fails is decoded line by line; an undecodable
   line becomes an empty line, so every later line keeps its physical number, and its
   backslash-escaped text is kept for quarantine) and finds the line ends with numpy. A
   block reaches DuckDB as an Arrow table (line_number, line) built without a Python loop,
   so line numbers are exact by construction.
2. DuckDB splits the lines into fields in SQL: `string_split` for a line without a quote;
   a line whose fields are each plain or wholly quoted (RFC 4180, `""` inside quotes) is
   split at the commas between quoted pieces (`_SPLIT_QUOTED`, list functions, no regular
   expression) and unquoted. A line with a quote that is not such a line (a quoted line
   break, a stray quote, `"ab"c`) and the lines its record spans are read by Python's csv
   module exactly as before (`_parse_record`); a record that goes on past the block waits
   for the next one. These are the only lines Python touches one by one.
3. Typing and validation stay one SQL statement per block (`_check_sql`): each field is cast
   once (`_cast_expr`) and `_problem_expr`, `references_of` and the field count give the
   reasons, as before. The referenced keys are collected once per file into a temporary
   table. The checked block comes back as Arrow; its good rows go into the raw table, its
   bad rows into quarantine, and the block is freed (queries see a block through
   `from_arrow(...).query`, not `register`: a view registered inside the transaction would
   keep every block alive until the commit). Memory is a few blocks plus the referenced
   keys, whatever the file's size.
4. One transaction per file (delete day D, every block, the extract log row): a file found
   unreadable half-way (a truncated gzip) rolls back and changes nothing.

Why not DuckDB's read_csv: it gives accepted rows no line number; its rejects table
(`store_rejects`) numbers records, not physical lines (after a quoted line break, a record on
physical line 7 is reported on line 6); it skips blank lines silently; and it rejects
`"ab"c`, which csv, and so this loader, reads as `abc`. Splitting lines in SQL keeps every
line number, raw text and reason the loader gave before.

Changes from the loader before issue 10: an undecodable last line without a line break is
quarantined (it was dropped); a header that cannot be decoded says so (it was reported as an
empty file); a `\r` inside a line without quotes is text in every file (it made the record
malformed in a file that had a quote somewhere); raw rows of a block are stored in line
order with its csv-read records after them (`_line_number` gives the order).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.lib import landing_stream
from dagster_project.lib.landing_contract import DUCKDB_TYPES, Column, Table, references_of
from dagster_project.lib.landing_stream import Block, LandingStream, LandingStreamError
from dagster_project.lib.warehouse import ensure_schema

csv.field_size_limit(10_000_000)

ROW_GROUP = 122_880  # DuckDB's row group size (rows); inserts come in multiples of it


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
    candidates = [
        p for p in (folder / f"{day:%Y-%m-%d}.csv", folder / f"{day:%Y-%m-%d}.csv.gz") if p.exists()
    ]
    if len(candidates) > 1:
        raise LandingFileError(
            f"{candidates[0].relative_to(landing)} and {candidates[1].relative_to(landing)}: "
            "the same day is delivered twice (plain and gzip); remove one of them"
        )
    return candidates[0] if candidates else None


# -------------------------------------------------------------------------- validating

_PATTERNS = {
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "timestamp": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
    "datetime": r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$",
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
    if col.type == "datetime":
        return (
            f"coalesce(try_strptime({ref}, '%Y-%m-%d %H:%M:%S'), "
            f"try_strptime({ref}, '%Y-%m-%d %H:%M'), "
            f"CAST(try_strptime({ref}, '%Y-%m-%d') AS TIMESTAMP))"
        )
    if col.type in ("decimal", "integer"):
        return f"TRY_CAST({ref} AS {DUCKDB_TYPES[col.type]})"
    return ref


def _required_when_expr(table: Table, refs: dict[str, str]) -> list[str]:
    """SQL reasons of the table's cross-field checks (`Table.required_when`): a row whose
    `column` is `value` but which lacks some of the columns that value requires."""
    exprs = []
    for column, value, requires in table.required_when:
        missing = ", ".join(f"CASE WHEN {refs[r]} IS NULL THEN '{r}' END" for r in requires)
        lacking = " OR ".join(f"{refs[r]} IS NULL" for r in requires)
        reason = _sql_literal(f"{column}: {value} requires {', '.join(requires)}; empty: ")
        exprs.append(
            f"CASE WHEN {refs[column]} = {_sql_literal(value)} AND ({lacking}) THEN "
            f"{reason} || concat_ws(', ', {missing}) END"
        )
    return exprs


def _problem_expr(col: Column, ref: str, typed: str) -> str:
    """SQL that is a reason text when the field is bad, NULL when it is fine. `ref` is the
    field's text (NULL when empty), `typed` its `_cast_expr`, computed once per row."""
    checks = []
    if col.required:
        checks.append((f"{ref} IS NULL", f"{col.name}: empty but required"))
    if col.type in ("decimal", "integer"):
        # A well-formed number the exact column type cannot hold (a decimal of 10^12 or
        # more, an integer beyond BIGINT) is told apart from a malformed one.
        pattern = _PATTERNS[col.type]
        checks.append(
            (
                f"{ref} IS NOT NULL AND NOT regexp_full_match({ref}, '{pattern}')",
                f"{col.name}: not a valid {col.type}",
            )
        )
        checks.append(
            (
                f"{ref} IS NOT NULL AND {typed} IS NULL",
                f"{col.name}: out of range for {DUCKDB_TYPES[col.type]}",
            )
        )
    elif col.type in _PATTERNS:
        pattern = _PATTERNS[col.type]
        bad = (
            f"{ref} IS NOT NULL AND (NOT regexp_full_match({ref}, '{pattern}') OR {typed} IS NULL)"
        )
        checks.append((bad, f"{col.name}: not a valid {col.type}"))
    if col.codes:
        listed = ", ".join(_sql_literal(c) for c in col.codes)
        checks.append(
            (
                f"{ref} IS NOT NULL AND {ref} NOT IN ({listed})",
                f"{col.name}: not one of {'/'.join(col.codes)}",
            )
        )
    if not checks:
        return "NULL"
    parts = [
        f"WHEN {cond} THEN {_sql_literal(msg)} || coalesce(' (' || {ref} || ')', '')"
        for cond, msg in checks
    ]
    return "CASE " + " ".join(parts) + " END"


# ----------------------------------------------------------------------------- splitting

# One CSV field as RFC 4180 writes it: fully quoted (a quote inside doubled) or plain.
_QUOTED = '"(?:[^"]|"")*"'
_FIELD = f'(?:{_QUOTED}|[^,"]*)'
# A line that is one whole record of such fields: DuckDB splits it by itself.
_SIMPLE_LINE = f"{_FIELD}(?:,{_FIELD})*"
_UNQUOTE = (
    "lambda f: CASE WHEN starts_with(f, '\"') "
    "THEN replace(substring(f, 2, length(f) - 2), '\"\"', '\"') ELSE f END"
)
# Fields of such a line: its pieces between quotes alternate outside / inside a quoted field
# (a doubled quote is an empty outside piece), so the commas of the odd pieces are the field
# separators; they become \x1f (a line holding one is read by Python instead), the line is
# split there and each field unquoted. No regular expression: DuckDB's regexp_extract_all
# was 4 to 5 times slower.
_SPLIT_QUOTED = (
    "list_transform(string_split(array_to_string(list_transform("
    "string_split(l, '\"'), lambda x, i: CASE WHEN i % 2 = 1 "
    "THEN replace(x, ',', chr(31)) ELSE x END), '\"'), chr(31)), "
    f"{_UNQUOTE})"
)
# Lines that are no record: empty, or one empty quoted field (csv reads it as a blank line).
_NOT_BLANK = "l <> '' AND l <> '\"\"'"


@dataclass
class _Side:
    """Records parsed in Python (multi-line, irregular quoting) and rows rejected before
    SQL (undecodable, malformed), one list per column: the second chunk of a block."""

    line_number: list[int] = field(default_factory=list)
    raw_line: list[str] = field(default_factory=list)
    fields: list[list[str] | None] = field(default_factory=list)
    pre_reason: list[str | None] = field(default_factory=list)

    def add(self, line: int, raw: str, fields: list[str] | None, reason: str | None) -> None:
        self.line_number.append(line)
        self.raw_line.append(raw)
        self.fields.append(fields)
        self.pre_reason.append(reason)


def _parse_record(block: Block, start: int) -> tuple[int, list[str] | None, str | None] | None:
    """The record starting on line `start`, read by csv exactly as the loader always read a
    quoted file: (its last line, its fields or None, the csv error or None). None when the
    record goes on past the block (and the block is not the file's last)."""
    exhausted = False

    def lines():
        nonlocal exhausted
        for number in range(start, block.last_line + 1):
            yield block.line(number) + "\n"
        exhausted = True

    reader = csv.reader(lines(), strict=False)
    try:
        row, error = next(reader), None
    except csv.Error as exc:
        row, error = None, str(exc)
    if exhausted and not block.final:
        return None
    # An unterminated quote swallows the rest of the file into one record, which the width
    # check then rejects with its first line number.
    return start + reader.line_num - 1, row, error


# ----------------------------------------------------------------------------- loading


class _BlockLoader:
    """Checks and loads the blocks of one file inside the caller's transaction."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: Table,
        header: list[str],
        day: date,
        rel: str,
        encoding: str,
    ):
        self.con, self.table, self.day, self.rel = con, table, day, rel
        self.undecodable_reason = f"cannot be decoded as {encoding}"
        self.width = len(header)
        self.loaded = 0
        self.rejected = 0
        self.reasons: Counter[str] = Counter()
        self.pending: list[pa.Table] = []  # good rows not inserted yet (less than a row group)
        self.pending_rows = 0
        self.spans: dict[int, int] = {}  # first -> last line of records on several lines
        self.rejected_keys: list[tuple] = []  # (line, key, ...) of rows rejected for a field
        self.refs = self._reference_tables()
        self.check_sql = self._check_sql(header)
        self.target = f'{table.schema}."{table.name}"'

    def _reference_tables(self) -> list[tuple[str, Table, str]]:
        """(column, referenced table, temporary key table) for every reference to check: a
        key no delivered snapshot of the referenced table knows points nowhere (checked once
        that table has been delivered at all). The keys are collected once per file."""
        refs = []
        for i, (column, ref_table, ref_column) in enumerate(references_of(self.table)):
            source = f'{ref_table.schema}."{ref_table.name}"'
            if not self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {source})").fetchall()[0][0]:
                continue
            keys = f"_ga_ref_{i}"
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {keys} AS SELECT DISTINCT "
                f'"{ref_column}" AS k FROM {source} WHERE "{ref_column}" IS NOT NULL'
            )
            refs.append((column, ref_table, keys))
        return refs

    def _check_sql(self, header: list[str]) -> str:
        cols = self.table.columns
        width = self.width
        refs = {c.name: f"c{i}" for i, c in enumerate(cols)}
        typed = {c.name: f"t{i}" for i, c in enumerate(cols)}
        # An empty field is NULL (the contract); quoted fields were unquoted first.
        fields = ", ".join(
            f"nullif(fields[{header.index(c.name) + 1}], '') AS {refs[c.name]}" for c in cols
        )
        casts = ", ".join(f"{_cast_expr(c, refs[c.name])} AS {typed[c.name]}" for c in cols)
        problems = [_problem_expr(c, refs[c.name], typed[c.name]) for c in cols]
        problems += _required_when_expr(self.table, refs)
        width_reason = (
            f"'expected {width} fields, found ' || n || CASE WHEN n < {width} "
            "THEN ' (cut off)' ELSE ' (too many fields)' END"
        )
        out = ", ".join(f'{typed[c.name]} AS "{c.name}"' for c in cols)
        return f"""
            WITH records AS (
                SELECT line_number, l AS raw_line, NULL::VARCHAR AS pre_reason,
                       CASE WHEN contains(l, '"') THEN {_SPLIT_QUOTED}
                            ELSE string_split(l, ',') END AS fields
                FROM _ga_block WHERE NOT side AND keep AND {_NOT_BLANK}
                UNION ALL
                SELECT line_number, l, pre_reason, fields FROM _ga_block WHERE side
            ), split AS (
                SELECT line_number, raw_line, pre_reason, len(fields) AS n, {fields}
                FROM records
            ), typed AS (
                SELECT *, {casts} FROM split
            ), checked AS (
                SELECT typed.*,
                       coalesce(pre_reason, CASE WHEN n <> {width} THEN {width_reason} END,
                                nullif(concat_ws('; ', {", ".join(problems)}), '')) AS reason
                FROM typed
            )
            SELECT line_number, CASE WHEN reason IS NOT NULL THEN raw_line END AS raw_line,
                   reason, pre_reason IS NULL AND n = {width} AS fields_checked, {out}
            FROM checked"""

    def load(self, block: Block) -> Block | None:
        """Check and load a block; returns the block's tail when its last record goes on in
        the next block (then load that tail followed by the next block)."""
        first, n = block.first_line, block.line_count
        numbers = pa.array(np.arange(first, first + n, dtype=np.int64))
        lines = block.arrow_lines()
        keep = np.ones(n, dtype=bool)
        side = _Side()
        cut = None
        in_records: set[int] = set()
        if block.has_quote():
            irregular = [
                number
                for (number,) in self._query(
                    pa.table({"line_number": numbers, "l": lines}),
                    "_ga_lines",
                    f"""SELECT line_number FROM _ga_lines
                    WHERE contains(l, '"') AND {_NOT_BLANK}
                      AND (contains(l, chr(31)) OR NOT regexp_full_match(l, '{_SIMPLE_LINE}'))
                    ORDER BY line_number""",
                ).fetchall()
            ]
            done_until = first - 1
            for start in irregular:
                if start <= done_until:
                    continue  # inside the record of an earlier line
                parsed = _parse_record(block, start)
                if parsed is None:
                    cut = start
                    break
                end, row, error = parsed
                done_until = end
                keep[start - first : end - first + 1] = False
                self._side_record(block, start, end, row, error, side)
                in_records.update(range(start, end + 1))
        if cut is not None:
            keep[cut - first :] = False
        for number, escaped in block.undecodable.items():
            if number not in in_records and (cut is None or number < cut):
                side.add(number, escaped, None, self.undecodable_reason)
        # One Arrow table, two chunks (the block's lines, then the records read by Python):
        # a query sees one relation, and nothing is copied.
        m = len(side.line_number)
        chunks = {
            "line_number": [numbers, pa.array(side.line_number, pa.int64())],
            "l": [lines, pa.array(side.raw_line, lines.type)],
            "keep": [pa.array(keep), pa.array(np.ones(m, dtype=bool))],
            "side": [pa.array(np.zeros(n, dtype=bool)), pa.array(np.ones(m, dtype=bool))],
            "fields": [
                pa.nulls(n, pa.list_(pa.string())),
                pa.array(side.fields, pa.list_(pa.string())),
            ],
            "pre_reason": [pa.nulls(n, pa.string()), pa.array(side.pre_reason, pa.string())],
        }
        records = pa.table({name: pa.chunked_array(parts) for name, parts in chunks.items()})
        self._insert(self._query(records, "_ga_block", self.check_sql).to_arrow_table())
        return block.tail(cut) if cut is not None else None

    def _query(self, data: pa.Table, name: str, sql: str) -> duckdb.DuckDBPyRelation:
        """Run `sql` over `data`, known as `name` for this query only. Not `register`: a view
        registered inside a transaction keeps its Arrow data alive until the commit, and the
        whole file would stay in memory."""
        return self.con.from_arrow(data).query(name, sql)

    def _side_record(
        self,
        block: Block,
        start: int,
        end: int,
        row: list[str] | None,
        error: str | None,
        side: _Side,
    ) -> None:
        numbers = range(start, end + 1)
        physical = "\n".join(block.line(n) for n in numbers)
        if error is not None:
            side.add(start, physical, None, f"malformed CSV record: {error}")
        elif any(n in block.undecodable for n in numbers):
            side.add(
                start,
                "\n".join(
                    block.undecodable[n] if n in block.undecodable else block.line(n)
                    for n in numbers
                ),
                None,
                self.undecodable_reason,
            )
        elif row and row != [""]:  # else a blank line, no record
            side.add(start, physical, row, None)
            if end > start:
                self.spans[start] = end

    def _insert(self, checked: pa.Table) -> None:
        day, rel = f"DATE '{self.day.isoformat()}'", _sql_literal(self.rel)
        counts = self._query(
            checked,
            "_ga_checked",
            "SELECT split_part(split_part(reason, ':', 1), ' (', 1), count(*) "
            "FROM _ga_checked GROUP BY 1",
        ).fetchall()
        bad = any(key is not None for key, _ in counts)
        if bad:
            self._query(
                checked,
                "_ga_checked",
                f"""
                INSERT INTO quarantine.rejected_rows
                SELECT {_sql_literal(self.table.system)}, {_sql_literal(self.table.name)}, {day},
                       {rel}, line_number, raw_line, reason, now()
                FROM _ga_checked WHERE reason IS NOT NULL""",
            )
            if self.refs:  # their keys are checked at the end, with the loaded rows'
                columns = ", ".join(f'"{column}"' for column, _, _ in self.refs)
                self.rejected_keys += self._query(
                    checked,
                    "_ga_checked",
                    f"SELECT line_number, {columns} FROM _ga_checked "
                    "WHERE reason IS NOT NULL AND fields_checked",
                ).fetchall()
            checked = checked.filter(pc.is_null(checked.column("reason")))
        for key, count in counts:
            if key is None:
                self.loaded += count
            else:
                self.rejected += count
                self.reasons[key] += count
        self.pending.append(checked)
        self.pending_rows += checked.num_rows
        self._flush(final=False)

    def flush(self) -> None:
        self._flush(final=True)

    def _flush(self, final: bool) -> None:
        """Insert the good rows held back, in whole row groups: one INSERT per block would
        end each with a part-filled row group, which the checkpoint then merges (measured
        on 4 M rows: 2 s and 500 MB more). The rest waits for the next block."""
        count = self.pending_rows if final else self.pending_rows // ROW_GROUP * ROW_GROUP
        if not count:
            return
        rows = pa.concat_tables(self.pending)
        self.pending = [rows.slice(count)] if count < rows.num_rows else []
        self.pending_rows -= count
        names = ", ".join(f'"{c}"' for c in self.table.column_names)
        day, rel = f"DATE '{self.day.isoformat()}'", _sql_literal(self.rel)
        # one chunk: the insert splits row groups where the Arrow chunks end
        self._query(
            rows.slice(0, count).combine_chunks(),
            "_ga_good",
            f"""
            INSERT INTO {self.target} SELECT {names}, {day}, {rel}, line_number
            FROM _ga_good""",
        )

    def check_references(self, read_lines: Callable[[list[int]], dict[int, str]]) -> None:
        """Keys that point nowhere, checked once per file, over all its rows: per block, the
        referenced keys would be hashed again for every block (a province has 25 M data
        points). A loaded row with such a key moves to quarantine with its raw text, read
        again from the file (`read_lines` decodes only the blocks that hold one); a row
        already rejected for a field gets the reason appended, as the one statement over
        both gave it before."""
        unknown: dict[int, list[str]] = defaultdict(list)  # line -> reasons, in refs order
        loaded_bad: set[int] = set()
        for i, (column, ref_table, keys) in enumerate(self.refs):
            what = f"{column}: unknown to every {ref_table.name} snapshot"
            for line, value in self.con.execute(
                f'SELECT _line_number, "{column}" FROM {self.target} t '
                f'WHERE _export_date = ? AND "{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM {keys} r WHERE r.k = t."{column}")',
                [self.day],
            ).fetchall():
                unknown[line].append(f"{what} ({value})")
                loaded_bad.add(line)
            keyed = [
                (line, values[i]) for line, *values in self.rejected_keys if values[i] is not None
            ]
            if keyed:
                lines, values = zip(*keyed, strict=True)
                rows = self._query(
                    pa.table(
                        {
                            "line_number": pa.array(lines, pa.int64()),
                            "k": pa.array(values, pa.string()),
                        }
                    ),
                    "_ga_keys",
                    f"SELECT line_number, k FROM _ga_keys x "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {keys} r WHERE r.k = x.k)",
                ).fetchall()
                for line, value in rows:
                    unknown[line].append(f"{what} ({value})")
        if not unknown:
            return
        where = (
            f"system = {_sql_literal(self.table.system)} AND table_name = "
            f"{_sql_literal(self.table.name)} AND export_date = DATE '{self.day}' AND "
            f"source_file = {_sql_literal(self.rel)}"
        )
        appended = [
            (line, "; ".join(why)) for line, why in unknown.items() if line not in loaded_bad
        ]
        if appended:
            self._query(
                pa.table(
                    {
                        "line_number": pa.array([x[0] for x in appended], pa.int64()),
                        "extra": pa.array([x[1] for x in appended], pa.string()),
                    }
                ),
                "_ga_extra",
                f"""UPDATE quarantine.rejected_rows q
                                         SET reason = q.reason || '; ' || x.extra FROM _ga_extra x
                                         WHERE {where} AND q.line_number = x.line_number""",
            )
        if not loaded_bad:
            return
        moved = sorted(loaded_bad)
        text = read_lines(
            [n for line in moved for n in range(line, self.spans.get(line, line) + 1)]
        )
        raw = [
            "\n".join(text[n] for n in range(line, self.spans.get(line, line) + 1))
            for line in moved
        ]
        reasons = ["; ".join(unknown[line]) for line in moved]
        bad = pa.table(
            {"line_number": pa.array(moved, pa.int64()), "raw_line": raw, "reason": reasons}
        )
        self._query(
            bad,
            "_ga_moved",
            f"""DELETE FROM {self.target} WHERE _export_date =
            DATE '{self.day}' AND _line_number IN (SELECT line_number FROM _ga_moved)""",
        )
        self._query(
            bad,
            "_ga_moved",
            f"""INSERT INTO quarantine.rejected_rows
            SELECT {_sql_literal(self.table.system)}, {_sql_literal(self.table.name)},
                   DATE '{self.day}', {_sql_literal(self.rel)}, line_number, raw_line, reason,
                   now()
            FROM _ga_moved""",
        )
        self.loaded -= len(moved)
        self.rejected += len(moved)
        self.reasons.update(reason.split(":")[0] for reason in reasons)

    def close(self, drop_tables: bool = True) -> None:
        for _, _, keys in self.refs if drop_tables else ():
            self.con.execute(f"DROP TABLE IF EXISTS {keys}")


def _read_header(stream: LandingStream, rel: str, encoding: str, table: Table) -> list[str]:
    has_bytes, first = stream.header()
    if not has_bytes or (first is not None and not first.strip()):
        raise LandingFileError(f"{rel}: the file is empty (no header line)")
    if first is None:
        raise LandingFileError(f"{rel}: the header cannot be decoded as {encoding}")
    header = [h.strip().upper() for h in next(csv.reader([first]))]
    dupes = [h for h, n in Counter(header).items() if n > 1]
    if dupes:
        raise LandingFileError(f"{rel}: duplicated column(s) in the header: {', '.join(dupes)}")
    missing = [c for c in table.column_names if c not in header]
    if missing:
        raise LandingFileError(
            f"{rel}: required column(s) missing from the header: {', '.join(missing)} "
            f"(header has: {', '.join(header)})"
        )
    return header


def load_file(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    table: Table,
    day: date,
    encoding: str,
    *,
    block_bytes: int | None = None,
) -> FileLoadResult | None:
    """Load the file of `table` for export day `day`; None when the day has no file
    (then nothing of that day is changed). Runs in one transaction. `block_bytes` is the
    size of the blocks the file is read in (default landing_stream.BLOCK_BYTES)."""
    path = landing_file(landing, table, day)
    if path is None:
        return None
    rel = path.relative_to(landing).as_posix()
    block_bytes = block_bytes or landing_stream.BLOCK_BYTES

    def reread(lines: list[int]) -> dict[int, str]:
        with LandingStream(path, rel, encoding, block_bytes) as again:
            again.header()
            return again.lines(lines)

    try:
        with LandingStream(path, rel, encoding, block_bytes) as stream:
            header = _read_header(stream, rel, encoding, table)
            return _load(con, stream, table, day, rel, encoding, header, reread)
    except LandingStreamError as exc:
        if path.name.endswith(".gz"):
            raise LandingFileError(
                f"{rel}: cannot be decompressed ({exc}); the file is cut off or not gzip"
            ) from exc
        raise LandingFileError(f"{rel}: cannot be read ({exc})") from exc


def _load(
    con: duckdb.DuckDBPyConnection,
    stream: LandingStream,
    table: Table,
    day: date,
    rel: str,
    encoding: str,
    header: list[str],
    reread: Callable[[list[int]], dict[int, str]],
) -> FileLoadResult:
    extra = [h for h in header if h not in table.column_names]
    target = f'{table.schema}."{table.name}"'
    con.execute("BEGIN TRANSACTION")
    loader = None
    try:
        ensure_schema(con)
        # Reloading day D replaces exactly day D: its raw rows, quarantine rows and log row.
        con.execute(f"DELETE FROM {target} WHERE _export_date = ?", [day])
        for bookkeeping in ("quarantine.rejected_rows", "meta.extract_files"):
            con.execute(
                f"DELETE FROM {bookkeeping} WHERE system = ? AND table_name = ? "
                "AND export_date = ?",
                [table.system, table.name, day],
            )
        loader = _BlockLoader(con, table, header, day, rel, encoding)
        carry = None
        for block in stream.blocks():
            carry = loader.load(block if carry is None else carry.followed_by(block))
        loader.flush()
        loader.check_references(reread)
        sha256 = stream.sha256()
        rows_read = loader.loaded + loader.rejected
        con.execute(
            "INSERT INTO meta.extract_files VALUES (?, ?, ?::DATE, ?, ?, ?, ?, ?, ?, now())",
            [
                table.system,
                table.name,
                day,
                rel,
                sha256,
                rows_read,
                loader.loaded,
                loader.rejected,
                ",".join(extra),
            ],
        )
        loader.close()
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")  # also drops the temporary key tables made in it
        if loader is not None:
            loader.close(drop_tables=False)
        raise
    return FileLoadResult(
        table.system,
        table.name,
        day,
        rel,
        sha256,
        rows_read,
        loader.loaded,
        loader.rejected,
        extra,
        header,
        dict(loader.reasons),
    )
