"""The quality gate: runs the GX suites and DuckDB metric checks of `expectations/` on the
run window's rows and says whether the marts may be published. Dagster-free.

Route (stays bounded at millions of rows):

* GX suites run on pandas batches fetched from DuckDB: the window's rows only
  (`where <day column> between start and end`), whole days up to MAX_BATCH_ROWS a batch,
  and only the columns the suite reads (through Arrow, with the rowid by which the failing
  rows of the results are fetched whole afterwards). GX's SQL datasource is not used: on
  DuckDB it returns empty metric results (GX #10738, #11579).
* Aggregates GX cannot express on one batch (row count against the previous day,
  quarantine share) are SQL queries computed inside DuckDB (`expectations.base.MetricCheck`).

`run_gate` opens the warehouse read-only and closes it before returning; it writes a
self-contained HTML report per run into `report_dir` (its path is in the result for
Dagster metadata). A table a suite needs that does not exist is an `error` outcome with a
message saying so, not a skipped check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dagster_project.lib import audit_settings
from dagster_project.lib import settings as settings_module
from expectations.base import ERROR, WARN, MetricCheck, TableSuite, expectation_name

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5  # failing rows kept per expectation (report, message, metadata)
# Rows of one pandas batch of a `batch_per_day` suite: whole export days are grouped up to
# this many rows (a larger day is a batch of its own). Bounds the gate's memory at
# millions of rows while keeping the number of GX validations small.
MAX_BATCH_ROWS = 500_000
# From this many rows on, a batch is validated one expectation at a time on the columns it
# reads (_GxValidator.validate); below it, one suite validation costs less.
NARROW_MIN_ROWS = 20_000


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation or metric check over every batch of the window."""

    name: str  # e.g. "expect_column_values_to_be_between(loss_rate, None, 1)"
    table: str  # e.g. "marts.area_daily_loss"
    severity: str  # "error" blocks publishing, "warn" is reported
    success: bool
    unexpected_count: int
    element_count: int | None
    sample_rows: list[dict[str, Any]]  # failing rows (whole rows where available)
    message: str  # one line for humans
    description: str = ""
    kind: str = "gx"  # "gx" | "metric" | "missing_table"
    details: list[dict[str, Any]] = field(default_factory=list)  # metric checks: every unit

    @property
    def blocking(self) -> bool:
        return not self.success and self.severity == ERROR


@dataclass(frozen=True)
class GateResult:
    warehouse_path: Path
    start_date: dt.date
    end_date: dt.date
    results: list[ExpectationResult]
    report_path: Path | None
    settings_fingerprint: str
    duration_seconds: float
    # "raw" | "marts" (expectations.registry.GATES) | "all"; "raw:<table>" for one table
    gate: str = "all"
    # the first day checked: start_date, or earlier for marts the run recomputed from an
    # earlier day (late readings, late payments)
    checked_from: dt.date | None = None

    @property
    def passed(self) -> bool:
        """True when no `error` expectation failed (`warn` failures do not block)."""
        return not any(r.blocking for r in self.results)

    def results_for(self, checked_table: str) -> list[ExpectationResult]:
        """The results to report on one table of `expectations.CHECKED_TABLES` (one
        Dagster asset check): its own results plus every result of this gate about a
        table that has no check of its own, which is reported on every checked table."""
        from expectations import CHECKED_TABLES

        return [
            r for r in self.results if r.table == checked_table or r.table not in CHECKED_TABLES
        ]

    @property
    def errors(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.blocking]

    @property
    def warnings(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and r.severity == WARN]

    def summary(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        recomputed = (
            f" (recomputed from {self.checked_from})"
            if self.checked_from and self.checked_from < self.start_date
            else ""
        )
        lines = [
            (
                f"{self.gate} gate {verdict} for {self.start_date}..{self.end_date}{recomputed}: "
                f"{len(self.errors)} error(s), {len(self.warnings)} warning(s), "
                f"{len(self.results)} checks, {self.duration_seconds:.1f}s"
            )
        ]
        lines += [f"  ERROR {r.message}" for r in self.errors]
        lines += [f"  WARN  {r.message}" for r in self.warnings]
        if self.report_path:
            lines.append(f"  report: {self.report_path}")
        return "\n".join(lines)

    def metadata(self) -> dict[str, Any]:
        """Plain values for Dagster metadata (the caller wraps them as it likes)."""
        return {
            "passed": self.passed,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "checks": len(self.results),
            "gate": self.gate,
            "window": f"{self.start_date}..{self.end_date}",
            "checked_from": str(self.checked_from or self.start_date),
            "settings_fingerprint": self.settings_fingerprint,
            "report_path": str(self.report_path) if self.report_path else None,
            "summary": self.summary(),
        }


SEVERITY_LABEL = {ERROR: "阻断 error", WARN: "警告 warn"}
MARKDOWN_MAX_FAILURES = 30  # rows of the failures table in the UI; the report has all


def markdown_summary(results: Sequence[ExpectationResult], report_url: str | None = None) -> str:
    """What an engineer reads first on a check's page in the Dagster UI: the verdict, the
    failed expectations (blocking ones first, grouped by table) with rows and one example,
    then the count of met expectations per table. The HTML report has every sample row."""
    errors = [r for r in results if r.blocking]
    warnings = [r for r in results if not r.success and not r.blocking]
    failed = sorted(errors, key=lambda r: r.table) + sorted(warnings, key=lambda r: r.table)
    verdict = "**未通过 FAILED**" if errors else "**通过 PASSED**"
    lines = [
        f"{verdict}: {len(errors)} blocking error(s), {len(warnings)} warning(s), "
        f"{len(results)} expectations" + (f" · [report]({report_url})" if report_url else "")
    ]
    if failed:
        lines += [
            "",
            "| 级别 severity | 表 table | 检查 expectation | 不符 failed | 示例 example |",
        ]
        lines.append("|---|---|---|---|---|")
        for r in failed[:MARKDOWN_MAX_FAILURES]:
            count = (
                f"{r.unexpected_count:,} of {r.element_count:,} rows"
                if r.unexpected_count and r.element_count
                else (f"{r.unexpected_count:,} rows" if r.unexpected_count else "-")
            )
            example = r.message.split("e.g. ", 1)[1] if "e.g. " in r.message else r.message
            lines.append(
                f"| {SEVERITY_LABEL.get(r.severity, r.severity)} | {r.table} | "
                f"{_md_cell(r.name)} | {count} | {_md_cell(example)} |"
            )
        if len(failed) > MARKDOWN_MAX_FAILURES:
            lines.append(f"\n{len(failed) - MARKDOWN_MAX_FAILURES} more failures in the report")
    met: dict[str, int] = {}
    for r in results:
        if r.success:
            met[r.table] = met.get(r.table, 0) + 1
    if met:
        lines += ["", "Met: " + ", ".join(f"{table} {n}" for table, n in sorted(met.items()))]
    return "\n".join(lines)


def _md_cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class GateError(RuntimeError):
    """The gate could not run at all (no warehouse file)."""


# --------------------------------------------------------------------------- running


def run_gate(
    warehouse_path: str | Path,
    start_date: dt.date | str,
    end_date: dt.date | str,
    report_dir: str | Path | None,
    *,
    gate: str | None = None,
    tables: Sequence[str] | None = None,
    settings: Mapping[str, str] | None = None,
    table_suites: Sequence[TableSuite] | None = None,
    metric_checks: Sequence[MetricCheck] | None = None,
    settings_path: Path = audit_settings.SETTINGS_FILE,
    recomputed_from: Mapping[str, dt.date] | None = None,
) -> GateResult:
    """Validate the run window [start_date, end_date] of the warehouse.

    Raw tables are checked on the rows of the window's export days (`_export_date`), the
    marts on the days the run recomputed: from the earlier of start_date and the first day
    dbt recomputed for that mart (`recomputed_from_dates`: a late reading recomputes
    earlier days), to end_date. `recomputed_from` ({column of
    intermediate.int_kpi_window: day}) overrides what the warehouse says.

    `gate` ("raw" | "marts") runs that gate of `expectations.registry.GATES`, None every
    suite and check. `settings` defaults to dbt/seeds/audit_settings.csv; `table_suites` /
    `metric_checks` override the gate's. `tables` keeps only the suites and checks whose
    results are about these tables (one raw table's asset check). With `report_dir=None`
    no report is written.
    """
    from expectations import registry  # late: GX is imported when the gate runs, not on load

    started = time.monotonic()
    warehouse_path = Path(warehouse_path)
    start, end = _as_date(start_date), _as_date(end_date)
    if end < start:
        raise ValueError(f"end_date {end} is before start_date {start}")
    if not warehouse_path.is_file():
        raise GateError(f"warehouse {warehouse_path} does not exist")
    custom_settings = settings is not None
    settings = dict(settings) if custom_settings else audit_settings.load(settings_path)
    gate_suites, gate_checks = (
        registry.GATES[gate] if gate else (registry.TABLE_SUITES, registry.METRIC_CHECKS)
    )
    table_suites = gate_suites if table_suites is None else table_suites
    metric_checks = gate_checks if metric_checks is None else metric_checks
    wanted = set(tables) if tables is not None else None
    if wanted is not None:
        table_suites = [s for s in table_suites if s.table in wanted]
        metric_checks = [c for c in metric_checks if wanted & set(c.result_tables)]

    results: list[ExpectationResult] = []
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        settings_module.apply_duckdb_settings(con)
        existing = _existing_tables(con)
        about_marts = [s.table for s in table_suites] + [c.table for c in metric_checks]
        if recomputed_from is None and any(t.startswith("marts.") for t in about_marts):
            recomputed_from = recomputed_from_dates(con, existing)
        first_day = {
            table: _first_checked_day(table, start, recomputed_from or {}) for table in about_marts
        }
        validator = _validator() if table_suites else None
        for spec in table_suites:
            if spec.table not in existing:
                results.append(_missing_table(spec.table, spec.table, "its suite", warehouse_path))
                continue
            results.extend(
                _run_table_suite(con, validator, spec, settings, first_day[spec.table], end)
            )
        for check in metric_checks:
            missing = [t for t in check.requires if t not in existing]
            if missing:
                results.extend(
                    _missing_table(table, missing[0], check.name, warehouse_path)
                    for table in check.result_tables
                )
                continue
            results.extend(
                _run_metric_check(con, check, settings, first_day[check.table], end, wanted)
            )
    if wanted is not None:  # a check about many tables (quarantine) reports only these
        results = [r for r in results if r.table in wanted]
    checked_from = min(first_day.values(), default=start)

    if custom_settings:
        fingerprint = (
            "custom-" + hashlib.sha256(repr(sorted(settings.items())).encode()).hexdigest()[:12]
        )
    elif settings_path.is_file():
        fingerprint = audit_settings.fingerprint(settings_path)
    else:
        fingerprint = "unknown"
    result = GateResult(
        warehouse_path=warehouse_path,
        start_date=start,
        end_date=end,
        results=results,
        report_path=None,
        settings_fingerprint=fingerprint,
        duration_seconds=time.monotonic() - started,
        checked_from=checked_from,
        gate=(gate or "all") + (f":{tables[0]}" if tables is not None and len(tables) == 1 else ""),
    )
    if report_dir is not None:
        path = write_report(result, Path(report_dir))
        result = GateResult(**{**result.__dict__, "report_path": path})
    log.info(result.summary())
    return result


def recomputed_from_dates(
    con: duckdb.DuckDBPyConnection, existing: set[str] | None = None
) -> dict[str, dt.date]:
    """The first days the run's dbt build recomputed, from its one-row window table
    intermediate.int_kpi_window ({column: day}, the *_from_date columns it has; empty when
    the table does not exist, e.g. before dbt ran). The marts gate runs after dbt in the same
    run, so the row is this run's."""
    from expectations import RUN_WINDOW_TABLE

    existing = _existing_tables(con) if existing is None else existing
    if RUN_WINDOW_TABLE not in existing:
        return {}
    schema, name = RUN_WINDOW_TABLE.split(".", 1)
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ? and suffix(column_name, '_from_date') "
            "order by column_index",
            [schema, name],
        ).fetchall()
    ]
    if not columns:
        return {}
    mins = ", ".join(f'min("{c}")' for c in columns)
    # fetchall: a result left unfinished (fetchone) blocks the connection's next con.sql
    (row,) = con.execute(f"select {mins} from {_quote_table(RUN_WINDOW_TABLE)}").fetchall()
    return {c: v for c, v in zip(columns, row, strict=True) if v is not None}


def _first_checked_day(table: str, start: dt.date, recomputed_from: Mapping[str, dt.date]):
    """Raw tables: the window's first export day. A mart: the earlier of that and the
    first day the run recomputed it (expectations.RECOMPUTED_FROM names the columns of
    the run's window table that bound it)."""
    from expectations import RECOMPUTED_FROM, RECOMPUTED_FROM_DEFAULT

    if not table.startswith("marts."):
        return start
    days = [
        recomputed_from[c]
        for c in RECOMPUTED_FROM.get(table, RECOMPUTED_FROM_DEFAULT)
        if c in recomputed_from
    ]
    return min([start, *days])


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() "
        "union all select schema_name, view_name from duckdb_views() "
        "where database_name = current_database() and not internal"
    ).fetchall()
    return {f"{s}.{t}" for s, t in rows}


def _missing_table(table: str, missing: str, what: str, warehouse: Path) -> ExpectationResult:
    """`missing` does not exist; the outcome is attributed to the checked `table`."""
    return ExpectationResult(
        name=f"table_exists({missing})",
        table=table,
        severity=ERROR,
        success=False,
        unexpected_count=0,
        element_count=None,
        sample_rows=[],
        kind="missing_table",
        message=(
            f"{table}: {'' if missing == table else missing + ': '}table does not "
            f"exist in {warehouse} (needed by {what}); has the step that builds it run?"
        ),
    )


def _quote_table(table: str) -> str:
    schema, name = table.split(".", 1)
    return f'"{schema}"."{name}"'


_VALIDATOR: _GxValidator | None = None


def _validator() -> _GxValidator:
    """One GX context per process: the in-process executor runs the twenty raw gates and
    the marts gate one after the other in one process."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = _GxValidator()
    return _VALIDATOR


@contextmanager
def _no_batch_fingerprint():
    """GX fingerprints every pandas batch below 1 GB (`pandas_data_fingerprint`: an md5 of
    `pd.util.hash_pandas_object` over every cell, a batch marker the gate never reads). At
    2 M rows that hashing cost more than the expectations themselves (1.6 s per batch, and
    `Batch.validate` built the batch twice). GX skips it above its HASH_THRESHOLD; the gate
    skips it always, for the duration of its own validations only."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    saved = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = saved


class _GxValidator:
    """One ephemeral GX context with one pandas dataframe asset, reused for every batch."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.validator.v1_validator import Validator

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        asset = self.context.data_sources.add_pandas("gridaudit_gate").add_dataframe_asset("batch")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self._validator_class = Validator

    def _v1(self, df: pd.DataFrame):
        # What `Batch.validate` does, minus the batch it builds first and throws away.
        return self._validator_class(
            batch_definition=self.batch_definition,
            batch_parameters={"dataframe": df},
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS},
        )

    def validate(self, suite, df: pd.DataFrame) -> list:
        """Every expectation of the suite on the batch (SUMMARY results: counts, observed
        values and the index labels of the first SAMPLE_ROWS failing rows), in suite order.

        A batch of NARROW_MIN_ROWS rows or more is validated one expectation at a time on
        the columns that expectation reads (`df[columns]`, no copy): GX's pandas engine
        copies the whole frame for every expectation when it drops the rows its domain
        excludes (the nulls of a column, a row condition), so on a wide frame most of its
        time went to copying columns the expectation never reads. Same results, same index
        labels. A smaller batch is one suite validation (no per-expectation overhead)."""
        with _no_batch_fingerprint():
            if len(df) < NARROW_MIN_ROWS:
                return list(self._v1(df).validate_expectation_suite(suite).results)
            results = []
            for exp in suite.expectations:
                columns = _expectation_columns(exp.configuration.kwargs)
                if columns:  # the ones the frame has: a missing one raises in GX, as before
                    columns = [c for c in df.columns if c in columns]
                frame = df[columns] if columns else df
                results.append(self._v1(frame).validate_expectation(exp))
            return results


@dataclass
class _Accumulator:
    name: str
    severity: str
    description: str
    success: bool = True
    unexpected_count: int = 0
    element_count: int = 0
    observed: list[Any] = field(default_factory=list)
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _BuiltSuite:
    """A TableSuite's GX suite built for one set of settings, with what the gate derives
    from it: expectation names, severities, descriptions and the columns it reads."""

    suite: Any  # gx.ExpectationSuite
    names: tuple[str, ...]  # expectation_name of each expectation, in suite order
    severities: tuple[str, ...]
    descriptions: tuple[str, ...]
    # Every column an expectation (or its row condition) names; None when one cannot be
    # known (a row condition written as pandas query text): then the batch is `select *`.
    columns: frozenset[str] | None


_BUILT: dict[tuple, _BuiltSuite] = {}


def _built_suite(spec: TableSuite, settings: Mapping[str, str]) -> _BuiltSuite:
    """`spec.build(settings)` once per process and settings (the twenty raw gates of a run
    and every run of a long-lived process use the same)."""
    key = (spec, tuple(sorted(settings.items())))
    built = _BUILT.get(key)
    if built is None:
        suite = spec.build(settings)
        names, severities, descriptions = [], [], []
        columns: set[str] | None = set()
        for exp in suite.expectations:
            config = exp.configuration
            name = expectation_name(config)
            if name in names:
                raise ValueError(f"suite {suite.name}: two expectations are named {name}")
            names.append(name)
            severities.append((exp.meta or {}).get("severity", ERROR))
            descriptions.append(exp.description or "")
            used = _expectation_columns(config.kwargs)
            columns = None if used is None or columns is None else columns | used
        built = _BuiltSuite(
            suite=suite,
            names=tuple(names),
            severities=tuple(severities),
            descriptions=tuple(descriptions),
            columns=None if columns is None else frozenset(columns),
        )
        if len(_BUILT) > 512:  # many custom settings (tests): keep the cache bounded
            _BUILT.clear()
        _BUILT[key] = built
    return built


def _expectation_columns(kwargs: Mapping[str, Any]) -> set[str] | None:
    """The columns an expectation's kwargs name (column, column_A / column_B, column_list,
    the row condition's columns); None when a row condition is text GX parses itself."""
    cols: set[str] = set()
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key) is not None:
            cols.add(str(kwargs[key]))
    cols.update(str(c) for c in kwargs.get("column_list") or ())
    cond = kwargs.get("row_condition")
    if cond:
        found = _condition_columns(cond)
        if found is None:
            return None
        cols |= found
    return cols


def _condition_columns(cond: Any) -> set[str] | None:
    if hasattr(cond, "dict") and not isinstance(cond, Mapping):
        cond = cond.dict()
    if not isinstance(cond, Mapping):
        return None  # text (pandas query syntax): not parsed here
    if "conditions" in cond:
        cols: set[str] = set()
        for sub in cond["conditions"]:
            found = _condition_columns(sub)
            if found is None:
                return None
            cols |= found
        return cols
    column = cond.get("column")
    name = column.get("name") if isinstance(column, Mapping) else column
    return {str(name)} if name is not None else None


@dataclass(frozen=True)
class _TableInfo:
    """A warehouse table's columns ({name: DuckDB type}) and whether it is a base table
    (it has `rowid`; a view has not)."""

    columns: dict[str, str]
    base_table: bool


def _table_info(con, table: str) -> _TableInfo:
    schema, name = table.split(".", 1)
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? "
        "order by column_index",
        [schema, name],
    ).fetchall()
    ((base,),) = con.execute(  # fetchall: see recomputed_from_dates
        "select count(*) from duckdb_tables() "
        "where database_name = current_database() and schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return _TableInfo(columns=dict(rows), base_table=bool(base))


ROWID = "_gate_rowid"  # the batch's DuckDB rowid: the failing rows are fetched whole by it


@dataclass
class _Batch:
    """One pandas batch. `whole`: df holds whole rows (`select *` and the derived columns),
    the failing-row samples are taken from it; else df holds only the columns the suite
    reads plus ROWID, and the samples are fetched whole by rowid (`where` / `params`: the
    batch's rows)."""

    df: pd.DataFrame
    whole: bool
    where: str
    params: list[Any]


def _batch_select(spec: TableSuite, built: _BuiltSuite, info: _TableInfo) -> tuple[str, bool]:
    """The select list of a batch and whether it is whole rows. A base table whose suite's
    columns are known is read pruned: the columns the expectations name (that exist: a
    missing one makes its expectation raise in GX, as with `select *`) and the derived
    columns, DECIMAL read as DOUBLE (what `.df()` gives), plus its rowid."""
    derived = dict(spec.derived_columns)
    if built.columns is None or not info.base_table:
        return "*" + "".join(f', {sql} AS "{name}"' for name, sql in spec.derived_columns), True
    items = [f'rowid AS "{ROWID}"']
    for column, dtype in info.columns.items():
        if column in built.columns and column not in derived:
            quoted = '"' + column.replace('"', '""') + '"'
            if dtype.upper().startswith("DECIMAL"):
                items.append(f"cast({quoted} as double) AS {quoted}")
            else:
                items.append(quoted)
    items += [f'{sql} AS "{name}"' for name, sql in spec.derived_columns if name in built.columns]
    return ", ".join(items), False


def _fetch(con, sql: str, params: list[Any], whole: bool) -> pd.DataFrame:
    """Whole rows through `.df()` (the types of the samples and the report, as before); a
    pruned batch through Arrow: a fifth of the CPU at 2 M rows (strings stay Arrow-backed,
    the pandas default; dates become datetime64 like `.df()`'s, not Python objects)."""
    if whole:
        return con.execute(sql, params).df()
    # con.sql, not con.execute: Arrow from a DB-API result copies every row once more
    return con.sql(sql, params=params or None).to_arrow_table().to_pandas(date_as_object=False)


def _batches(
    con, spec: TableSuite, built: _BuiltSuite, info: _TableInfo, start: dt.date, end: dt.date
) -> Iterable[_Batch]:
    table = _quote_table(spec.table)
    select, whole = _batch_select(spec, built, info)

    def batch(where: str, params: list[Any]) -> _Batch:
        sql = f"select {select} from {table}{where}"
        return _Batch(_fetch(con, sql, params, whole), whole, where, params)

    if spec.window_column is None:
        yield batch("", [])
        return
    col = f'"{spec.window_column}"'
    where = f" where {col} between $1 and $2"
    if not spec.batch_per_day or start == end:  # one day is one batch: one query
        b = batch(where, [start, end])
        if len(b.df) or not spec.batch_per_day:  # (no rows of a day: no batch, as before)
            yield b
        return
    # Whole days per batch, as many as fit in MAX_BATCH_ROWS (a day larger than that is a
    # batch of its own): memory is bounded by max(MAX_BATCH_ROWS, the largest day) and
    # small tables of a long window cost one validation, not one per day.
    day_counts = con.execute(
        f"select {col}, count(*) from {table} where {col} between $1 and $2 group by 1 order by 1",
        [start, end],
    ).fetchall()
    for first, last in _day_groups(day_counts, MAX_BATCH_ROWS):
        yield batch(where, [first, last])


def _day_groups(day_counts: Sequence[tuple[Any, int]], max_rows: int) -> list[tuple[Any, Any]]:
    """Consecutive runs of days whose rows add up to at most `max_rows` (a day above it
    alone), as (first day, last day)."""
    groups: list[tuple[Any, Any]] = []
    first = last = None
    rows = 0
    for day, count in day_counts:
        if first is not None and rows + count > max_rows:
            groups.append((first, last))
            first, rows = None, 0
        if first is None:
            first = day
        last, rows = day, rows + count
    if first is not None:
        groups.append((first, last))
    return groups


def _run_table_suite(
    con, validator: _GxValidator, spec: TableSuite, settings, start, end
) -> list[ExpectationResult]:
    """GX validates every expectation of the suite on each batch; the first failing rows
    of a failing expectation are fetched whole (by rowid when the batch was read pruned:
    good data never pays for whole rows)."""
    built = _built_suite(spec, settings)
    accs = {
        name: _Accumulator(name=name, severity=severity, description=description)
        for name, severity, description in zip(
            built.names, built.severities, built.descriptions, strict=True
        )
    }
    info = _table_info(con, spec.table)
    batches = 0
    for b in _batches(con, spec, built, info, start, end):
        batches += 1
        failing = []
        for r in validator.validate(built.suite, b.df):
            acc = accs[expectation_name(r.expectation_config)]
            if _accumulate(acc, r) and len(acc.sample_rows) < SAMPLE_ROWS:
                failing.append((acc, r))
        if failing:
            _collect_samples(con, spec, b, failing)
    out = []
    for acc in accs.values():
        out.append(_table_outcome(spec, acc, batches))
    return out


def _accumulate(acc: _Accumulator, r) -> bool:
    """Adds one batch's result; True when it failed with unexpected rows to sample."""
    info = r.exception_info or {}
    if info.get("raised_exception"):
        acc.success = False
        acc.exceptions.append(str(info.get("exception_message")))
        return False
    res = r.result or {}
    acc.success = acc.success and bool(r.success)
    acc.element_count += int(res.get("element_count") or 0)
    acc.unexpected_count += int(res.get("unexpected_count") or 0)
    if "observed_value" in res:
        acc.observed.append(res["observed_value"])
    return not r.success and bool(res.get("unexpected_count"))


def _collect_samples(con, spec: TableSuite, b: _Batch, failing: list[tuple[_Accumulator, Any]]):
    """The first failing rows of each failing expectation of batch `b`, whole rows, in the
    batch's order (GX's partial_unexpected_index_list), up to SAMPLE_ROWS per expectation
    over every batch."""
    wanted: list[tuple[_Accumulator, list[Any]]] = []
    for acc, r in failing:
        room = SAMPLE_ROWS - len(acc.sample_rows)
        idx = list((r.result or {}).get("partial_unexpected_index_list") or [])[:room]
        wanted.append((acc, [i for i in idx if i in b.df.index]))
    if b.whole:
        for acc, idx in wanted:
            acc.sample_rows.extend(_json_rows(b.df.loc[idx]) if idx else [])
        return
    rowids = {acc.name: [int(v) for v in b.df.loc[idx, ROWID]] for acc, idx in wanted if idx}
    every = sorted({v for ids in rowids.values() for v in ids})
    if not every:
        return
    # the batch's query (its derived columns over the same rows: a rank stays the batch's
    # rank), whole rows, kept to the sampled rowids
    derived = "".join(f', {sql} AS "{name}"' for name, sql in spec.derived_columns)
    inner = f'select *{derived}, rowid AS "{ROWID}" from {_quote_table(spec.table)}{b.where}'
    df = con.execute(
        f'select * from ({inner}) where "{ROWID}" in ({", ".join(map(str, every))})', b.params
    ).df()
    by_rowid = {
        rowid: row for rowid, row in zip(df.pop(ROWID).tolist(), _json_rows(df), strict=True)
    }
    for acc, _ in wanted:
        acc.sample_rows.extend(by_rowid[v] for v in rowids.get(acc.name, []) if v in by_rowid)


def _table_outcome(spec: TableSuite, acc: _Accumulator, batches: int) -> ExpectationResult:
    if acc.exceptions:
        message = f"{spec.table}: {acc.name} raised: {acc.exceptions[0]}"
    elif batches == 0:
        message = f"{spec.table}: {acc.name}: no rows in the window"
    elif acc.success:
        message = f"{spec.table}: {acc.name} passed on {acc.element_count} rows"
    elif acc.unexpected_count:
        message = (
            f"{spec.table}: {acc.name} failed on {acc.unexpected_count} rows, "
            f"e.g. {_row_text(acc.sample_rows, spec.key_columns, acc.name)}"
        )
    else:
        message = f"{spec.table}: {acc.name} failed (observed {acc.observed})"
    return ExpectationResult(
        name=acc.name,
        table=spec.table,
        severity=acc.severity,
        success=acc.success,
        unexpected_count=acc.unexpected_count,
        element_count=acc.element_count,
        sample_rows=acc.sample_rows,
        message=message,
        description=acc.description,
    )


def _row_text(rows: list[dict], key_columns: Sequence[str], name: str = "") -> str:
    if not rows:
        return "(no sample)"
    row = rows[0]
    keys = [c for c in key_columns if c in row]
    # the checked columns of the first failing row, after its key
    shown = keys + [c for c in row if c not in keys and c in name][:3]
    text = ", ".join(f"{c}={row[c]}" for c in shown)
    return text + (f" (+{len(rows) - 1} more in the report)" if len(rows) > 1 else "")


def _run_metric_check(
    con, check: MetricCheck, settings, start, end, wanted: set[str] | None = None
) -> list[ExpectationResult]:
    """One query; its rows are converted once and split by table in Python (a check about
    every raw table used to filter and convert a data frame per table, in every one of the
    twenty raw gates: 1,200 conversions a run). `wanted`: report only these tables."""
    params: dict[str, Any] = {}
    if "$start_date" in check.sql:
        params["start_date"] = start
    if "$end_date" in check.sql:
        params["end_date"] = end
    for name in check.settings:
        params[name] = float(settings[name])
    try:
        df = con.execute(check.sql, params).df()
    except duckdb.Error as exc:
        return [
            ExpectationResult(
                name=check.name,
                table=table,
                severity=check.severity,
                success=False,
                unexpected_count=0,
                element_count=None,
                sample_rows=[],
                kind="metric",
                description=check.description,
                message=f"{table}: {check.name} raised: {exc}",
            )
            for table in check.result_tables
            if wanted is None or table in wanted
        ]
    rows: list[tuple[dict[str, Any], bool]] = []
    for record in _json_rows(df):
        failed = record.pop("failed")
        rows.append((record, True if failed is None else bool(failed)))
    if not check.table_column:
        return [_metric_outcome(check, check.table, rows)]
    # every known table gets a result; a table the check does not know is reported too
    by_table: dict[Any, list[tuple[dict[str, Any], bool]]] = {}
    for record, failed in rows:
        by_table.setdefault(record.pop(check.table_column), []).append((record, failed))
    unknown = sorted(set(by_table) - set(check.tables))
    return [
        _metric_outcome(check, table, by_table.get(table, []))
        for table in (*check.tables, *unknown)
        if wanted is None or table in wanted
    ]


def _metric_outcome(
    check: MetricCheck, table: str, rows: list[tuple[dict[str, Any], bool]]
) -> ExpectationResult:
    failing = [record for record, failed in rows if failed]
    details = [{**record, "failed": failed} for record, failed in rows]
    n_failed = len(failing)
    if n_failed:
        message = (
            f"{table}: {check.name} failed on {n_failed} of {len(rows)} "
            f"(e.g. {_metric_row_text(failing[0])}); {check.description}"
        )
    else:
        message = f"{table}: {check.name} passed on {len(rows)}"
    return ExpectationResult(
        name=check.name,
        table=table,
        severity=check.severity,
        success=n_failed == 0,
        unexpected_count=n_failed,
        element_count=len(rows),
        sample_rows=failing[:SAMPLE_ROWS],
        message=message,
        description=check.description,
        kind="metric",
        details=details,
    )


def _metric_row_text(row: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


def _json_value(v: Any) -> Any:
    """A value of a pandas row as plain JSON-able Python (dates as ISO text, NA as None)."""
    if v is None:
        return None
    try:
        if pd.isna(v) is True:  # NaN, NaT (a datetime subclass), pd.NA
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat() if v == v.normalize() else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def _json_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _json_value(v) for k, v in row.items()} for row in df.to_dict("records")]


# --------------------------------------------------------------------------- report


def write_report(result: GateResult, report_dir: Path) -> Path:
    """A self-contained HTML page: every check, its severity, outcome and failing rows."""
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    label = result.gate.replace(":", "-")  # "raw:raw_marketing.C_CONS": one raw table's check
    path = report_dir / f"gate-{label}-{result.start_date}_{result.end_date}-{stamp}.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render_html(result), encoding="utf-8")
    tmp.replace(path)
    return path


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.4em 0 1em}
td,th{border:1px solid #ccc;padding:.25em .5em;font-size:.9em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#176b2c}.error{color:#b00020;font-weight:bold}
.warn{color:#a15c00;font-weight:bold}.verdict{font-size:1.3em}
details{margin:.2em 0}code{font-size:.9em}
"""


def _rows_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols = list(dict.fromkeys(c for r in rows for c in r))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape('' if r.get(c) is None else str(r.get(c)))}</td>" for c in cols
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(result: GateResult) -> str:
    esc = html.escape
    verdict = "PASSED" if result.passed else "FAILED (publishing blocked)"
    cls = "ok" if result.passed else "error"
    rows = []
    for r in result.results:
        if r.success:
            outcome, ocls = "passed", "ok"
        else:
            outcome, ocls = (
                ("failed" if r.severity == ERROR else "warning"),
                ("error" if r.severity == ERROR else "warn"),
            )
        extra = ""
        if r.sample_rows:
            extra += f"<details open><summary>failing rows (first {len(r.sample_rows)})</summary>"
            extra += _rows_table(r.sample_rows) + "</details>"
        if r.details:
            extra += "<details><summary>all evaluated units</summary>"
            extra += _rows_table(r.details) + "</details>"
        rows.append(
            f"<tr><td>{esc(r.table)}</td><td><code>{esc(r.name)}</code>"
            f"<br><small>{esc(r.description)}</small></td><td>{esc(r.severity)}</td>"
            f"<td class='{ocls}'>{outcome}</td><td>{r.unexpected_count}</td>"
            f"<td>{'' if r.element_count is None else r.element_count}</td>"
            f"<td>{esc(r.message)}{extra}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>gridaudit {esc(result.gate)} gate {result.start_date}..{result.end_date}</title>
<style>{_CSS}</style></head>
<body><h1>gridaudit quality gate: {esc(result.gate)}</h1>
<p class="verdict {cls}">{esc(verdict)}</p>
<p>window {result.start_date} .. {result.end_date} &middot; warehouse
<code>{esc(str(result.warehouse_path))}</code> &middot; settings fingerprint
<code>{esc(result.settings_fingerprint)}</code> &middot; {len(result.errors)} error(s),
{len(result.warnings)} warning(s), {len(result.results)} checks &middot;
{result.duration_seconds:.1f}s &middot; generated
{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC</p>
<p><code>error</code> failures block publishing; <code>warn</code> failures are reported only.</p>
<table><tr><th>table</th><th>expectation</th><th>severity</th><th>outcome</th>
<th>unexpected</th><th>evaluated</th><th>message</th></tr>
{"".join(rows)}</table></body></html>
"""
