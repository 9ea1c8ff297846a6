"""Building blocks shared by the suites: severities, table specs and DuckDB metric checks.

Two kinds of checks, both carrying a severity (`error` blocks publishing, `warn` is
reported only):

* `TableSuite`: a GX 1.x `ExpectationSuite` validated on bounded pandas batches fetched
  from DuckDB (the run window's rows only; large raw tables one export day at a time).
  GX's SQL datasource on DuckDB returns empty metric results (GX #10738, #11579), so the
  pandas path is the one used.
* `MetricCheck`: an aggregate GX cannot express on one batch (row count against the
  previous day, quarantine share). A SQL query computed inside DuckDB that returns one row
  per evaluated unit (a day, a table-day) with a boolean column `failed`.

Suites are Dagster-free and built from the settings of dbt/seeds/audit_settings.csv, so
a utility changing a threshold changes the gate without touching code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # GX is imported where suites are built, not when this module loads
    import great_expectations as gx

Severity = Literal["error", "warn"]
ERROR: Severity = "error"
WARN: Severity = "warn"

# Keyword arguments for an Expectation: our severity in `meta` (what the gate reads) and
# GX's own `severity` field kept consistent with it (what GX renderers show).
ERROR_KW: dict = {"meta": {"severity": ERROR}, "severity": "critical"}
WARN_KW: dict = {"meta": {"severity": WARN}, "severity": "warning"}

Settings = Mapping[str, str]


@dataclass(frozen=True)
class TableSuite:
    """A GX suite for one warehouse table, validated on bounded batches."""

    table: str  # schema.table as in the warehouse, e.g. "marts.area_daily_loss"
    build: Callable[[Settings], gx.ExpectationSuite]  # settings -> suite
    # The day column restricted to the run window; None: the whole table is one batch
    # (small tables rebuilt as a whole: the problem list as of the newest day, code tables).
    window_column: str | None
    key_columns: tuple[str, ...]  # named in messages ("failed on 3 rows, e.g. tg_id=...")
    # True: one batch per day of window_column (large raw tables: memory stays bounded
    # by one day). False: one batch for the whole window (marts: small per day).
    batch_per_day: bool = False
    # Columns computed by DuckDB when the batch is fetched, (name, SQL expression), for
    # what GX cannot express on one column (e.g. a rate minus numerator / denominator,
    # the end of the export day). Names start with "_check_" by convention.
    derived_columns: tuple[tuple[str, str], ...] = ()

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1]


@dataclass(frozen=True)
class MetricCheck:
    """An aggregate check computed in DuckDB.

    `sql` may use the named parameters $start_date and $end_date (DATE) and $<setting>
    for every name in `settings` (DOUBLE). It returns one row per evaluated unit with a
    boolean column `failed`; the failing rows are the unexpected rows of the check.
    """

    name: str
    table: str  # the table the check is about (results are attributed to it)
    severity: Severity
    description: str
    sql: str
    key_columns: tuple[str, ...]
    requires: tuple[str, ...]  # schema.table that must exist for the query to run
    settings: tuple[str, ...] = ()
    # A check about many tables (quarantine share of every raw table): the SQL returns
    # the checked table (schema.table) in this column, and the gate reports one result
    # per table of `tables` (tables without rows in the window pass).
    table_column: str | None = None
    tables: tuple[str, ...] = ()

    @property
    def result_tables(self) -> tuple[str, ...]:
        return self.tables if self.table_column else (self.table,)


def suite(name: str, expectations: list) -> gx.ExpectationSuite:
    import great_expectations as gx

    return gx.ExpectationSuite(name=name, expectations=expectations)


def expectation_name(config) -> str:
    """A readable, stable name of an expectation from its configuration, e.g.
    `expect_column_values_to_be_between(loss_rate, None, 1) where loss_status != 'uncomputable'`."""
    kw = dict(config.kwargs)
    args: list[str] = []
    if "column" in kw:
        args.append(str(kw["column"]))
    if "column_list" in kw:
        args.append("[" + ", ".join(kw["column_list"]) + "]")
    if "column_A" in kw:
        op = ">=" if kw.get("or_equal") else ">"
        args.append(f"{kw['column_A']} {op} {kw['column_B']}")
    if "value_set" in kw and kw["value_set"] is not None:
        args.append("{" + ", ".join(str(v) for v in kw["value_set"]) + "}")
    if "min_value" in kw or "max_value" in kw:
        lo, hi = kw.get("min_value"), kw.get("max_value")
        args.append(_num(lo) + (" (exclusive)" if kw.get("strict_min") and lo is not None else ""))
        args.append(_num(hi) + (" (exclusive)" if kw.get("strict_max") and hi is not None else ""))
    if kw.get("mostly") not in (None, 1, 1.0):
        args.append(f"mostly={kw['mostly']}")
    text = f"{config.type}({', '.join(args)})"
    cond = kw.get("row_condition")
    if cond:
        text += f" where {_condition_text(cond)}"
    return text


def _num(v) -> str:
    if v is None:
        return "None"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _condition_text(cond) -> str:
    if isinstance(cond, str):
        return cond
    if hasattr(cond, "dict"):
        cond = cond.dict()
    if isinstance(cond, Mapping):
        kind = cond.get("type")
        if kind == "comparison":
            param = cond.get("parameter")
            param = f"'{param}'" if isinstance(param, str) else str(param)
            return f"{cond['column']['name']} {cond['operator']} {param}"
        if kind == "nullity":
            return f"{cond['column']['name']} IS {'NULL' if cond['is_null'] else 'NOT NULL'}"
        if kind in ("and", "or"):
            joiner = f" {kind.upper()} "
            return "(" + joiner.join(_condition_text(c) for c in cond["conditions"]) + ")"
    return str(cond)
