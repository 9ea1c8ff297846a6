"""Raw-layer suites of every contract table, generated from the landing contract
(dagster_project/lib/landing_contract.py) instead of written twenty times.

Per table (one GX suite, validated one export day at a time: `_export_date` is the batch):

* key columns and required columns not null, codes in their sets (`error`: the extract
  quarantines such rows, so a failure here means the loader let one through);
* key unique per export day:
  - snapshot tables: a snapshot holds each key once; staging keeps the last line of a
    duplicated key, so a few duplicates are reported (`warn`, with sample rows) and only a
    share of duplicated rows above `raw_snapshot_duplicate_key_max_share` per file blocks
    (`error`, DuckDB check `snapshot_duplicate_key_share`: a file appended to itself, a
    broken export join);
  - delta tables: a key delivered twice in one file is a legal re-delivery (the later
    COL_TIME / line wins in staging), so per-file duplicates are `warn` only; the
    one-row-per-key promise after deduplication is dbt's `unique` test on staging;
* dates inside the export window where the contract makes it meaningful (a delta record
  of day D is not dated after D; an archive entry is not dated after its snapshot);
* numbers non-negative (`warn`: a negative register or amount is an anomaly of one
  meter or bill that the audit rules report, not a broken delivery).

Referential integrity between systems is measured as ratios in DuckDB (`REFERENCE_CHECKS`),
per day of the window on the archives as of that day, against thresholds of the settings
file: some dangling keys are normal (rule A06 采集未覆盖: a few settlement meters have no
acquisition data point), a collapse of the ratio is a broken or mismatched export. A day
before the referenced archive's first snapshot is not evaluated (a history that starts
between two snapshot days).
"""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations.expectations as gxe

from dagster_project.lib.landing_contract import ALL_TABLES, TABLES, TABLES_BY_NAME, Table
from expectations.base import (
    ERROR,
    ERROR_KW,
    WARN,
    WARN_KW,
    MetricCheck,
    Settings,
    TableSuite,
    suite,
)

LINEAGE_KEY = ("_source_file", "_line_number")

# Dates that cannot lie after the export day D (a delta record of day D; an archive entry
# of the snapshot of day D), with the severity of a violation.
#   error: a delta record from the future means a mislabelled or misplaced export;
#   warn:  an archive date in the future is a data-entry error of one record.
DATE_NOT_AFTER_EXPORT: dict[str, tuple[tuple[str, str], ...]] = {
    "E_MP_DAY_READ": (("DATA_DATE", ERROR),),
    "C_METER_CHG": (("CHG_DATE", ERROR),),
    "A_RCVBL_FLOW": (("ISSUE_DATE", ERROR),),
    "C_CONS": (("BUILD_DATE", WARN),),
    "C_METER": (("INST_DATE", WARN),),
    "APP_BIZ": (("APPLY_DATE", WARN),),
    "T_SB_ZNYC_PDBYQ": (("TYRQ", WARN),),
    "R_AUDIT_FEEDBACK": (("FEEDBACK_DATE", WARN),),
}
# Timestamps that cannot lie after the end of the export day (D + 1 day, 00:00).
TIMESTAMP_NOT_AFTER_EXPORT: dict[str, tuple[tuple[str, str], ...]] = {
    "A_PAY_FLOW": (("CHARGE_TIME", ERROR),),
    "E_EVENT": (("START_TIME", ERROR),),
}
EXPORT_DAY_END = "_check_export_day_end"


def _kw(severity: str) -> dict:
    return ERROR_KW if severity == ERROR else WARN_KW


def contract_expectations(table: Table, settings: Settings) -> list:
    """The generic expectations of one raw table, from its contract."""
    exps: list = []
    for col in table.columns:
        if col.required or col.name in table.key:
            exps.append(gxe.ExpectColumnValuesToNotBeNull(column=col.name, **ERROR_KW))
        if col.codes:
            exps.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=col.name, value_set=list(col.codes), **ERROR_KW
                )
            )
    key_day = [*table.key, "_export_date"]
    if table.kind == "snapshot":
        exps.append(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=key_day,
                **WARN_KW,
                description="a snapshot holds each key once (staging keeps the last line of a "
                "duplicated key); above raw_snapshot_duplicate_key_max_share of a "
                "file's rows the check snapshot_duplicate_key_share blocks",
            )
        )
    else:
        exps.append(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=key_day,
                **WARN_KW,
                description="a key delivered twice in one delta file is a legal re-delivery "
                "(the later one wins in staging); reported only",
            )
        )
    for column, severity in DATE_NOT_AFTER_EXPORT.get(table.name, ()):
        exps.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="_export_date",
                column_B=column,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                **_kw(severity),
                description=f"{column} <= the export day: a record dated after its export "
                "means a mislabelled or misplaced export",
            )
        )
    for column, severity in TIMESTAMP_NOT_AFTER_EXPORT.get(table.name, ()):
        exps.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=EXPORT_DAY_END,
                column_B=column,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                **_kw(severity),
                description=f"{column} not after the end of the export day",
            )
        )
    for col in table.columns:
        if col.type in ("decimal", "integer"):
            exps.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=col.name,
                    min_value=0,
                    **WARN_KW,
                    description="a negative value is an anomaly of one record, reported",
                )
            )
    return exps


def table_suite(table: Table, extra=None, key_columns: tuple[str, ...] | None = None) -> TableSuite:
    """The TableSuite of one raw table: the contract's expectations plus `extra(settings)`."""

    def build(settings: Settings):
        return suite(
            f"{table.schema}.{table.name}",
            [*contract_expectations(table, settings), *(extra(settings) if extra else [])],
        )

    derived = ()
    if table.name in TIMESTAMP_NOT_AFTER_EXPORT:
        derived = ((EXPORT_DAY_END, "cast(_export_date + interval 1 day as timestamp)"),)
    return TableSuite(
        table=f"{table.schema}.{table.name}",
        build=build,
        window_column="_export_date",
        key_columns=key_columns or (*table.key, *LINEAGE_KEY),
        batch_per_day=True,
        derived_columns=derived,
    )


# Every raw table: the four source systems and the feedback (the returned workbooks and the
# platform export: 工单编号 present, 是否属实 in its codes, one answer per order and file
# reported); E_MP_DAY_READ's module (e_mp_day_read.py) re-exports its suite next to the
# read-count check.
SUITES: tuple[TableSuite, ...] = tuple(table_suite(t) for t in ALL_TABLES)
SUITES_BY_TABLE: dict[str, TableSuite] = {s.table: s for s in SUITES}


# --------------------------------------------------------------- referential integrity


@dataclass(frozen=True)
class Reference:
    """`child.column` should point to a `parent.parent_column` of the archive as of D."""

    name: str
    child: str  # table name of the contract
    column: str
    parent: str
    parent_column: str
    setting: str  # the minimum share of matched child rows
    child_filter: str = "true"  # SQL on the child's columns: which rows must match
    description: str = ""


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "active_customers_on_a_known_area",
        "C_CONS",
        "TG_ID",
        "G_TG",
        "TG_ID",
        "ri_customer_area_min_share",
        "STATUS_CODE = '1' and TG_ID is not null",
        "share of active customers (C_CONS) whose TG_ID is an area of G_TG as of D",
    ),
    Reference(
        "metering_points_on_a_known_area",
        "C_MP",
        "TG_ID",
        "G_TG",
        "TG_ID",
        "ri_metering_point_area_min_share",
        "STATUS_CODE = '1' and TG_ID is not null",
        "share of in-use metering points (C_MP) whose TG_ID is an area of G_TG as of D",
    ),
    Reference(
        "settlement_mps_with_acquisition_point",
        "C_MP",
        "MP_ID",
        "E_DATA_MP",
        "MP_ID",
        "ri_settlement_mp_acquisition_min_share",
        "STATUS_CODE = '1' and USAGE_TYPE_CODE = '01'",
        "share of in-use settlement metering points (C_MP 01) with an acquisition data "
        "point (E_DATA_MP) as of D; a few uncovered meters are normal (rule A06)",
    ),
    Reference(
        "meters_on_a_known_metering_point",
        "C_METER",
        "MP_ID",
        "C_MP",
        "MP_ID",
        "ri_meter_mp_min_share",
        "true",
        "share of meters (C_METER) whose MP_ID is a metering point of C_MP as of D",
    ),
    Reference(
        "data_points_on_a_known_metering_point",
        "E_DATA_MP",
        "MP_ID",
        "C_MP",
        "MP_ID",
        "ri_data_point_mp_min_share",
        "MP_ID is not null",
        "share of acquisition data points (E_DATA_MP) whose MP_ID is a marketing "
        "metering point (C_MP) as of D",
    ),
    Reference(
        "readings_of_a_known_data_point",
        "E_MP_DAY_READ",
        "DATA_ID",
        "E_DATA_MP",
        "DATA_ID",
        "ri_reading_data_point_min_share",
        "true",
        "share of the export day's readings (E_MP_DAY_READ) whose DATA_ID is a data "
        "point of E_DATA_MP as of D",
    ),
    Reference(
        "receivables_of_a_known_customer",
        "A_RCVBL_FLOW",
        "CONS_NO",
        "C_CONS",
        "CONS_NO",
        "ri_receivable_customer_min_share",
        "true",
        "share of the export day's receivables (A_RCVBL_FLOW) whose CONS_NO is a "
        "customer of C_CONS as of D",
    ),
)


def _rows_as_of(table: Table, alias: str, day_col: str = "day") -> str:
    """SQL (with `days`) of the rows of `table` as of each day: the newest snapshot on or
    before the day (snapshot tables) or the rows delivered that day (delta tables)."""
    t = f'{table.schema}."{table.name}"'
    if table.kind == "delta":
        return (
            f"select d.{day_col} as day, x.* from days as d "
            f"join {t} as x on x._export_date = d.{day_col}"
        )
    # The snapshot days that can be "as of" a day of the window: the newest one on or before
    # its first day and those inside it (not every export day of the history).
    return f"""select s.day, x.* from (
        select d.{day_col} as day, max(e._export_date) as snap
        from days as d join (
            select distinct _export_date from {t}
            where _export_date <= (select max(day) from days)
              and _export_date >= coalesce(
                  (select max(_export_date) from {t}
                   where _export_date <= (select min(day) from days)),
                  date '0001-01-01')) as e
            on e._export_date <= d.{day_col}
        group by d.{day_col}) as s join {t} as x on x._export_date = s.snap"""


def reference_check(ref: Reference) -> MetricCheck:
    child, parent = TABLES_BY_NAME[ref.child], TABLES_BY_NAME[ref.parent]
    sql = f"""
with days as (
    select cast(unnest(generate_series(cast($start_date as timestamp),
                                       cast($end_date as timestamp),
                                       interval 1 day)) as date) as day
),
child as (
    select day, "{ref.column}" as ref_value from ({_rows_as_of(child, "c")}) as c
    where {ref.child_filter}
),
parent as (
    select distinct day, "{ref.parent_column}" as ref_value from ({_rows_as_of(parent, "p")}) as p
),
matched as (
    select child.day, count(*) as child_rows, count(parent.ref_value) as matched_rows
    from child left join parent using (day, ref_value)
    -- a day before the referenced archive's first delivery is not evaluated (the start of
    -- a history; the extract checks keys the same way, once the archive exists at all)
    where child.day in (select day from parent)
    group by child.day
)
select
    day,
    child_rows,
    matched_rows,
    round(matched_rows / child_rows, 6) as matched_share,
    $min_share as min_share,
    matched_rows < $min_share * child_rows as failed
from matched
order by day
"""
    return MetricCheck(
        name=f"reference_{ref.name}",
        table=f"{child.schema}.{child.name}",
        severity=ERROR,
        description=f"{ref.description}; at least {ref.setting}",
        sql=sql.replace("$min_share", f"${ref.setting}"),
        key_columns=("day",),
        requires=(f"{child.schema}.{child.name}", f"{parent.schema}.{parent.name}"),
        settings=(ref.setting,),
    )


SNAPSHOT_TABLES = tuple(t for t in TABLES if t.kind == "snapshot")


def snapshot_duplicate_key_share(t: Table) -> MetricCheck:
    """One row per export day of snapshot table `t`: rows whose key was already on an
    earlier line of the same snapshot, as a share of the snapshot's rows (exact per file,
    whatever the GX batches are)."""
    key = ", ".join(f'"{k}"' for k in t.key)
    return MetricCheck(
        name="snapshot_duplicate_key_share",
        table=f"{t.schema}.{t.name}",
        severity=ERROR,
        description="a snapshot's rows repeating a key are at most "
        "raw_snapshot_duplicate_key_max_share of its rows (a few are tolerated: "
        "staging keeps the last line)",
        sql=f"""
with per_file as (
    select _export_date as export_date, count(*) as row_count,
           count(*) - count(distinct ({key})) as duplicated_rows
    from {t.schema}."{t.name}"
    where _export_date between cast($start_date as date) and cast($end_date as date)
    group by _export_date
)
select export_date, row_count, duplicated_rows,
       round(duplicated_rows / row_count, 6) as duplicated_share,
       duplicated_rows > $raw_snapshot_duplicate_key_max_share * row_count as failed
from per_file
order by export_date
""",
        key_columns=("export_date",),
        requires=(f"{t.schema}.{t.name}",),
        settings=("raw_snapshot_duplicate_key_max_share",),
    )


METRIC_CHECKS: tuple[MetricCheck, ...] = (
    *(snapshot_duplicate_key_share(t) for t in SNAPSHOT_TABLES),
    *(reference_check(r) for r in REFERENCES),
)
