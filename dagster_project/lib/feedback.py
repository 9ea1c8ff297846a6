"""The field's answers to the work orders: the fifth source system `feedback`
(docs/work-orders.md section 6). Dagster-free, like all of lib/.

Two forms land, both optional on any day:

* returned workbooks, `<landing>/feedback/<YYYY-MM-DD>/*.xlsx` (any file name, the layout of
  lib/work_order_layout.py, sheet 稽查工单) -> raw_feedback.WORKBOOK_FEEDBACK, read here with
  python-calamine. A returned list is small (one row per order of one unit and day), so the
  rows are checked in Python, one by one;
* the platform's export, `<landing>/feedback/R_AUDIT_FEEDBACK/<YYYY-MM-DD>.csv` ->
  raw_feedback.R_AUDIT_FEEDBACK, read by the landing loader (lib/extract.py) like every
  source file; its codes and the cross-field rule (属实 needs the four rectification
  fields) are in its contract (landing_contract.R_AUDIT_FEEDBACK). It arrives in UTF-8 or
  GBK, told apart per file here.

Both keep the loader's promises: the raw table carries `_export_date`, `_source_file`
(relative to the landing directory) and `_line_number` (for a workbook the sheet's row, the
header is row 1); a rejected row goes to quarantine.rejected_rows with its file, row, text
and a reason (for a workbook naming the sheet and the cell); meta.extract_files has a row
per file; loading a day again replaces exactly that day. A workbook that cannot be opened,
lacks the sheet or has another header fails (LandingFileError naming the file) after the
day's other workbooks are loaded, and nothing of that workbook is changed.

Checks that need the orders (an unknown 工单编号, an answer to an order already archived)
are dbt's (audit.work_order_feedback_rejections); `copy_dbt_rejections` puts them into
quarantine.rejected_rows after the dbt build.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import python_calamine

from dagster_project.lib import work_order_layout as layout
from dagster_project.lib.extract import FileLoadResult, LandingFileError, landing_file, load_file
from dagster_project.lib.landing_contract import R_AUDIT_FEEDBACK, WORKBOOK_FEEDBACK
from dagster_project.lib.warehouse import ensure_schema

SYSTEM = "feedback"
HEADER_OF = {column: header for header, column in layout.HEADER_COLUMNS}
LETTER_OF = {column: chr(ord("A") + i) for i, column in enumerate(layout.COLUMNS)}
# Columns holding a date: the answer's are checked (a date that is no date is rejected),
# the locked ones only written as ISO text (an edit there is dbt's warning, not a rejection).
ANSWER_DATE_COLUMNS = ("FEEDBACK_DATE",)
ANSWER_DATETIME_COLUMNS = ("RECTIFY_START_TIME",)
LOCKED_DATE_COLUMNS = ("DISPATCH_DATE", "ANSWER_DEADLINE", "FIRST_DETECTED_DATE")


class WorkbookDayError(LandingFileError):
    """Some workbooks of a day could not be read; the others are loaded (`result`)."""

    def __init__(self, message: str, result: WorkbookDayResult):
        super().__init__(message)
        self.result = result


@dataclass
class WorkbookDayResult:
    export_date: dt.date
    files: list[FileLoadResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unanswered: int = 0  # lines of a returned list with no answer (skipped, not rejected)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)


# ------------------------------------------------------------------------ the platform CSV


def platform_encoding(path: Path) -> str:
    """The encoding of a platform export: GRIDAUDIT_ENCODING_FEEDBACK when set, else UTF-8
    when the whole file decodes as UTF-8 (with or without BOM), else GBK. A GBK text of
    Chinese characters practically never is valid UTF-8; the export is small (answers of a
    day), so it is read once more for this."""
    configured = os.environ.get("GRIDAUDIT_ENCODING_FEEDBACK", "").strip()
    if configured:
        return configured
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return "utf-8"  # the loader reports the broken gzip, naming the file
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # neither decodes cleanly: the one with fewer undecodable characters (the loader then
    # quarantines the lines that do not decode)
    utf8_bad = data.decode("utf-8", errors="replace").count("\ufffd")
    gbk_bad = data.decode("gbk", errors="replace").count("\ufffd")
    return "gbk" if gbk_bad <= utf8_bad else "utf-8"


def load_platform_file(
    con: duckdb.DuckDBPyConnection, landing: Path, day: dt.date
) -> FileLoadResult | None:
    """Load `<landing>/feedback/R_AUDIT_FEEDBACK/<day>.csv` with the landing loader; None
    when the day has no export. Both feedback tables exist afterwards (dbt reads them)."""
    ensure_schema(con)
    path = landing_file(landing, R_AUDIT_FEEDBACK, day)
    if path is None:
        return None
    return load_file(con, landing, R_AUDIT_FEEDBACK, day, platform_encoding(path))


# ------------------------------------------------------------------------- the workbooks


def workbook_folder(landing: Path, day: dt.date) -> Path:
    return landing / SYSTEM / f"{day:%Y-%m-%d}"


def workbook_files(landing: Path, day: dt.date) -> list[Path]:
    """The returned workbooks of a day, by name. Excel's lock files (`~$name.xlsx`, left
    next to a workbook open in Excel) are not workbooks."""
    folder = workbook_folder(landing, day)
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() == ".xlsx" and not p.name.startswith("~$")
    )


@dataclass
class _Row:
    line_number: int
    values: dict[str, str | None]  # column -> text (None when empty)
    raw_line: str
    reasons: list[str]
    rejected_columns: list[str]


@dataclass
class _Workbook:
    path: Path
    rel: str
    sha256: str
    rows: list[_Row]
    unanswered: int


def _text(value) -> str | None:
    """A cell as text: what the crew typed, trimmed; a date cell as YYYY-MM-DD, a datetime
    cell as YYYY-MM-DD HH:MM:SS, a whole number without '.0' (a code typed into a general
    cell comes back as a float)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


# Dates typed as text: 2026-09-05, 2026/9/5, 2026.09.05, 2026年9月5日, with an optional
# time HH:MM or HH:MM:SS.
_TEXT_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def _as_datetime(value) -> dt.datetime | dt.date | None:
    """A date cell, a datetime cell or a text that is a date; None when it is no date."""
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str):
        return None  # a number is no date (an Excel serial in a general cell is ambiguous)
    m = _TEXT_DATE.fullmatch(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) if g else None for g in m.groups())
    try:
        if h is None:
            return dt.date(y, mo, d)
        return dt.datetime(y, mo, d, h, mi, s or 0)
    except ValueError:
        return None


def _iso(value: dt.datetime | dt.date, with_time: bool) -> str:
    if isinstance(value, dt.datetime):
        if with_time and value.time() != dt.time():
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.date().isoformat()
    return value.isoformat()


def _check_row(line: int, cells: list) -> _Row | None:
    """One sheet row: None when it carries no answer (an unanswered line of the list, or an
    empty row); else its values and the reasons it is rejected (none when it is good)."""
    cells = list(cells) + [""] * (len(layout.COLUMNS) - len(cells))
    raw = dict(zip(layout.COLUMNS, cells, strict=False))
    values = {c: _text(raw[c]) for c in layout.COLUMNS}
    if all(values[c] is None for c in layout.ANSWER_COLUMNS):
        return None
    reasons: list[str] = []
    rejected: list[str] = []

    def bad(column: str, message: str) -> None:
        rejected.append(column)
        reasons.append(
            f"{layout.SHEET}!{LETTER_OF[column]}{line} {HEADER_OF[column]} ({column}): {message}"
        )

    if values["WORK_ORDER_NO"] is None:
        bad("WORK_ORDER_NO", "empty")
    confirmed = values["IS_CONFIRMED"]
    if confirmed is None:
        bad("IS_CONFIRMED", "empty, but the row carries an answer")
    elif confirmed not in layout.IS_CONFIRMED:
        bad("IS_CONFIRMED", f"not one of {'/'.join(layout.IS_CONFIRMED)} ({confirmed})")
    result = values["RECTIFY_RESULT"]
    if result is not None and result not in layout.RECTIFY_RESULT:
        bad("RECTIFY_RESULT", f"not one of {'/'.join(layout.RECTIFY_RESULT)} ({result})")
    if confirmed == "属实":
        missing = [c for c in layout.CONFIRMED_REQUIRES if values[c] is None]
        if missing:
            bad(
                "IS_CONFIRMED",
                "属实 requires "
                + ", ".join(HEADER_OF[c] for c in layout.CONFIRMED_REQUIRES)
                + "; empty: "
                + ", ".join(HEADER_OF[c] for c in missing),
            )
    for column in (*ANSWER_DATETIME_COLUMNS, *ANSWER_DATE_COLUMNS):
        if values[column] is None:
            continue
        when = _as_datetime(raw[column])
        if when is None:
            bad(column, f"not a date ({values[column]})")
        else:
            values[column] = _iso(when, with_time=column in ANSWER_DATETIME_COLUMNS)
    for column in LOCKED_DATE_COLUMNS:
        if isinstance(raw[column], dt.date):  # a datetime cell at midnight is that day
            values[column] = _iso(raw[column], with_time=True)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(
        ["" if v is None else v for v in (_text(c) for c in cells)]
    )
    return _Row(line, values, out.getvalue(), reasons, rejected)


def read_workbook(path: Path, rel: str) -> _Workbook:
    """Read and check the sheet 稽查工单 of a returned workbook; LandingFileError naming
    the file when it cannot be opened, lacks the sheet or has another header."""
    data = path.read_bytes()
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own errors, zip and xml ones
        raise LandingFileError(
            f"{rel}: cannot be opened as an xlsx workbook ({type(exc).__name__}: {exc})"
        ) from exc
    if layout.SHEET not in workbook.sheet_names:
        raise LandingFileError(
            f"{rel}: has no sheet {layout.SHEET} (sheets: {', '.join(workbook.sheet_names)})"
        )
    try:
        # skip_empty_area=False: rows from A1, so a row's index is its sheet row - 1
        cells = workbook.get_sheet_by_name(layout.SHEET).to_python(skip_empty_area=False)
    except Exception as exc:
        raise LandingFileError(
            f"{rel}: sheet {layout.SHEET} cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    header = [_text(c) for c in cells[0]] if cells else []
    expected = list(layout.HEADERS)
    found = header[: len(expected)] + [None] * (len(expected) - len(header))
    differences = [
        f"column {chr(ord('A') + i)} is {got or 'empty'} (expected {want})"
        for i, (got, want) in enumerate(zip(found, expected, strict=True))
        if got != want
    ]
    differences += [
        f"column {i + 1} is {got} (expected nothing after {expected[-1]})"
        for i, got in enumerate(header[len(expected) :], start=len(expected))
        if got is not None
    ]
    if differences:
        raise LandingFileError(
            f"{rel}: the header of sheet {layout.SHEET} differs from the list's "
            f"({'; '.join(differences[:5])}"
            + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
            + ")"
        )
    rows, unanswered = [], 0
    for index, row_cells in enumerate(cells[1:], start=2):
        row = _check_row(index, row_cells)
        if row is not None:
            rows.append(row)
        elif any(_text(c) is not None for c in row_cells):
            unanswered += 1
    return _Workbook(path, rel, hashlib.sha256(data).hexdigest(), rows, unanswered)


def load_workbooks(
    con: duckdb.DuckDBPyConnection, landing: Path, day: dt.date
) -> WorkbookDayResult | None:
    """Load the returned workbooks of export day `day` into raw_feedback.WORKBOOK_FEEDBACK;
    None when the day has none (then nothing of that day is changed). Day D is replaced by
    what its folder holds now, in one transaction, except the rows of a workbook that cannot
    be read: those stay as they were, and WorkbookDayError (naming each such file) is raised
    after the others are loaded."""
    ensure_schema(con)
    files = workbook_files(landing, day)
    if not files:
        return None
    result = WorkbookDayResult(day)
    books: list[_Workbook] = []
    failed: list[str] = []
    for path in files:
        rel = path.relative_to(landing).as_posix()
        try:
            books.append(read_workbook(path, rel))
        except LandingFileError as exc:
            result.failures.append(str(exc))
            failed.append(rel)
        except OSError as exc:
            result.failures.append(f"{rel}: cannot be read ({exc})")
            failed.append(rel)
    table = WORKBOOK_FEEDBACK
    target = f'{table.schema}."{table.name}"'
    keep = "" if not failed else " AND source_file NOT IN (SELECT unnest(?::VARCHAR[]))"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"DELETE FROM {target} WHERE _export_date = ?"
            + keep.replace("source_file", "_source_file"),
            [day, failed] if failed else [day],
        )
        for bookkeeping in ("quarantine.rejected_rows", "meta.extract_files"):
            con.execute(
                f"DELETE FROM {bookkeeping} WHERE system = ? AND table_name = ? "
                "AND export_date = ?" + keep,
                [SYSTEM, table.name, day, *([failed] if failed else [])],
            )
        for book in books:
            result.files.append(_insert_workbook(con, book, day))
            result.unanswered += book.unanswered
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if result.failures:
        raise WorkbookDayError("; ".join(result.failures), result)
    return result


def _insert_workbook(con: duckdb.DuckDBPyConnection, book: _Workbook, day: dt.date):
    table = WORKBOOK_FEEDBACK
    good = [r for r in book.rows if not r.reasons]
    bad = [r for r in book.rows if r.reasons]
    if good:
        columns = {c: pa.array([r.values[c] for r in good], pa.string()) for c in layout.COLUMNS}
        columns["SHEET_NAME"] = pa.array([layout.SHEET] * len(good), pa.string())
        columns["_line_number"] = pa.array([r.line_number for r in good], pa.int64())
        names = ", ".join(f'"{c}"' for c in table.column_names)
        con.register("_fb_good", pa.table(columns))
        try:
            con.execute(
                f'INSERT INTO {table.schema}."{table.name}" SELECT {names}, ?::DATE, ?, '
                "_line_number FROM _fb_good",
                [day, book.rel],
            )
        finally:
            con.unregister("_fb_good")
    if bad:
        con.executemany(
            "INSERT INTO quarantine.rejected_rows VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [
                [SYSTEM, table.name, day, book.rel, r.line_number, r.raw_line, "; ".join(r.reasons)]
                for r in bad
            ],
        )
    reasons = Counter(column for r in bad for column in r.rejected_columns)
    rows_read = len(book.rows) + book.unanswered
    con.execute(
        "INSERT INTO meta.extract_files VALUES (?, ?, ?::DATE, ?, ?, ?, ?, ?, ?, now())",
        [SYSTEM, table.name, day, book.rel, book.sha256, rows_read, len(good), len(bad), ""],
    )
    return FileLoadResult(
        SYSTEM,
        table.name,
        day,
        book.rel,
        book.sha256,
        rows_read,
        len(good),
        len(bad),
        [],
        list(layout.HEADERS),
        dict(reasons),
    )


# ----------------------------------------------------------- checks made by dbt, after it

REJECTIONS_TABLE = "audit.work_order_feedback_rejections"
WARNINGS_TABLE = "audit.work_order_feedback_warnings"
_RAW_TEXT_COLUMNS = ("raw_line", "raw_text", "raw")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, name],
        ).fetchall()
    ]


def _raw_rows(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, int]]) -> dict:
    """(source file, line) -> (raw table, export day, the row's text) for loaded answers."""
    if not keys:
        return {}
    found = {}
    wanted = pa.table(
        {
            "source_file": pa.array([k[0] for k in keys], pa.string()),
            "line_number": pa.array([k[1] for k in keys], pa.int64()),
        }
    )
    for table in (WORKBOOK_FEEDBACK, R_AUDIT_FEEDBACK):
        columns = [c for c in table.column_names if c != "SHEET_NAME"]
        names = ", ".join(f'r."{c}"' for c in columns)
        rows = (
            con.from_arrow(wanted)
            .query(
                "_fb_keys",
                f"SELECT r._source_file, r._line_number, r._export_date, {names} FROM "
                f'{table.schema}."{table.name}" r JOIN _fb_keys k ON r._source_file = '
                "k.source_file AND r._line_number = k.line_number",
            )
            .fetchall()
        )
        for source_file, line, day, *values in rows:
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(
                ["" if v is None else str(v) for v in values]
            )
            found[(source_file, line)] = (table.name, day, out.getvalue())
    return found


def _day_of(source_file: str) -> tuple[str, dt.date] | None:
    """(raw table, export day) from a feedback file's path relative to the landing dir."""
    parts = source_file.split("/")
    try:
        if len(parts) == 3 and parts[:2] == [SYSTEM, R_AUDIT_FEEDBACK.name]:
            return R_AUDIT_FEEDBACK.name, dt.date.fromisoformat(parts[2].split(".")[0])
        if len(parts) == 3 and parts[0] == SYSTEM:
            return WORKBOOK_FEEDBACK.name, dt.date.fromisoformat(parts[1])
    except ValueError:
        return None
    return None


def copy_dbt_rejections(
    con: duckdb.DuckDBPyConnection,
    days: list[dt.date] | None = None,
    table: str = REJECTIONS_TABLE,
) -> dict[str, int]:
    """Copy dbt's rejected answers (`source_file`, `line_number`, `reason`, the row's text
    if it has one) into quarantine.rejected_rows, replacing the copies made before; returns
    the count per raw table. Such a row stays in raw too ("every answer stays in raw"):
    the extract rejects a row before it loads it, so the quarantine rows of the feedback
    system whose file and line are in a raw table are exactly the earlier copies. Replaced
    are the copies of the export days `days` (the run's window) and of every day dbt's
    table has a rejection on, so a rejections model that covers only the run's window
    keeps older days' copies; `days=None` replaces every copy."""
    columns = _columns(con, table)
    if not columns:
        raise LookupError(f"{table} does not exist: the dbt build did not make it")
    missing = [c for c in ("source_file", "line_number", "reason") if c not in columns]
    if missing:
        raise LookupError(f"{table} lacks the column(s) {', '.join(missing)}")
    text_column = next((c for c in _RAW_TEXT_COLUMNS if c in columns), None)
    rejections = con.execute(
        f"SELECT source_file, line_number, reason, {text_column or 'NULL'} FROM {table} "
        "ORDER BY source_file, line_number, reason"
    ).fetchall()
    raw = _raw_rows(con, sorted({(r[0], r[1]) for r in rejections}))
    rows, counts = [], Counter()
    for source_file, line, reason, text in rejections:
        known = raw.get((source_file, line))
        where = (known[0], known[1]) if known else _day_of(source_file)
        if where is None:
            raise ValueError(
                f"{table}: {source_file} line {line} is no feedback file of the landing "
                "contract (feedback/<day>/*.xlsx or feedback/R_AUDIT_FEEDBACK/<day>.csv)"
            )
        table_name, day = where
        if table_name == WORKBOOK_FEEDBACK.name and layout.SHEET not in reason:
            reason = (
                f"{layout.SHEET}!{LETTER_OF['WORK_ORDER_NO']}{line} "
                f"{HEADER_OF['WORK_ORDER_NO']} (WORK_ORDER_NO): {reason}"
            )
        text = text if text is not None else (known[2] if known else None)
        rows.append([SYSTEM, table_name, day, source_file, line, text, reason])
        counts[table_name] += 1
    scope = ""
    if days is not None:
        scope = " AND q.export_date IN (SELECT unnest(?::DATE[]))"
        scoped = [sorted(set(days) | {r[2] for r in rows})]
    con.execute("BEGIN TRANSACTION")
    try:
        for raw_table in (WORKBOOK_FEEDBACK, R_AUDIT_FEEDBACK):
            con.execute(
                f"""DELETE FROM quarantine.rejected_rows q WHERE q.system = ? AND
                q.table_name = ? AND EXISTS (SELECT 1 FROM {raw_table.schema}."{raw_table.name}"
                r WHERE r._export_date = q.export_date AND r._source_file = q.source_file
                AND r._line_number = q.line_number)"""
                + scope,
                [SYSTEM, raw_table.name, *(scoped if days is not None else [])],
            )
        if rows:
            con.executemany(
                "INSERT INTO quarantine.rejected_rows VALUES (?, ?, ?, ?, ?, ?, ?, now())", rows
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return dict(counts)


def feedback_warnings(
    con: duckdb.DuckDBPyConnection, days: list[dt.date], table: str = WARNINGS_TABLE
) -> list[dict]:
    """dbt's warnings about answers (locked cells edited, ...) as dicts of its columns;
    those of answers landed on `days` when the table names the answer's file and line."""
    columns = _columns(con, table)
    if not columns:
        raise LookupError(f"{table} does not exist: the dbt build did not make it")
    rows = [
        dict(zip(columns, r, strict=True)) for r in con.execute(f"SELECT * FROM {table}").fetchall()
    ]
    if not {"source_file", "line_number"} <= set(columns):
        return rows
    raw = _raw_rows(con, sorted({(r["source_file"], r["line_number"]) for r in rows}))
    wanted = set(days)

    def day(row):
        known = raw.get((row["source_file"], row["line_number"]))
        where = (known[0], known[1]) if known else _day_of(row["source_file"])
        return where[1] if where else None

    return [r for r in rows if day(r) in wanted]
