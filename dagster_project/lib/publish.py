"""Write-audit-publish of the published DuckDB file that BI tools read. Dagster-free.

`publish` copies every table of the given warehouse schemas into a NEW DuckDB file next
to the target (`published/.incoming-<uuid>.duckdb`, warehouse attached read-only), with
table and column comments (the Chinese names BI tools show) and NOT NULL constraints,
masks personal data, checkpoints, closes and fsyncs it, keeps the current published file
as `published/versions/gridaudit-<timestamp>.duckdb` (a hard link: no copy, same bytes)
and `os.replace`s the new file over `published/gridaudit.duckdb`. Versions beyond `keep`
are pruned. `rollback` restores a kept version the same atomic way.

Incremental publish (`from_date`): the history only grows at its end, and a daily run
recomputes only recent days, so copying ~30M rows of history every day is wasted work.
With `from_date`, when a published file exists and its `meta.publish_info` matches this
publish (schemas, masking, settings fingerprint, source warehouse), the incoming file
starts as a byte copy of the published file (never the published file itself) and is
patched: a table keyed by day (the first of snapshot_date, data_date, detected_date it
has, as in dbt's get_where_subquery macro) whose columns are unchanged gets its rows with
day >= from_date (and rows without a day) deleted and re-inserted from the warehouse
through the same masking select as a full copy (unless those are more than half of its
rows: PATCH_SHARE_MAX); every other table is dropped and copied whole; tables gone from
the warehouse are dropped; meta is rewritten. A safety net then compares, per patched
table, the row count of every day before from_date between the
warehouse and the incoming file. Any difference, any error, a mismatched meta, no
published file or a rollback since the last publish falls back to the full copy
(`PublishResult.mode` / `fallback_reason`). The safety net compares counts only (column
scans, cheap): a value changed on a day before from_date without changing that day's row
count is not detected, which is why the caller's lookback must cover every day a run may
recompute. The rest (fsync, 0444, kept version, os.replace) is the same for both paths.

Views for BI users (schema `bi`, lib/bi_views.py): both paths end by (re)creating them over
the marts of the incoming file, after the warehouse is detached, so they read the masked
tables of the published file and name nothing outside it; the incremental patch drops the
copy's `bi` schema first. A file without every mart they read gets no views (a warning in
`PublishResult.warnings`); a view that does not bind fails the publish.

Guarantees:
* The published file is never opened for writing: a failed or killed publish leaves it
  byte-for-byte as it was, and a half-written file never carries the published name
  (`os.replace` of a complete, fsynced file is the only way in).
* A reader holding the old file open keeps reading the old data (the rename does not
  touch the open inode); publish does not wait for readers.
* Stale `.incoming-*` files of killed runs are removed by the next publish/rollback.
  Publishes and rollbacks of one published directory are serialized by a lock file.
* Published files are made read-only (0444): versions may share an inode with the
  published file, so nobody should write into it in place.

Storage version (`storage_version`, GRIDAUDIT_PUBLISHED_STORAGE_VERSION): the BI drivers
that open the published file embed DuckDB 1.x, which refuses a file in DuckDB 2.0's own
storage format ("version number 999"). The full copy is written with DuckDB's
`storage_compatibility_version`; a file keeps the storage version it was created with when
a newer DuckDB writes into it, so the incremental patch (a copy of the published file)
keeps it too. Every path checks the file it is about to rename: a full copy at another
version is an error, an incremental patch of a published file at another version (one
published before the setting, or with another setting) falls back to the full copy, and a
rollback to a version kept at another storage version rewrites it at the setting's
(`COPY FROM DATABASE`) instead of copying its bytes.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import functools
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.lib import audit_settings, bi_views, settings

INCOMING_PREFIX = ".incoming-"
LOCK_NAME = ".publish.lock"
VERSIONS_DIR = "versions"
META_SCHEMA = "meta"  # publish_info and audit_settings of the published file
BI_SCHEMA = bi_views.SCHEMA  # the views for BI users over the published marts (bi_views.py)
_TS_FORMAT = "%Y%m%dT%H%M%S%fZ"
# Written by `rollback`, removed by the next successful publish: the published file is an
# older version whose early days need not match the warehouse, so the next publish is full.
FULL_REQUIRED_NAME = ".full-publish-required"
# The day column of a table keyed by day: the first of these it has (the convention of
# dbt/macros/generic_tests/get_where_subquery.sql).
DAY_COLUMNS = ("snapshot_date", "data_date", "detected_date")
# A day-keyed table whose rows from from_date on are more than this share of it is copied
# whole: deleting most of a table costs more than copying it and leaves the file larger
# (deleted rows' space is not given back).
PATCH_SHARE_MAX = 0.5

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    pass


# --------------------------------------------------------------------------- masking

_ADMIN_MARKERS = re.compile(r"省|自治区|自治州|自治县|市|地区|盟|区|县|旗|镇|乡|街道|村")
ADDRESS_MAX_KEPT = 16  # characters of an address kept at most (up to a division name)


def mask_name(value: str) -> str:
    """张三明 -> 张*明, 张明 -> 张*, 欧阳明华 -> 欧**华 (first and last character kept)."""
    s = value.strip()
    if len(s) <= 1:
        return "*" * len(s)
    if len(s) == 2:
        return s[0] + "*"
    return s[0] + "*" * (len(s) - 2) + s[-1]


def mask_mobile(value: str) -> str:
    """13812345678 -> 138****5678; other numbers keep at most 3 leading and 4 trailing
    characters (shorter ones only the last 2)."""
    s = value.strip()
    n = len(s)
    if n >= 8:
        return s[:3] + "*" * (n - 7) + s[-4:]
    if n > 2:
        return "*" * (n - 2) + s[-2:]
    return "*" * n


def mask_address(value: str) -> str:
    """Truncated after the last administrative division (省/市/区/县/镇/乡/街道/村...) within
    the first ADDRESS_MAX_KEPT characters, then '***':
    广东省深圳市南山区科技园路1号 -> 广东省深圳市南山区***. Without such a division, at most
    the first half (and at most 6 characters) is kept; the kept part stops before any
    digit. An address that is only division names is returned unchanged."""
    s = value.strip()
    if not s:
        return s
    cut = 0
    for m in _ADMIN_MARKERS.finditer(s):
        if m.end() > ADDRESS_MAX_KEPT:
            break
        cut = m.end()
    if cut == 0:
        cut = min(6, len(s) // 2)
    if cut >= len(s):
        return s
    digit = re.search(r"\d", s[:cut])  # never a house, building or room number
    return s[: digit.start() if digit else cut] + "***"


MASKS: dict[str, Callable[[str], str]] = {
    "cons_name": mask_name,
    "contact_name": mask_name,
    "mobile": mask_mobile,
    "elec_addr": mask_address,
}


def mask_value(column: str, value: str | None) -> str | None:
    """Mask `value` when `column` is a personal-data column (else return it unchanged)."""
    fn = MASKS.get(column.lower())
    if fn is None or value is None:
        return value
    return fn(str(value))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PublishedVersion:
    version: str  # the timestamp in the file name, e.g. 20240301T120000123456Z
    path: Path
    size_bytes: int

    @property
    def archived_at(self) -> dt.datetime:
        return dt.datetime.strptime(self.version, _TS_FORMAT).replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class PublishResult:
    published_path: Path
    tables: dict[str, int]  # "marts.area_daily_loss" -> rows
    masked_columns: list[str]  # "marts.area_problem_list.mobile"
    previous_version: PublishedVersion | None  # where the replaced file was kept
    pruned: list[Path]
    stale_removed: list[Path]
    size_bytes: int
    duration_seconds: float
    settings_fingerprint: str
    warnings: list[str] = field(default_factory=list)
    mode: str = "full"  # "full" | "incremental"
    fallback_reason: str | None = None  # why an incremental publish was a full one
    storage_version: str = ""  # the DuckDB storage version it was written in, e.g. v1.4.0
    views: list[str] = field(default_factory=list)  # "bi.area_loss_daily" (bi_views.py)

    def metadata(self) -> dict:
        """Plain values for Dagster metadata."""
        return {
            "published_path": str(self.published_path),
            "tables": dict(self.tables),
            "rows": sum(self.tables.values()),
            "masked_columns": list(self.masked_columns),
            "previous_version": str(self.previous_version.path) if self.previous_version else None,
            "size_bytes": self.size_bytes,
            "settings_fingerprint": self.settings_fingerprint,
            "duration_seconds": round(self.duration_seconds, 3),
            "mode": self.mode,
            "fallback_reason": self.fallback_reason,
            "storage_version": self.storage_version,
            "bi_views": list(self.views),
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------- publish


def publish(
    warehouse_path: str | Path,
    published_path: str | Path,
    schemas: Sequence[str] = ("marts",),
    keep: int = 7,
    mask_personal_data: bool = True,
    *,
    from_date: dt.date | None = None,
    settings_path: Path = audit_settings.SETTINGS_FILE,
    storage_version: str | None = None,
    before_replace: Callable[[Path], None] | None = None,
) -> PublishResult:
    """Publish every table of `schemas` of the warehouse as `published_path`.

    `keep`: how many replaced files to keep under `versions/` (settings:
    `published_versions_kept()`). `from_date`: publish incrementally (module docstring):
    only days >= from_date of day-keyed tables are re-copied, falling back to a full copy
    when that cannot be proven safe. `storage_version`: the DuckDB storage version the
    file is written in (module docstring), e.g. "v1.4.0" or "latest"; default
    GRIDAUDIT_PUBLISHED_STORAGE_VERSION (settings). `before_replace` is
    a test hook called with the complete incoming file just before it is renamed over the
    published name.
    """
    started = time.monotonic()
    warehouse_path, published_path = Path(warehouse_path), Path(published_path)
    if keep < 0:
        raise ValueError("keep must be >= 0")
    if META_SCHEMA in schemas:
        raise ValueError(f"schema {META_SCHEMA!r} is reserved for the publish metadata")
    if BI_SCHEMA in schemas:
        raise ValueError(f"schema {BI_SCHEMA!r} is reserved for the BI views (bi_views.py)")
    if not warehouse_path.is_file():
        raise PublishError(f"warehouse {warehouse_path} does not exist")
    published_dir = published_path.parent
    published_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = (
        audit_settings.fingerprint(settings_path) if settings_path.is_file() else "unknown"
    )
    full_required = published_dir / FULL_REQUIRED_NAME
    storage_version = storage_version or settings.published_storage_version()
    wanted_storage = storage_tag(storage_version)  # also rejects an unknown version early

    with _lock(published_dir):
        stale = _remove_stale_incoming(published_dir)
        incoming = published_dir / f"{INCOMING_PREFIX}{uuid.uuid4().hex}.duckdb"
        mode, reason = "full", None
        try:
            if from_date is not None:
                if not published_path.is_file():
                    reason = "no published file yet"
                elif full_required.exists():
                    reason = "the published file was rolled back since the last publish"
                else:
                    try:
                        written, reason = _write_incremental(
                            incoming,
                            published_path,
                            warehouse_path,
                            schemas,
                            mask_personal_data,
                            settings_path,
                            fingerprint,
                            from_date,
                            storage_version,
                            wanted_storage,
                        )
                        if reason is None:  # DuckDB must not have upgraded the copy
                            reason = _storage_differs(
                                incoming, storage_version, wanted_storage, "the patched copy"
                            )
                    except Exception as exc:  # noqa: BLE001 - the full copy is always right
                        reason = f"incremental publish failed: {type(exc).__name__}: {exc}"
                    if reason is None:
                        mode = "incremental"
                    else:
                        _discard(incoming)
                        incoming = published_dir / f"{INCOMING_PREFIX}{uuid.uuid4().hex}.duckdb"
                if reason is not None:
                    log.warning(
                        "incremental publish from %s not possible, publishing in full: %s",
                        from_date,
                        reason,
                    )
            if mode == "full":
                written = _write_incoming(
                    incoming,
                    warehouse_path,
                    schemas,
                    mask_personal_data,
                    settings_path,
                    fingerprint,
                    storage_version,
                )
                problem = _storage_differs(
                    incoming, storage_version, wanted_storage, "the new file"
                )
                if problem is not None:  # never publish a file the BI drivers cannot open
                    raise PublishError(problem)
            _fsync_file(incoming)
            os.chmod(incoming, 0o444)
            if before_replace is not None:
                before_replace(incoming)
            previous = _keep_current(published_path)
            os.replace(incoming, published_path)
            _fsync_dir(published_dir)
        except BaseException:
            _discard(incoming)
            raise
        if full_required.exists():  # the published file now matches the warehouse
            _unlink_quietly(full_required)
            _fsync_dir(published_dir)
        pruned = _prune(published_path, keep)

    return PublishResult(
        published_path=published_path,
        tables=written.tables,
        masked_columns=written.masked,
        previous_version=previous,
        pruned=pruned,
        stale_removed=stale,
        size_bytes=published_path.stat().st_size,
        duration_seconds=time.monotonic() - started,
        settings_fingerprint=fingerprint,
        mode=mode,
        fallback_reason=reason,
        storage_version=storage_version,
        views=written.views,
        warnings=written.warnings,
    )


def _discard(incoming: Path) -> None:
    _unlink_quietly(incoming)
    _unlink_quietly(Path(f"{incoming}.wal"))


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _connect_new(path: Path, storage_version: str):
    """A connection to a file DuckDB creates in `storage_version` (an existing file keeps
    its own version whatever this says)."""
    return duckdb.connect(str(path), config={"storage_compatibility_version": storage_version})


@functools.cache
def storage_tag(storage_version: str) -> str:
    """The storage version DuckDB reports for a new file written at `storage_version`
    (several releases share one: v1.1.0 -> 'v1.0.0+', v1.4.5 -> 'v1.4.0+'). A probe file
    in a temporary directory, once per process and version."""
    with tempfile.TemporaryDirectory(prefix="gridaudit-storage-") as tmp:
        probe = Path(tmp) / "probe.duckdb"
        try:
            _connect_new(probe, storage_version).close()
        except duckdb.InvalidInputException as exc:
            raise PublishError(
                f"storage version {storage_version!r} is not one DuckDB "
                f"{duckdb.__version__} can write (e.g. v1.4.0, v1.0.0, latest): "
                f"{str(exc).split(', valid options')[0]}"
            ) from exc
        return file_storage_version(probe)


def file_storage_version(path: str | Path) -> str:
    """The storage version of a DuckDB file as DuckDB reports it, e.g. 'v1.4.0+' (a DuckDB
    1.x client older than that refuses the file)."""
    with duckdb.connect(str(path), read_only=True) as con:
        (tags,) = con.execute(
            "select tags from duckdb_databases() where database_name = current_database()"
        ).fetchone()
    return (tags or {}).get("storage_version", "unknown")


def _storage_differs(path: Path, storage_version: str, wanted: str, what: str) -> str | None:
    found = file_storage_version(path)
    if found == wanted:
        return None
    return (
        f"{what} has DuckDB storage version {found}, the setting asks for "
        f"{storage_version} ({wanted})"
    )


def _write_incoming(
    incoming: Path,
    warehouse: Path,
    schemas: Sequence[str],
    mask: bool,
    settings_path: Path,
    fingerprint: str,
    storage_version: str,
) -> _Written:
    tables: dict[str, int] = {}
    masked: list[str] = []
    con = _connect_new(incoming, storage_version)
    try:
        src = _attach_warehouse(con, warehouse)
        for schema in schemas:
            objects = _source_objects(con, src, warehouse, schema)
            con.execute(f"CREATE SCHEMA {_q(schema)}")
            for table, comment in objects:
                masked += _copy_table(con, src, schema, table, comment, mask)
                tables[f"{schema}.{table}"] = _count(con, schema, table)
        _write_meta(
            con, warehouse, schemas, tables, mask, settings_path, fingerprint, storage_version
        )
        con.execute(f"DETACH {_q(src)}")
        views, warnings = _create_bi_views(con, schemas, mask)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return _Written(tables, masked, views, warnings)


def _write_incremental(
    incoming: Path,
    published: Path,
    warehouse: Path,
    schemas: Sequence[str],
    mask: bool,
    settings_path: Path,
    fingerprint: str,
    from_date: dt.date,
    storage_version: str,
    wanted_storage: str,
) -> tuple[_Written, str | None]:
    """Patch a copy of the published file (module docstring). Returns what was written
    and None, or a reason why the full copy must be made instead."""
    shutil.copyfile(published, incoming)  # the published file is only read, never opened
    os.chmod(incoming, 0o644)  # the copy of a 0444 file is 0444 too
    tables: dict[str, int] = {}
    masked: list[str] = []
    day_keyed: list[tuple[str, str, str]] = []
    # A file keeps its storage version when written to: a copy at another one stays there.
    written = _Written(tables, masked)
    reason = _storage_differs(incoming, storage_version, wanted_storage, "the published file")
    if reason is not None:
        return written, reason
    con = duckdb.connect(str(incoming))
    try:
        reason = _meta_mismatch(con, warehouse, schemas, mask, fingerprint)
        if reason is not None:
            return written, reason
        # recreated at the end, over the patched marts
        con.execute(f"DROP SCHEMA IF EXISTS {BI_SCHEMA} CASCADE")
        src = _attach_warehouse(con, warehouse)
        own = con.execute("select current_database()").fetchone()[0]
        plan = []  # (schema, table, comment, spec, day column if patched else None)
        for schema in schemas:
            objects = _source_objects(con, src, warehouse, schema)
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
            present = {
                t
                for (t,) in con.execute(
                    "select table_name from duckdb_tables() where database_name = $db "
                    "and schema_name = $schema",
                    {"db": own, "schema": schema},
                ).fetchall()
            }
            for table, comment in objects:
                spec = _table_spec(con, src, schema, table, mask)
                day = spec.day_column
                target = f"{_q(schema)}.{_q(table)}"
                if (
                    day is not None
                    and table in present
                    and _published_columns(con, own, schema, table) == spec.ddl_columns
                    and _patch_share(con, schema, table, day, from_date) <= PATCH_SHARE_MAX
                ):
                    con.execute(
                        f"DELETE FROM {target} WHERE {_q(day)} >= $d OR {_q(day)} IS NULL",
                        {"d": from_date},
                    )
                    plan.append((schema, table, comment, spec, day))
                else:  # not keyed by day (small), new, columns changed, mostly re-copied
                    con.execute(f"DROP TABLE IF EXISTS {target}")
                    plan.append((schema, table, comment, spec, None))
            for gone in sorted(present - {t for t, _ in objects}):
                con.execute(f"DROP TABLE {_q(schema)}.{_q(gone)}")
        # the space of dropped and deleted rows is free for reuse only after a checkpoint:
        # without it the re-copied rows would be appended and the file would grow
        con.execute("CHECKPOINT")
        for schema, table, comment, spec, day in plan:
            target = f"{_q(schema)}.{_q(table)}"
            if day is not None:
                _insert_rows(
                    con,
                    src,
                    schema,
                    table,
                    spec,
                    f"{_q(day)} >= $d OR {_q(day)} IS NULL",
                    {"d": from_date},
                )
                _set_comments(con, target, comment, spec, clear=True)
                day_keyed.append((schema, table, day))
            else:
                _copy_table(con, src, schema, table, comment, mask, spec)
            masked += spec.masked
            tables[f"{schema}.{table}"] = _count(con, schema, table)
        for schema, table, day in day_keyed:
            reason = _earlier_days_differ(con, src, schema, table, day, from_date)
            if reason is not None:
                return written, reason
        con.execute(f"DROP SCHEMA {META_SCHEMA} CASCADE")
        _write_meta(
            con, warehouse, schemas, tables, mask, settings_path, fingerprint, storage_version
        )
        con.execute(f"DETACH {_q(src)}")
        written.views, written.warnings = _create_bi_views(con, schemas, mask)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return written, None


@dataclass
class _Written:
    """What a full copy or an incremental patch wrote into the incoming file."""

    tables: dict[str, int]  # "marts.area_daily_loss" -> rows
    masked: list[str]
    views: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _create_bi_views(con, schemas: Sequence[str], mask: bool) -> tuple[list[str], list[str]]:
    """The views of schema bi over the marts just written (bi_views.py), after the
    warehouse is detached (they must name nothing but this file). A file without every
    mart they read gets none (a warning); a view that does not bind fails the publish."""
    if bi_views.MARTS not in schemas:
        return [], [f"no {BI_SCHEMA} views: schema {bi_views.MARTS!r} is not published"]
    missing = bi_views.missing_tables(con)
    if missing:
        warning = f"no {BI_SCHEMA} views: the published {bi_views.MARTS} lack " + ", ".join(
            f"{bi_views.MARTS}.{t}" for t in missing
        )
        log.warning(warning)
        return [], [warning]
    try:
        return bi_views.create_views(con, mask), []
    except bi_views.ViewError as exc:
        raise PublishError(str(exc)) from exc


def _attach_warehouse(con, warehouse: Path) -> str:
    # Attached under the warehouse's own catalog name, so that views whose SQL names
    # the catalog (dbt-duckdb writes "warehouse"."schema"."table") still resolve.
    src = warehouse.stem
    con.execute(f"ATTACH {_lit(str(warehouse))} AS {_q(src)} (READ_ONLY)")
    for fn_name, fn in _mask_functions().items():
        # vectorized (one call per Arrow batch); the pure functions above do the work
        con.create_function(
            fn_name, _arrow_udf(fn), ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False
        )
    return src


def _source_objects(con, src: str, warehouse: Path, schema: str) -> list[tuple[str, str]]:
    """(name, comment) of the tables and views of a warehouse schema."""
    objects = con.execute(
        """
        select table_name, comment from duckdb_tables()
        where database_name = $db and schema_name = $schema
        union all
        select view_name, comment from duckdb_views()
        where database_name = $db and schema_name = $schema and not internal
        order by 1
        """,
        {"db": src, "schema": schema},
    ).fetchall()
    if not objects:
        raise PublishError(f"schema {schema!r} of {warehouse} has no tables: nothing to publish")
    return objects


def _count(con, schema: str, table: str) -> int:
    return con.execute(f"select count(*) from {_q(schema)}.{_q(table)}").fetchone()[0]


def _meta_mismatch(
    con, warehouse: Path, schemas: Sequence[str], mask: bool, fingerprint: str
) -> str | None:
    """Why the published file (opened as `con`) cannot be patched by this publish."""
    try:
        rows = con.execute(
            f"select schemas, personal_data_masked, settings_fingerprint, source_warehouse "
            f"from {META_SCHEMA}.publish_info"
        ).fetchall()
    except duckdb.Error as exc:
        return f"published file has no readable {META_SCHEMA}.publish_info ({exc})"
    if len(rows) != 1:
        return f"{META_SCHEMA}.publish_info has {len(rows)} rows"
    published_schemas, published_mask, published_fp, published_src = rows[0]
    if published_schemas != ",".join(schemas):
        return f"schemas changed ({published_schemas} -> {','.join(schemas)})"
    if published_mask is not mask:
        return f"personal_data_masked changed ({published_mask} -> {mask})"
    if published_fp != fingerprint:
        return f"settings fingerprint changed ({published_fp} -> {fingerprint})"
    if published_src != str(warehouse):
        return f"source warehouse changed ({published_src} -> {warehouse})"
    return None


def _patch_share(con, schema: str, table: str, day: str, from_date: dt.date) -> float:
    """Share of a published table's rows that patching would delete and re-insert."""
    total, patched = con.execute(
        f"select count(*), count(*) filter ({_q(day)} >= $d or {_q(day)} is null) "
        f"from {_q(schema)}.{_q(table)}",
        {"d": from_date},
    ).fetchone()
    return patched / total if total else 1.0


def _published_columns(con, db: str, schema: str, table: str) -> list[tuple[str, str, bool]]:
    return [
        tuple(r)
        for r in con.execute(
            """
        select column_name, data_type, is_nullable from duckdb_columns()
        where database_name = $db and schema_name = $schema and table_name = $table
        order by column_index
        """,
            {"db": db, "schema": schema, "table": table},
        ).fetchall()
    ]


def _earlier_days_differ(
    con, src: str, schema: str, table: str, day: str, from_date: dt.date
) -> str | None:
    """Safety net: rows per day before from_date, warehouse vs the patched file."""
    d = _q(day)
    diffs = con.execute(
        f"""
        with w as (select {d} as day, count(*) as n from {_q(src)}.{_q(schema)}.{_q(table)}
                   where {d} < $f group by all),
             p as (select {d} as day, count(*) as n from {_q(schema)}.{_q(table)}
                   where {d} < $f group by all)
        select day, w.n, p.n from w full join p using (day)
        where w.n is distinct from p.n order by day limit 3""",
        {"f": from_date},
    ).fetchall()
    if not diffs:
        return None
    shown = ", ".join(f"{day}: warehouse {w or 0} rows, published {p or 0}" for day, w, p in diffs)
    return f"safety net: {schema}.{table} differs from the warehouse before {from_date} ({shown})"


def _mask_functions() -> dict[str, Callable[[str], str]]:
    return {f"gridaudit_mask_{col}": fn for col, fn in MASKS.items()}


def _arrow_udf(fn: Callable[[str], str]) -> Callable:
    import pyarrow as pa

    def udf(values):  # no annotations: DuckDB evaluates them
        return pa.array(
            [None if v is None else fn(v) for v in values.to_pylist()], type=pa.string()
        )

    return udf


@dataclass(frozen=True)
class _TableSpec:
    """A warehouse table as published: its columns and the masking select, built once."""

    columns: list[tuple[str, str, bool, str | None]]  # name, published type, nullable, comment
    select: list[str]  # one expression per column (masking UDFs for personal data)
    masked: list[str]  # "schema.table.column"

    @property
    def ddl_columns(self) -> list[tuple[str, str, bool]]:
        return [(name, data_type, nullable) for name, data_type, nullable, _ in self.columns]

    @property
    def day_column(self) -> str | None:
        names = {name.lower(): name for name, *_ in self.columns}
        return next((names[c] for c in DAY_COLUMNS if c in names), None)


def _table_spec(con, src: str, schema: str, table: str, mask: bool) -> _TableSpec:
    cols = con.execute(
        """
        select column_name, data_type, is_nullable, comment from duckdb_columns()
        where database_name = $db and schema_name = $schema and table_name = $table
        order by column_index
        """,
        {"db": src, "schema": schema, "table": table},
    ).fetchall()
    columns, select, masked = [], [], []
    for name, data_type, nullable, comment in cols:
        if mask and name.lower() in MASKS:  # a masked value is text, whatever the type was
            data_type = "VARCHAR"
            select.append(f"gridaudit_mask_{name.lower()}(cast({_q(name)} as varchar))")
            masked.append(f"{schema}.{table}.{name}")
        else:
            select.append(_q(name))
        columns.append((name, data_type, bool(nullable), comment))
    return _TableSpec(columns=columns, select=select, masked=masked)


def _insert_rows(
    con,
    src: str,
    schema: str,
    table: str,
    spec: _TableSpec,
    where: str | None = None,
    params: dict | None = None,
) -> None:
    con.execute(
        f"INSERT INTO {_q(schema)}.{_q(table)} SELECT {', '.join(spec.select)} "
        f"FROM {_q(src)}.{_q(schema)}.{_q(table)}" + (f" WHERE {where}" if where else ""),
        params or {},
    )


def _set_comments(
    con, target: str, comment: str | None, spec: _TableSpec, clear: bool = False
) -> None:
    """Table and column comments; `clear` also removes comments the warehouse dropped."""
    if comment or clear:
        con.execute(f"COMMENT ON TABLE {target} IS {_lit(comment) if comment else 'NULL'}")
    for name, _, _, col_comment in spec.columns:
        if col_comment or clear:
            con.execute(
                f"COMMENT ON COLUMN {target}.{_q(name)} IS "
                f"{_lit(col_comment) if col_comment else 'NULL'}"
            )


def _copy_table(
    con,
    src: str,
    schema: str,
    table: str,
    comment: str | None,
    mask: bool,
    spec: _TableSpec | None = None,
) -> list[str]:
    spec = spec or _table_spec(con, src, schema, table, mask)
    ddl = [
        f"{_q(name)} {data_type}" + ("" if nullable else " NOT NULL")
        for name, data_type, nullable, _ in spec.columns
    ]
    target = f"{_q(schema)}.{_q(table)}"
    con.execute(f"CREATE TABLE {target} ({', '.join(ddl)})")
    _insert_rows(con, src, schema, table, spec)
    _set_comments(con, target, comment, spec)
    return spec.masked


def _write_meta(
    con, warehouse: Path, schemas, tables, mask, settings_path, fingerprint, storage_version
):
    con.execute(f"CREATE SCHEMA {META_SCHEMA}")
    con.execute(f"""
        CREATE TABLE {META_SCHEMA}.publish_info (
            published_at TIMESTAMP, source_warehouse VARCHAR, schemas VARCHAR,
            table_rows VARCHAR, personal_data_masked BOOLEAN, settings_fingerprint VARCHAR,
            storage_version VARCHAR)""")
    con.execute(
        f"INSERT INTO {META_SCHEMA}.publish_info VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            str(warehouse),
            ",".join(schemas),
            json.dumps(tables, ensure_ascii=False),
            mask,
            fingerprint,
            storage_version,
        ],
    )
    con.execute(
        f"COMMENT ON TABLE {META_SCHEMA}.publish_info IS "
        "'发布信息: when and from what this file was published (UTC)'"
    )
    con.execute(f"""
        CREATE TABLE {META_SCHEMA}.audit_settings (
            setting_name VARCHAR, setting_value VARCHAR, unit VARCHAR, description VARCHAR)""")
    if settings_path.is_file():
        import csv

        with open(settings_path, encoding="utf-8", newline="") as f:
            rows = [
                (r["setting_name"], r["setting_value"], r.get("unit"), r.get("description"))
                for r in csv.DictReader(f)
            ]
        if rows:
            con.executemany(f"INSERT INTO {META_SCHEMA}.audit_settings VALUES (?, ?, ?, ?)", rows)
    con.execute(
        f"COMMENT ON TABLE {META_SCHEMA}.audit_settings IS "
        "'稽查阈值: the settings (dbt/seeds/audit_settings.csv) at publish time'"
    )


# --------------------------------------------------------------------------- versions


def _versions_dir(published_path: Path) -> Path:
    return published_path.parent / VERSIONS_DIR


def _version_re(published_path: Path) -> re.Pattern:
    return re.compile(
        re.escape(published_path.stem)
        + r"-(\d{8}T\d{12}Z)"
        + re.escape(published_path.suffix)
        + "$"
    )


def list_versions(published_path: str | Path) -> list[PublishedVersion]:
    """The kept versions of a published file, newest first."""
    published_path = Path(published_path)
    vdir = _versions_dir(published_path)
    if not vdir.is_dir():
        return []
    pattern = _version_re(published_path)
    out = []
    for p in vdir.iterdir():
        m = pattern.match(p.name)
        if m and p.is_file():
            out.append(PublishedVersion(version=m.group(1), path=p, size_bytes=p.stat().st_size))
    return sorted(out, key=lambda v: v.version, reverse=True)


def _keep_current(published_path: Path) -> PublishedVersion | None:
    """Keep the file about to be replaced under versions/ (hard link, else copy)."""
    if not published_path.exists():
        return None
    vdir = _versions_dir(published_path)
    vdir.mkdir(exist_ok=True)
    while True:
        version = dt.datetime.now(dt.UTC).strftime(_TS_FORMAT)
        target = vdir / f"{published_path.stem}-{version}{published_path.suffix}"
        if not target.exists():
            break
        time.sleep(0.000_01)
    try:
        os.link(published_path, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        tmp = vdir / f"{INCOMING_PREFIX}{uuid.uuid4().hex}{published_path.suffix}"
        try:
            shutil.copyfile(published_path, tmp)
            _fsync_file(tmp)
            os.replace(tmp, target)
        finally:
            _unlink_quietly(tmp)
    _fsync_dir(vdir)
    return PublishedVersion(version=version, path=target, size_bytes=target.stat().st_size)


def _prune(published_path: Path, keep: int) -> list[Path]:
    pruned = []
    for v in list_versions(published_path)[keep:]:
        _unlink_quietly(v.path)
        pruned.append(v.path)
    if pruned:
        _fsync_dir(_versions_dir(published_path))
    return pruned


def rollback(
    published_path: str | Path,
    version: str | Path | None = None,
    *,
    storage_version: str | None = None,
) -> PublishedVersion:
    """Restore a kept version (default: the newest) as the published file, atomically.

    `version` is a version id (the timestamp), a file name or a path from
    `list_versions`. The version stays kept; the replaced published file is not kept
    (it can be published again from the warehouse). A version kept at another DuckDB
    storage version than `storage_version` (published before that setting) is rewritten
    at `storage_version` (default: the setting, as for `publish`) rather than copied
    byte for byte, so that the BI drivers can still open the published file. Returns the
    restored version.
    """
    published_path = Path(published_path)
    published_dir = published_path.parent
    storage_version = storage_version or settings.published_storage_version()
    wanted_storage = storage_tag(storage_version)
    with _lock(published_dir):
        _remove_stale_incoming(published_dir)
        versions = list_versions(published_path)
        if not versions:
            raise PublishError(f"no kept versions of {published_path} to roll back to")
        if version is None:
            chosen = versions[0]
        else:
            wanted = Path(str(version)).name
            chosen = next(
                (v for v in versions if wanted in (v.version, v.path.name, v.path.stem)), None
            )
            if chosen is None:
                raise PublishError(
                    f"version {version!r} of {published_path} is not kept; kept: "
                    + ", ".join(v.version for v in versions)
                )
        incoming = published_dir / f"{INCOMING_PREFIX}{uuid.uuid4().hex}.duckdb"
        try:
            if file_storage_version(chosen.path) == wanted_storage:
                shutil.copyfile(chosen.path, incoming)
            else:
                log.warning(
                    "version %s has DuckDB storage version %s: rewriting it at %s",
                    chosen.version,
                    file_storage_version(chosen.path),
                    storage_version,
                )
                _rewrite(chosen.path, incoming, storage_version)
                problem = _storage_differs(
                    incoming, storage_version, wanted_storage, "the rewritten version"
                )
                if problem is not None:
                    raise PublishError(problem)
            _fsync_file(incoming)
            os.chmod(incoming, 0o444)
            # before the rename: the next publish must not patch an older version
            (published_dir / FULL_REQUIRED_NAME).touch()
            os.replace(incoming, published_path)
            _fsync_dir(published_dir)
        finally:
            _discard(incoming)
    return chosen


def _rewrite(source: Path, target: Path, storage_version: str) -> None:
    """Every schema, table, comment and row of `source` into a new file `target` written at
    `storage_version` (DuckDB cannot write an existing file at an older version)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_lit(str(source))} AS src (READ_ONLY)")
        con.execute(f"ATTACH {_lit(str(target))} AS dst (STORAGE_VERSION {_lit(storage_version)})")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute("DETACH dst")
    finally:
        con.close()


# --------------------------------------------------------------------------- files


@contextmanager
def _lock(directory: Path) -> Iterator[None]:
    """One publish/rollback per published directory at a time (released on kill)."""
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _remove_stale_incoming(published_dir: Path) -> list[Path]:
    """Files left by killed publishes (only ever run under the lock)."""
    removed = []
    for d in (published_dir, published_dir / VERSIONS_DIR):
        if d.is_dir():
            for p in d.glob(f"{INCOMING_PREFIX}*"):
                _unlink_quietly(p)
                removed.append(p)
    return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with suppress(FileNotFoundError):
        path.unlink()
