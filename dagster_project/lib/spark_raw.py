"""The raw layer for Spark (docs/spark.md): the DuckDB extract's raw tables as Parquet.

The extract types and loads the landing files into DuckDB (raw_<system>.<TABLE>); Spark
reads the same rows from Parquet, one directory per table, partitioned by export day
(`<out>/<schema>/<TABLE>/_export_date=YYYY-MM-DD/*.parquet`). The dbt on-run-start hook
(dbt/macros/spark/raw_sources.sql) declares every raw source as a Spark table over its
directory. DuckDB keeps its own tables; this is a copy.

    python -m dagster_project.lib.spark_raw WAREHOUSE.duckdb OUT_DIR
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb

# A table with no row is written as one empty file in this partition, so that Spark still
# sees the table's columns and its partition column (a partitioned COPY of no row writes
# nothing). No raw row has an export day this early, so the partition holds no row of any
# day.
EMPTY_PARTITION = "_export_date=1900-01-01"


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every raw table of the warehouse."""
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema LIKE 'raw\\_%' ESCAPE '\\' AND table_type = 'BASE TABLE' "
        "ORDER BY 1, 2"
    ).fetchall()
    return [(schema, name) for schema, name in rows]


def export_raw_parquet(warehouse: Path, out: Path) -> dict[str, int]:
    """Write every raw table of `warehouse` under `out` (replaced); rows per table."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, name in raw_tables(con):
            target = out / schema / name
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            relation = f'{schema}."{name}"'
            (rows,) = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
            if rows:
                # ORDER BY: the same rows in the same files on every export of one warehouse
                con.execute(
                    f"COPY (SELECT * FROM {relation} ORDER BY _export_date, _source_file, "
                    f"_line_number) TO '{target}' (FORMAT parquet, PARTITION_BY (_export_date))"
                )
            else:
                (target / EMPTY_PARTITION).mkdir()
                con.execute(
                    f"COPY (SELECT * EXCLUDE (_export_date) FROM {relation}) TO "
                    f"'{target / EMPTY_PARTITION / 'data_0.parquet'}' (FORMAT parquet)"
                )
            counts[f"{schema}.{name}"] = rows
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    counts = export_raw_parquet(args.warehouse, args.out)
    for table, rows in counts.items():
        print(f"{table}: {rows:,} rows")


if __name__ == "__main__":
    main()
