"""Write-audit-publish of the published DuckDB file that BI tools read. Dagster-free.

`publish` copies every table of the given warehouse schemas into a NEW DuckDB file next
to the target (`published/.incoming-<uuid>.duckdb`, warehouse attached read-only), with
table and column comments (the Chinese names BI tools show) and NOT NULL constraints,
masks personal data, checkpoints, closes and fsyncs it, keeps the current published file
as `published/versions/gridaudit-<timestamp>.duckdb` (a hard link: no copy, same bytes)
and `os.replace`s the new file over `published/gridaudit.duckdb`. Versions beyond `keep`
are pruned. `rollback` restores a kept version the same atomic way.

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
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.lib import audit_settings

INCOMING_PREFIX = ".incoming-"
LOCK_NAME = ".publish.lock"
VERSIONS_DIR = "versions"
META_SCHEMA = "meta"  # publish_info and audit_settings of the published file
_TS_FORMAT = "%Y%m%dT%H%M%S%fZ"


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

    def metadata(self) -> dict:
        """Plain values for Dagster metadata."""
        return {
            "published_path": str(self.published_path),
            "tables": dict(self.tables),
            "rows": sum(self.tables.values()),
            "masked_columns": list(self.masked_columns),
            "previous_version": str(self.previous_version.path) if self.previous_version
            else None,
            "size_bytes": self.size_bytes,
            "settings_fingerprint": self.settings_fingerprint,
            "duration_seconds": round(self.duration_seconds, 3),
        }


# --------------------------------------------------------------------------- publish


def publish(
    warehouse_path: str | Path,
    published_path: str | Path,
    schemas: Sequence[str] = ("marts",),
    keep: int = 7,
    mask_personal_data: bool = True,
    *,
    settings_path: Path = audit_settings.SETTINGS_FILE,
    before_replace: Callable[[Path], None] | None = None,
) -> PublishResult:
    """Publish every table of `schemas` of the warehouse as `published_path`.

    `keep`: how many replaced files to keep under `versions/` (settings:
    `published_versions_kept()`). `before_replace` is a test hook called with the
    complete incoming file just before it is renamed over the published name.
    """
    started = time.monotonic()
    warehouse_path, published_path = Path(warehouse_path), Path(published_path)
    if keep < 0:
        raise ValueError("keep must be >= 0")
    if META_SCHEMA in schemas:
        raise ValueError(f"schema {META_SCHEMA!r} is reserved for the publish metadata")
    if not warehouse_path.is_file():
        raise PublishError(f"warehouse {warehouse_path} does not exist")
    published_dir = published_path.parent
    published_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = (audit_settings.fingerprint(settings_path) if settings_path.is_file()
                   else "unknown")

    with _lock(published_dir):
        stale = _remove_stale_incoming(published_dir)
        incoming = published_dir / f"{INCOMING_PREFIX}{uuid.uuid4().hex}.duckdb"
        try:
            tables, masked = _write_incoming(
                incoming, warehouse_path, schemas, mask_personal_data, settings_path,
                fingerprint)
            _fsync_file(incoming)
            os.chmod(incoming, 0o444)
            if before_replace is not None:
                before_replace(incoming)
            previous = _keep_current(published_path)
            os.replace(incoming, published_path)
            _fsync_dir(published_dir)
        except BaseException:
            _unlink_quietly(incoming)
            _unlink_quietly(Path(f"{incoming}.wal"))
            raise
        pruned = _prune(published_path, keep)

    return PublishResult(
        published_path=published_path, tables=tables, masked_columns=masked,
        previous_version=previous, pruned=pruned, stale_removed=stale,
        size_bytes=published_path.stat().st_size,
        duration_seconds=time.monotonic() - started, settings_fingerprint=fingerprint)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_incoming(incoming: Path, warehouse: Path, schemas: Sequence[str], mask: bool,
                    settings_path: Path, fingerprint: str) -> tuple[dict[str, int], list[str]]:
    tables: dict[str, int] = {}
    masked: list[str] = []
    con = duckdb.connect(str(incoming))
    try:
        # Attached under the warehouse's own catalog name, so that views whose SQL names
        # the catalog (dbt-duckdb writes "warehouse"."schema"."table") still resolve.
        src = warehouse.stem
        con.execute(f"ATTACH {_lit(str(warehouse))} AS {_q(src)} (READ_ONLY)")
        for fn_name, fn in _mask_functions().items():
            # vectorized (one call per Arrow batch); the pure functions above do the work
            con.create_function(fn_name, _arrow_udf(fn), ["VARCHAR"], "VARCHAR",
                                type="arrow", side_effects=False)
        for schema in schemas:
            objects = con.execute(
                """
                select table_name, comment, 'table' from duckdb_tables()
                where database_name = $db and schema_name = $schema
                union all
                select view_name, comment, 'view' from duckdb_views()
                where database_name = $db and schema_name = $schema and not internal
                order by 1
                """, {"db": src, "schema": schema}).fetchall()
            if not objects:
                raise PublishError(
                    f"schema {schema!r} of {warehouse} has no tables: nothing to publish")
            con.execute(f"CREATE SCHEMA {_q(schema)}")
            for table, comment, _kind in objects:
                masked += _copy_table(con, src, schema, table, comment, mask)
                tables[f"{schema}.{table}"] = con.execute(
                    f"select count(*) from {_q(schema)}.{_q(table)}").fetchone()[0]
        _write_meta(con, warehouse, schemas, tables, mask, settings_path, fingerprint)
        con.execute(f"DETACH {_q(src)}")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return tables, masked


def _mask_functions() -> dict[str, Callable[[str], str]]:
    return {f"gridaudit_mask_{col}": fn for col, fn in MASKS.items()}


def _arrow_udf(fn: Callable[[str], str]) -> Callable:
    import pyarrow as pa

    def udf(values):  # no annotations: DuckDB evaluates them
        return pa.array([None if v is None else fn(v) for v in values.to_pylist()],
                        type=pa.string())

    return udf


def _copy_table(con, src: str, schema: str, table: str, comment: str | None, mask: bool
                ) -> list[str]:
    cols = con.execute(
        """
        select column_name, data_type, is_nullable, comment from duckdb_columns()
        where database_name = $db and schema_name = $schema and table_name = $table
        order by column_index
        """, {"db": src, "schema": schema, "table": table}).fetchall()
    ddl, select, masked = [], [], []
    for name, data_type, nullable, _ in cols:
        if mask and name.lower() in MASKS:  # a masked value is text, whatever the type was
            data_type = "VARCHAR"
            select.append(f"gridaudit_mask_{name.lower()}(cast({_q(name)} as varchar))")
            masked.append(f"{schema}.{table}.{name}")
        else:
            select.append(_q(name))
        ddl.append(f"{_q(name)} {data_type}" + ("" if nullable else " NOT NULL"))
    target = f"{_q(schema)}.{_q(table)}"
    con.execute(f"CREATE TABLE {target} ({', '.join(ddl)})")
    con.execute(f"INSERT INTO {target} SELECT {', '.join(select)} "
                f"FROM {_q(src)}.{_q(schema)}.{_q(table)}")
    if comment:
        con.execute(f"COMMENT ON TABLE {target} IS {_lit(comment)}")
    for name, _, _, col_comment in cols:
        if col_comment:
            con.execute(f"COMMENT ON COLUMN {target}.{_q(name)} IS {_lit(col_comment)}")
    return masked


def _write_meta(con, warehouse: Path, schemas, tables, mask, settings_path, fingerprint):
    con.execute(f"CREATE SCHEMA {META_SCHEMA}")
    con.execute(f"""
        CREATE TABLE {META_SCHEMA}.publish_info (
            published_at TIMESTAMP, source_warehouse VARCHAR, schemas VARCHAR,
            table_rows VARCHAR, personal_data_masked BOOLEAN, settings_fingerprint VARCHAR)""")
    con.execute(f"INSERT INTO {META_SCHEMA}.publish_info VALUES (?, ?, ?, ?, ?, ?)", [
        dt.datetime.now(dt.UTC).replace(tzinfo=None), str(warehouse), ",".join(schemas),
        json.dumps(tables, ensure_ascii=False), mask, fingerprint])
    con.execute(f"COMMENT ON TABLE {META_SCHEMA}.publish_info IS "
                "'发布信息: when and from what this file was published (UTC)'")
    con.execute(f"""
        CREATE TABLE {META_SCHEMA}.audit_settings (
            setting_name VARCHAR, setting_value VARCHAR, unit VARCHAR, description VARCHAR)""")
    if settings_path.is_file():
        import csv

        with open(settings_path, encoding="utf-8", newline="") as f:
            rows = [(r["setting_name"], r["setting_value"], r.get("unit"), r.get("description"))
                    for r in csv.DictReader(f)]
        if rows:
            con.executemany(f"INSERT INTO {META_SCHEMA}.audit_settings VALUES (?, ?, ?, ?)",
                            rows)
    con.execute(f"COMMENT ON TABLE {META_SCHEMA}.audit_settings IS "
                "'稽查阈值: the settings (dbt/seeds/audit_settings.csv) at publish time'")


# --------------------------------------------------------------------------- versions


def _versions_dir(published_path: Path) -> Path:
    return published_path.parent / VERSIONS_DIR


def _version_re(published_path: Path) -> re.Pattern:
    return re.compile(re.escape(published_path.stem) + r"-(\d{8}T\d{12}Z)" +
                      re.escape(published_path.suffix) + "$")


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


def rollback(published_path: str | Path, version: str | Path | None = None
             ) -> PublishedVersion:
    """Restore a kept version (default: the newest) as the published file, atomically.

    `version` is a version id (the timestamp), a file name or a path from
    `list_versions`. The version stays kept; the replaced published file is not kept
    (it can be published again from the warehouse). Returns the restored version.
    """
    published_path = Path(published_path)
    published_dir = published_path.parent
    with _lock(published_dir):
        _remove_stale_incoming(published_dir)
        versions = list_versions(published_path)
        if not versions:
            raise PublishError(f"no kept versions of {published_path} to roll back to")
        if version is None:
            chosen = versions[0]
        else:
            wanted = Path(str(version)).name
            chosen = next((v for v in versions
                           if wanted in (v.version, v.path.name, v.path.stem)), None)
            if chosen is None:
                raise PublishError(
                    f"version {version!r} of {published_path} is not kept; kept: "
                    + ", ".join(v.version for v in versions))
        incoming = published_dir / f"{INCOMING_PREFIX}{uuid.uuid4().hex}.duckdb"
        try:
            shutil.copyfile(chosen.path, incoming)
            _fsync_file(incoming)
            os.chmod(incoming, 0o444)
            os.replace(incoming, published_path)
            _fsync_dir(published_dir)
        finally:
            _unlink_quietly(incoming)
    return chosen


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
    try:
        path.unlink()
    except FileNotFoundError:
        pass
