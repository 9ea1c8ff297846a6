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

from dagster_project.lib.landing_contract import TABLES as _RAW_TABLES

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
)
RAW_TABLES: tuple[str, ...] = tuple(f"{t.schema}.{t.name}" for t in _RAW_TABLES)
CHECKED_TABLES: tuple[str, ...] = (*RAW_TABLES, *MART_TABLES)
