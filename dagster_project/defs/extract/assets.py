"""One asset per source table: landing files of the run's days -> raw_<system>.<TABLE>.

Asset keys mirror the warehouse (["raw_marketing", "C_CONS"]); groups are the source
systems. A day without a file is not an error (snapshots are not delivered every day,
quiet days have no delta file); a file that cannot be read fails this table's step with
a message naming the file, after the table's other days are loaded.
"""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.defs.partitions import daily_partitions, single_run, window_days
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib.extract import LandingFileError, load_file
from dagster_project.lib.landing_contract import (
    DUCKDB_TYPES,
    SYSTEMS,
    TABLES,
    Table,
    references_of,
)
from dagster_project.lib.settings import apply_duckdb_settings, encoding_for


def _column_schema(table: Table, extra_columns: list[str] = ()) -> dg.TableSchema:
    """The contract's columns, plus the new columns the landing files brought (schema
    drift: recorded with every materialization so Dagster shows the change)."""
    return dg.TableSchema(
        columns=[
            *(
                dg.TableColumn(
                    c.name,
                    DUCKDB_TYPES[c.type],
                    description=c.comment,
                    constraints=dg.TableColumnConstraints(nullable=not c.required),
                )
                for c in table.columns
            ),
            *(
                dg.TableColumn(name, "VARCHAR", description="not in the landing contract: ignored")
                for name in extra_columns
            ),
        ]
    )


def build_extract_asset(
    table: Table, load: Callable[[duckdb.DuckDBPyConnection, Path, date], object] | None = None
) -> dg.AssetsDefinition:
    """The asset of one CSV table. `load(con, landing, day)` loads a day (default: the
    landing loader with the system's encoding); it returns a FileLoadResult or None."""
    if load is None:

        def load(con, landing, day):
            return load_file(con, landing, table, day, encoding_for(table.system))

    @dg.asset(
        key=[table.schema, table.name],
        group_name=table.system,
        # Keys are checked against the referenced archive, so that archive loads first.
        deps=[dg.AssetKey([ref.schema, ref.name]) for _, ref, _ in references_of(table)],
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        kinds={"duckdb", "csv"},
        description=f"{table.comment} ({SYSTEMS[table.system]}, {table.kind} table, key "
        f"{', '.join(table.key)}): landing/{table.system}/{table.name}/<day>.csv",
        metadata={"dagster/column_schema": _column_schema(table), "table_kind": table.kind},
    )
    def _extract(context: dg.AssetExecutionContext, gridaudit_paths: GridauditPaths):
        paths = gridaudit_paths.paths
        loaded, failures, missing_days = [], [], []
        paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(paths.warehouse)) as con:
            apply_duckdb_settings(con)
            for day in window_days(context.partition_time_window):
                try:
                    result = load(con, paths.landing, day)
                except LandingFileError as exc:
                    context.log.error(str(exc))
                    failures.append(str(exc))
                    continue
                if result is None:
                    missing_days.append(day.isoformat())
                    continue
                loaded.append(result)
                if result.rows_rejected:
                    context.log.warning(
                        f"{result.source_file}: {result.rows_rejected} of {result.rows_read} rows "
                        f"quarantined ({result.rejected_reasons})"
                    )
                if result.extra_columns:
                    context.log.warning(
                        f"{result.source_file}: new column(s) "
                        f"{', '.join(result.extra_columns)} (schema drift; ignored)"
                    )
        if failures:
            raise dg.Failure(
                description="; ".join(failures), metadata={"failed_files": "\n".join(failures)}
            )
        rows_read = sum(r.rows_read for r in loaded)
        rows_rejected = sum(r.rows_rejected for r in loaded)
        context.log.info(
            f"{table.schema}.{table.name}: {len(loaded)} file(s), {rows_read:,} rows "
            f"read, {rows_rejected:,} quarantined"
        )
        new_columns = sorted({c for r in loaded for c in r.extra_columns})
        return dg.MaterializeResult(
            metadata={
                "dagster/column_schema": _column_schema(table, new_columns),
                "files": dg.MetadataValue.md(_files_table(loaded)),
                "file_count": len(loaded),
                "days_without_file": ", ".join(missing_days) or "none",
                "rows_read": rows_read,
                "dagster/row_count": sum(r.rows_loaded for r in loaded),
                "rows_quarantined": rows_rejected,
                "quarantined_share": rows_rejected / rows_read if rows_read else 0.0,
                "new_columns": ", ".join(new_columns) or "none",
                "checksums": {r.source_file: r.sha256 for r in loaded},
            }
        )

    return _extract


def _files_table(loaded) -> str:
    rows = [
        f"| {r.source_file} | {r.rows_read} | {r.rows_loaded} | {r.rows_rejected} | "
        f"`{r.sha256[:16]}` |"
        for r in loaded
    ]
    return "\n".join(
        ["| file | rows read | loaded | quarantined | sha256 |", "|---|---|---|---|---|", *rows]
    )


extract_assets = [build_extract_asset(t) for t in TABLES]
