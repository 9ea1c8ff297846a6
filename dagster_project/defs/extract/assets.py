"""One asset per source table: landing files of the run's days -> raw_<system>.<TABLE>.

Asset keys mirror the warehouse (["raw_marketing", "C_CONS"]); groups are the source
systems. A day without a file is not an error (snapshots are not delivered every day,
quiet days have no delta file); a file that cannot be read fails this table's step with
a message naming the file, after the table's other days are loaded. Each day's numbers
(files, rows, quarantined, new columns) are recorded on that day's partition.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.defs.partitions import daily_partitions, single_run, window_days
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib.extract import FileLoadResult, LandingFileError, load_file
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


@dataclass
class DayLoad:
    """What a loader made of one export day: the files it loaded, its own numbers of the
    day (shown on the day's partition), and the files it could not read (the others are
    loaded; the step fails naming them after the window's other days)."""

    files: list[FileLoadResult]
    metadata: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


Loader = Callable[[duckdb.DuckDBPyConnection, Path, date], DayLoad | None]


def csv_loader(table: Table) -> Loader:
    """The landing loader of one CSV table, with its system's encoding: one file a day."""

    def load(con, landing, day):
        result = load_file(con, landing, table, day, encoding_for(table.system))
        return None if result is None else DayLoad([result])

    return load


def build_extract_asset(
    table: Table,
    load: Loader | None = None,
    kinds: frozenset[str] = frozenset({"duckdb", "csv"}),
    landing_files: str | None = None,
) -> dg.AssetsDefinition:
    """The asset of one raw table. `load(con, landing, day)` loads a day (default: the CSV
    landing loader) and returns a DayLoad, or None when the day has no file; a
    LandingFileError fails the day. Each day's numbers go on its own partition, so a
    backfill run shows every day as it was delivered."""
    load = load or csv_loader(table)
    landing_files = landing_files or f"landing/{table.system}/{table.name}/<day>.csv"

    @dg.asset(
        key=[table.schema, table.name],
        group_name=table.system,
        # Keys are checked against the referenced archive, so that archive loads first.
        deps=[dg.AssetKey([ref.schema, ref.name]) for _, ref, _ in references_of(table)],
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        kinds=set(kinds),
        retry_policy=dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL),
        description=f"{table.comment} ({SYSTEMS[table.system]}, {table.kind} table, key "
        f"{', '.join(table.key)}): {landing_files}",
        metadata={"dagster/column_schema": _column_schema(table), "table_kind": table.kind},
    )
    def _extract(context: dg.AssetExecutionContext, gridaudit_paths: GridauditPaths):
        paths = gridaudit_paths.paths
        days = window_days(context.partition_time_window)
        loaded, failures = [], []
        paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(paths.warehouse)) as con:
            apply_duckdb_settings(con)
            for day in days:
                try:
                    day_load = load(con, paths.landing, day)
                except LandingFileError as exc:
                    context.log.error(str(exc))
                    failures.append(str(exc))
                    continue
                for failure in day_load.failures if day_load else ():
                    context.log.error(failure)
                    failures.append(failure)
                files = day_load.files if day_load else []
                loaded += files
                _log_files(context, files)
                context.add_asset_metadata(
                    _day_metadata(files, day_load.metadata if day_load else {}),
                    partition_key=day.isoformat(),
                )
        if failures:
            raise dg.Failure(
                description="; ".join(failures),
                metadata={"failed_files": "\n".join(failures)},
                # a file that cannot be read stays unreadable: the retry policy is for what
                # passes (a warehouse held by another process), not for the landing's files
                allow_retries=False,
            )
        rows_read = sum(r.rows_read for r in loaded)
        rows_rejected = sum(r.rows_rejected for r in loaded)
        context.log.info(
            f"{table.schema}.{table.name}: {len(loaded)} file(s) in {len(days)} day(s), "
            f"{rows_read:,} rows read, {rows_rejected:,} quarantined"
        )
        new_columns = sorted({c for r in loaded for c in r.extra_columns})
        return dg.MaterializeResult(
            metadata={
                "dagster/column_schema": _column_schema(table, new_columns),
                "run_window": f"{days[0]} .. {days[-1]}",
            }
        )

    return _extract


def _log_files(context: dg.AssetExecutionContext, files: list[FileLoadResult]) -> None:
    for result in files:
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


def _day_metadata(files: list[FileLoadResult], extra: dict) -> dict:
    """The numbers of one export day, for its partition: rows read, loaded, quarantined,
    new columns, the files with their checksums (a day without a file says so)."""
    rows_read = sum(r.rows_read for r in files)
    rows_rejected = sum(r.rows_rejected for r in files)
    return {
        "file_count": len(files),
        "files": dg.MetadataValue.md(_files_table(files) if files else "no file this day"),
        "rows_read": rows_read,
        "dagster/row_count": sum(r.rows_loaded for r in files),
        "rows_quarantined": rows_rejected,
        "quarantined_share": rows_rejected / rows_read if rows_read else 0.0,
        "new_columns": ", ".join(sorted({c for r in files for c in r.extra_columns})) or "none",
        "checksums": {r.source_file: r.sha256 for r in files},
        **extra,
    }


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
