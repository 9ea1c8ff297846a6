"""DDL of the tables the extract writes: raw_<system>.<TABLE>, quarantine and meta.

Open late, close early: callers open a DuckDB connection for one step and close it,
because DuckDB allows one writer process per file (dbt runs in its own process).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.lib.landing_contract import ALL_TABLES, DUCKDB_TYPES, Table

LINEAGE_COLUMNS = (
    ("_export_date", "DATE"),  # the landing file's day D
    ("_source_file", "VARCHAR"),  # path relative to the landing directory
    ("_line_number", "BIGINT"),  # 1-based physical line; the header is line 1
)


def raw_table_ddl(table: Table) -> str:
    cols = [f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in table.columns]
    cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS]
    return f'CREATE TABLE IF NOT EXISTS {table.schema}."{table.name}" ({", ".join(cols)})'


QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS quarantine.rejected_rows (
    system VARCHAR, table_name VARCHAR, export_date DATE, source_file VARCHAR,
    line_number BIGINT, raw_line VARCHAR, reason VARCHAR, loaded_at TIMESTAMP
)"""

EXTRACT_FILES_DDL = """
CREATE TABLE IF NOT EXISTS meta.extract_files (
    system VARCHAR, table_name VARCHAR, export_date DATE, source_file VARCHAR,
    sha256 VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT,
    extra_columns VARCHAR, loaded_at TIMESTAMP
)"""


class WarehouseTypeError(Exception):
    """A raw table of an existing warehouse has a column type the contract no longer has."""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw, quarantine and meta table that does not exist yet, and refuse a
    warehouse whose raw column types differ from the contract's."""
    for schema in sorted({t.schema for t in ALL_TABLES} | {"quarantine", "meta"}):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table in ALL_TABLES:
        con.execute(raw_table_ddl(table))
    con.execute(QUARANTINE_DDL)
    con.execute(EXTRACT_FILES_DDL)
    _check_raw_types(con)


def _check_raw_types(con: duckdb.DuckDBPyConnection) -> None:
    # CREATE TABLE IF NOT EXISTS keeps an old table as it is: a warehouse built when
    # `decimal` was DOUBLE would silently turn every exact value back into a double (and
    # dbt's incremental tables keep their old column types too), so it is refused.
    expected = {
        (t.schema, t.name, c.name): DUCKDB_TYPES[c.type] for t in ALL_TABLES for c in t.columns
    }
    rows = con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND starts_with(schema_name, 'raw_')"
    ).fetchall()
    wrong = [
        f'{schema}."{table}".{column} is {actual}, the contract says {want}'
        for schema, table, column, actual in rows
        if (want := expected.get((schema, table, column))) and actual != want
    ]
    if wrong:
        raise WarehouseTypeError(
            "the warehouse was built by an older version of the landing contract: "
            + "; ".join(wrong[:5])
            + (f" (and {len(wrong) - 5} more)" if len(wrong) > 5 else "")
            + ". Rebuild it from the landing tree (a new work directory, or delete "
            "warehouse.duckdb and run the history again); see docs/architecture.md "
            '"Numeric types".'
        )


def create_empty_warehouse(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
