"""Benchmark: the landing loader (lib/extract.py) against the loader before issue 10 and
against DuckDB's own CSV reader, at several file sizes.

    .venv/bin/python benchmarks/extract_speed.py [--rows 1000000 4000000] [--cons-rows 500000]
        [--data-points 1000000] [--out DIR] [--old-rev 8a458c8] [--loaders duckdb new old]

Generates (once, into OUT) a synthetic UTF-8 `E_MP_DAY_READ` day with the contract's columns
(and an `E_DATA_MP` snapshot that knows its DATA_IDs, since readings are checked against it)
and a GBK `C_CONS` snapshot (quoted addresses with commas, doubled quotes, and its `G_TG`).
About 1 row in 10,000 is bad (an impossible date, an unknown key) so that the quarantine path
runs too. Then loads each file once per loader, each in a fresh process and a fresh copy of
a warehouse that already holds the referenced snapshot, and prints wall and CPU seconds,
rows per second and peak RSS (the process's maximum resident set, and its growth during the
load). Loaders:

* new    - lib/extract.py load_file as it is now;
* old    - load_file of git revision --old-rev (whole file in memory, Python csv);
* duckdb - DuckDB's own CSV reader into the same raw table (typed columns, no validation,
           no line numbers, no quarantine, bad rows skipped): the speed the brief calls
           "DuckDB's own". UTF-8 files only: read_csv reads GBK only with the `encodings`
           extension, which is downloaded on first use.

Numbers, not asserts. The machine's load average is printed with every run: timings taken
while other work runs on the machine are contaminated (CPU seconds less so than wall).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAY = dt.date(2026, 9, 1)
READS_HEADER = "DATA_ID,DATA_DATE,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,RAP_R,MARK"


# ------------------------------------------------------------------------- the files


def _copy_csv(con, sql: str, path: Path) -> None:
    con.execute(f"COPY ({sql}) TO '{path}' (HEADER, DELIMITER ',')")


def generate_reads(out: Path, rows: int, points: int) -> Path:
    """landing/acquisition/E_MP_DAY_READ/<day>.csv with `rows` rows over `points` data
    points, and the E_DATA_MP snapshot of those points (the same for every file size, so
    that only the file's size changes between runs)."""
    import duckdb

    landing = out / f"reads_{rows}_{points}" / "landing"
    path = landing / "acquisition" / "E_MP_DAY_READ" / f"{DAY}.csv"
    if path.exists():
        return landing
    path.parent.mkdir(parents=True, exist_ok=True)
    refs = landing / "acquisition" / "E_DATA_MP" / f"{DAY - dt.timedelta(days=1)}.csv"
    refs.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        register = "hash(i) % 9000000 / 100.0"
        _copy_csv(
            con,
            f"""
            SELECT CASE WHEN i % 20011 = 7 THEN '79' ELSE '70' END
                       || lpad((i % {points})::VARCHAR, 8, '0') AS DATA_ID,
                   CASE WHEN i % 10007 = 3 THEN '2026-02-30' ELSE '{DAY}' END AS DATA_DATE,
                   '{DAY + dt.timedelta(days=1)} 0' || (i % 10) || ':'
                       || lpad((i * 7 % 60)::VARCHAR, 2, '0') || ':'
                       || lpad((i * 13 % 60)::VARCHAR, 2, '0') AS COL_TIME,
                   printf('%.2f', {register}) AS PAP_R,
                   printf('%.2f', {register} * 0.1) AS PAP_R1,
                   printf('%.2f', {register} * 0.3) AS PAP_R2,
                   printf('%.2f', {register} * 0.4) AS PAP_R3,
                   printf('%.2f', {register} * 0.2) AS PAP_R4,
                   CASE WHEN i % 37 = 0 THEN printf('%.2f', i % 5000 / 10.0) ELSE '0.00' END
                       AS RAP_R,
                   CASE WHEN i % 50 = 0 THEN '1' ELSE '0' END AS MARK
            FROM range({rows}) t(i)""",
            path,
        )
        _copy_csv(
            con,
            f"""
            SELECT '70' || lpad(i::VARCHAR, 8, '0') AS DATA_ID, 'M' || i AS MP_ID,
                   'A' || i AS ASSET_NO, 'TM' || (i // 300) AS TMNL_ASSET_NO,
                   '06' || lpad(i::VARCHAR, 8, '0') AS CONS_NO, 'T' || (i // 300) AS TG_ID,
                   '1' AS T_FACTOR
            FROM range({points}) t(i)""",
            refs,
        )
    return landing


def generate_cons(out: Path, rows: int) -> Path:
    """landing/marketing/C_CONS/<day>.csv in GBK with `rows` rows, and its G_TG."""
    import duckdb

    landing = out / f"cons_{rows}" / "landing"
    path = landing / "marketing" / "C_CONS" / f"{DAY}.csv"
    if path.exists():
        return landing
    path.parent.mkdir(parents=True, exist_ok=True)
    areas = landing / "marketing" / "G_TG" / f"{DAY - dt.timedelta(days=1)}.csv"
    areas.parent.mkdir(parents=True, exist_ok=True)
    utf8 = path.with_suffix(".utf8")
    with duckdb.connect() as con:
        _copy_csv(
            con,
            f"""
            SELECT CASE WHEN i % 10009 = 5 THEN '2199999999' ELSE 'T' || (i // 100) END AS TG_ID,
                   '06' || lpad(i::VARCHAR, 8, '0') AS CONS_NO, '01' AS VOLT_CODE,
                   '0101' AS PRC_CODE, '334010101' AS ORG_NO, '9910' AS TRADE_CODE,
                   CASE WHEN i % 40 = 0 THEN '1' ELSE '0' END AS GEN_FLAG,
                   CASE i % 4 WHEN 0 THEN '姚云平' WHEN 1 THEN '王俊秋'
                        WHEN 2 THEN '青山市兴旺茶叶加工厂(一期,二号楼)'
                        ELSE '"顺达"汽修厂' END AS CONS_NAME,
                   '1' AS URBAN_RURAL_FLAG, '1' AS STATUS_CODE,
                   (4 + i % 20)::VARCHAR AS CONTRACT_CAP,
                   '青山市东湖区西溪镇桃园社区' || (i % 300) || '号' AS ELEC_ADDR,
                   CASE WHEN i % 10007 = 3 THEN '2026-02-30' ELSE '2015-06-01' END AS BUILD_DATE,
                   '201' AS ELEC_TYPE_CODE, '' AS CANCEL_DATE
            FROM range({rows}) t(i)""",
            utf8,
        )
        _copy_csv(
            con,
            f"""
            SELECT 'T' || i AS TG_ID, lpad(i::VARCHAR, 4, '0') AS TG_NO, '台区' || i AS TG_NAME,
                   '334010101' AS ORG_NO, '400' AS TG_CAP, '01' AS PUB_PRIV_FLAG,
                   'L1' AS LINE_ID, '01' AS RUN_STATUS_CODE
            FROM range({rows // 100 + 1}) t(i)""",
            areas,
        )
    for plain in (utf8, areas):  # GBK, as SG186 exports are; CRLF line ends
        target = path if plain == utf8 else areas
        data = plain.read_text(encoding="utf-8").replace("\n", "\r\n").encode("gbk")
        target.with_suffix(".tmp").write_bytes(data)
        target.with_suffix(".tmp").replace(target)
    utf8.unlink()
    return landing


# ----------------------------------------------------------------------- one measure


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def child(args) -> None:
    """One timed load in this (fresh) process; prints one JSON line."""
    import duckdb

    from dagster_project.lib.landing_contract import TABLES_BY_NAME
    from dagster_project.lib.settings import encoding_for

    table = TABLES_BY_NAME[args.table]
    landing, warehouse = Path(args.landing), Path(args.warehouse)
    encoding = encoding_for(table.system)
    if args.loader == "old":
        load_file = _load_module(Path(args.old_module), "old_extract").load_file
    else:
        from dagster_project.lib.extract import load_file
    with duckdb.connect(str(warehouse)) as con:
        # warm up: imports and first-use costs are not the loader's per-row cost
        con.execute("SELECT 1").fetchall()
        import pyarrow as pa

        con.register("_warm", pa.table({"a": [1]}))
        con.sql("SELECT * FROM _warm").to_arrow_table()
        con.unregister("_warm")
        before = _rss_mb()
        load1, _, _ = os.getloadavg()
        wall, cpu = time.perf_counter(), time.process_time()
        if args.loader == "duckdb":
            rows = _duckdb_own(con, landing, table)
            rejected = 0
        else:
            result = load_file(con, landing, table, DAY, encoding)
            rows, rejected = result.rows_loaded, result.rows_rejected
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": wall,
                "cpu_seconds": cpu,
                "rows_loaded": rows,
                "rows_rejected": rejected,
                "peak_rss_mb": peak,
                "rss_before_mb": before,
                "load_before": load1,
                "load_after": os.getloadavg()[0],
            }
        )
    )


def _duckdb_own(con, landing: Path, table) -> int:
    """DuckDB's CSV reader straight into the raw table: the contract's types, nothing else."""
    from dagster_project.lib.landing_contract import DUCKDB_TYPES

    path = landing / table.system / table.name / f"{DAY}.csv"
    header = path.read_bytes()[:4096].split(b"\n")[0].decode().strip().split(",")
    columns = ", ".join(f"'{h}': '{DUCKDB_TYPES[table.column(h).type]}'" for h in header)
    options = (
        f"columns={{{columns}}}, header=true, auto_detect=false, "
        "dateformat='%Y-%m-%d', timestampformat='%Y-%m-%d %H:%M:%S', ignore_errors=true"
    )
    names = ", ".join(f'"{c}"' for c in table.column_names)
    con.execute("BEGIN")
    con.execute(
        f"INSERT INTO {table.schema}.\"{table.name}\" SELECT {names}, DATE '{DAY}', "
        f"'{path.name}', NULL FROM read_csv('{path}', {options})"
    )
    count = con.execute(f'SELECT count(*) FROM {table.schema}."{table.name}"').fetchall()[0][0]
    con.execute("COMMIT")
    return count


# ----------------------------------------------------------------------------- main


def prepared_warehouse(out: Path, landing: Path, table_name: str) -> Path:
    """A warehouse holding the snapshot the table's keys are checked against."""
    import duckdb

    from dagster_project.lib.extract import load_file
    from dagster_project.lib.landing_contract import TABLES_BY_NAME, references_of
    from dagster_project.lib.settings import encoding_for
    from dagster_project.lib.warehouse import ensure_schema

    path = landing.parent / "prepared.duckdb"
    if not path.exists():
        with duckdb.connect(str(path)) as con:
            ensure_schema(con)
            for _, ref, _ in references_of(TABLES_BY_NAME[table_name]):
                load_file(con, landing, ref, DAY - dt.timedelta(days=1), encoding_for(ref.system))
    return path


def measure(args, loader: str, table: str, rows: int, landing: Path) -> dict:
    prepared = prepared_warehouse(args.out, landing, table)
    warehouse = args.out / "run.duckdb"
    shutil.copyfile(prepared, warehouse)
    cmd = [
        sys.executable,
        __file__,
        "_child",
        "--loader",
        loader,
        "--table",
        table,
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        "--old-module",
        str(args.out / "old_extract.py"),
    ]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
    warehouse.unlink(missing_ok=True)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--cons-rows", type=int, nargs="*", default=[500_000])
    parser.add_argument(
        "--data-points",
        type=int,
        default=1_000_000,
        help="size of the E_DATA_MP snapshot the readings are checked against",
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/gridaudit-extract-speed"))
    parser.add_argument(
        "--old-rev", default="8a458c8", help="git revision whose lib/extract.py is the old loader"
    )
    parser.add_argument("--loaders", nargs="+", default=["duckdb", "new", "old"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    old = subprocess.run(
        ["git", "show", f"{args.old_rev}:dagster_project/lib/extract.py"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    (args.out / "old_extract.py").write_text(old)

    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at start")
    cases = [("E_MP_DAY_READ", n, generate_reads(args.out, n, args.data_points)) for n in args.rows]
    cases += [("C_CONS", n, generate_cons(args.out, n)) for n in args.cons_rows]
    print(
        f"{'loader':7} {'table':14} {'rows':>9} {'MB':>6} {'s':>7} {'cpu s':>7} {'rows/s':>9} "
        f"{'peak RSS':>9} {'growth':>7} {'load':>9}"
    )
    for table, rows, landing in cases:
        system = "acquisition" if table.startswith("E_") else "marketing"
        size = (landing / system / table / f"{DAY}.csv").stat().st_size
        for loader in args.loaders:
            if loader == "duckdb" and table == "C_CONS":
                # read_csv reads GBK only with the `encodings` extension (downloaded on use)
                print(
                    f"{loader:7} {table:14} {rows:9,} {size / 2**20:6.0f} n/a: GBK needs "
                    "DuckDB's encodings extension"
                )
                continue
            r = measure(args, loader, table, rows, landing)
            if "error" in r:
                print(f"{loader:7} {table:14} {rows:9,} {size / 2**20:6.0f} error: {r['error']}")
                continue
            print(
                f"{loader:7} {table:14} {rows:9,} {size / 2**20:6.0f} {r['seconds']:7.2f} "
                f"{r['cpu_seconds']:7.2f} {rows / r['seconds']:9,.0f} "
                f"{r['peak_rss_mb']:7.0f}MB {r['peak_rss_mb'] - r['rss_before_mb']:5.0f}MB "
                f"{r['load_before']:4.1f}/{r['load_after']:4.1f}",
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        p = argparse.ArgumentParser()
        for name in ("--loader", "--table", "--landing", "--warehouse", "--old-module"):
            p.add_argument(name)
        child(p.parse_args(sys.argv[2:]))
    else:
        main()
