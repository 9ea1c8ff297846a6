"""GX 1.x expectation suites of gridaudit, one module per layer/table.

`expectations.marts.<table>` and `expectations.raw.<table>` each define `SUITE` (a
TableSuite: a GX suite validated on bounded pandas batches) and/or `METRIC_CHECKS`
(aggregates computed in DuckDB). `dagster_project.lib.gate.run_gate` runs what
`expectations.registry` lists. Every check carries a severity: `error` blocks publishing,
`warn` is reported.

`CHECKED_TABLES` are the tables that carry a blocking asset check of the gate: every raw
table of the landing contract (the `raw` gate, after the extract: a failure stops dbt and
shows on the raw table that failed) and the marts (the `marts` gate, after dbt, in front
of the publish). A result is reported on the asset check of its own `table`; a result about
a table without a check of its own is reported on every check of its gate (use
`GateResult.results_for(table)`). This module does not import GX, so Dagster definitions
can load it cheaply.
"""

from dagster_project.lib.landing_contract import ALL_TABLES as _RAW_TABLES

MART_TABLES: tuple[str, ...] = (
    "marts.area_daily_loss",
    "marts.area_problem_list",
    "marts.problem_history",
    "marts.unit_kpis",
    "marts.unit_kpi_daily",
    "marts.unit_kpi_facts",
    "marts.dim_kpi_indicator",
    "marts.theft_suspects",
    "marts.dim_problem_code",
    "marts.audit_settings",
    "marts.work_orders",
    "marts.work_order_events",
)
RAW_TABLES: tuple[str, ...] = tuple(f"{t.schema}.{t.name}" for t in _RAW_TABLES)
CHECKED_TABLES: tuple[str, ...] = (*RAW_TABLES, *MART_TABLES)

# The one-row table in which dbt records the run's window (dbt/models/intermediate/kpis):
# its *_from_date columns are the first days the run recomputed. The marts gate checks a
# mart from the earliest of the columns named here (RECOMPUTED_FROM_DEFAULT for the other
# marts) or from the window's first day, whichever is earlier: a late reading recomputes
# area_daily_loss and the findings of earlier days, a late payment the KPI facts of the day
# it was charged on. Raw tables are checked on the window's export days only.
RUN_WINDOW_TABLE = "intermediate.int_kpi_window"
RECOMPUTED_FROM: dict[str, tuple[str, ...]] = {
    "marts.area_daily_loss": ("day_facts_from_date",),
    "marts.problem_history": ("day_facts_from_date",),
    "marts.work_order_events": ("day_facts_from_date",),
}
RECOMPUTED_FROM_DEFAULT: tuple[str, ...] = ("day_facts_from_date", "event_facts_from_date")
