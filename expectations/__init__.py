"""GX 1.x expectation suites of gridaudit, one module per layer/table.

`expectations.marts.<table>` and `expectations.raw.<table>` each define `SUITE` (a
TableSuite: a GX suite validated on bounded pandas batches) and/or `METRIC_CHECKS`
(aggregates computed in DuckDB). `dagster_project.lib.gate.run_gate` runs what
`expectations.registry` lists. Every check carries a severity: `error` blocks publishing,
`warn` is reported.

`CHECKED_TABLES` are the tables that carry the gate's blocking asset check: the marts only
(a blocking check gates the publish step; a blocking check on a raw asset that also reads
the marts would make the asset graph circular). Results about raw tables (truncated
export, quarantine share, raw suites) keep their own `table` and are reported on every
checked mart: use `GateResult.results_for(mart)`. This module does not import GX, so
Dagster definitions can load it cheaply.
"""

from dagster_project.lib.landing_contract import TABLES as _RAW_TABLES

MART_TABLES: tuple[str, ...] = (
    "marts.area_daily_loss",
    "marts.area_problem_list",
    "marts.problem_history",
    "marts.unit_kpis",
    "marts.unit_kpi_facts",
    "marts.dim_kpi_indicator",
    "marts.theft_suspects",
    "marts.dim_problem_code",
    "marts.audit_settings",
)
RAW_TABLES: tuple[str, ...] = tuple(f"{t.schema}.{t.name}" for t in _RAW_TABLES)
CHECKED_TABLES: tuple[str, ...] = MART_TABLES
