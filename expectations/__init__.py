"""GX 1.x expectation suites of gridaudit, one module per layer/table.

`expectations.marts.<table>` and `expectations.raw.<table>` each define `SUITE` (a
TableSuite: a GX suite validated on bounded pandas batches) and/or `METRIC_CHECKS`
(aggregates computed in DuckDB). `dagster_project.lib.gate.run_gate` runs what
`expectations.registry` lists. Every check carries a severity: `error` blocks publishing,
`warn` is reported.
"""
