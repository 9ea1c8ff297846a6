"""Paths and environment settings (everything that differs between a laptop and production).

Every variable is listed in `.env.example`. Thresholds are not here: they live in
dbt/seeds/audit_settings.csv (see audit_settings.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dagster_project.lib.landing_contract import DEFAULT_ENCODINGS

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
DEFAULT_DATA_DIR = REPO_ROOT / "data"


@dataclass(frozen=True)
class Paths:
    landing: Path
    workdir: Path

    @property
    def warehouse(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.workdir / "published"

    @property
    def published(self) -> Path:
        return self.published_dir / "gridaudit.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.workdir / "reports"


def paths_from_env() -> Paths:
    return Paths(
        landing=Path(os.environ.get("GRIDAUDIT_LANDING", DEFAULT_DATA_DIR / "landing")).resolve(),
        workdir=Path(os.environ.get("GRIDAUDIT_WORKDIR", DEFAULT_DATA_DIR / "work")).resolve(),
    )


def encoding_for(system: str) -> str:
    """The text encoding of a system's landing files (GRIDAUDIT_ENCODING_<SYSTEM>)."""
    return os.environ.get(f"GRIDAUDIT_ENCODING_{system.upper()}", DEFAULT_ENCODINGS[system])


def published_versions_kept() -> int:
    return int(os.environ.get("GRIDAUDIT_PUBLISHED_VERSIONS_KEPT", "7"))


def mask_personal_data() -> bool:
    return os.environ.get("GRIDAUDIT_MASK_PERSONAL_DATA", "1") not in ("0", "false", "no")


def publish_lookback_days() -> int | None:
    """Extra days before the first day a run recomputed that publish re-copies too
    (incremental publish; default 0). The first recomputed day is the one dbt derived for
    the run (intermediate.int_kpi_window: the audit window incl. days reached by late
    back-filled readings, and the days of late payments / completions); publish's safety
    net only compares row counts per earlier day, so a margin is a belt for sources that
    change old days without dbt knowing. GRIDAUDIT_PUBLISH_LOOKBACK_DAYS=full (or empty)
    publishes everything every time (None).
    """
    value = os.environ.get("GRIDAUDIT_PUBLISH_LOOKBACK_DAYS", "0").strip().lower()
    if value in ("", "full"):
        return None
    days = int(value)
    if days < 0:
        raise ValueError(f"GRIDAUDIT_PUBLISH_LOOKBACK_DAYS must be >= 0, got {days}")
    return days


def published_storage_version() -> str:
    """DuckDB storage version the published file is written in
    (GRIDAUDIT_PUBLISHED_STORAGE_VERSION, default v1.4.0).

    DuckDB 2.0 writes its own storage format by default, which every DuckDB 1.x refuses
    ("version number 999"), and the BI drivers that open the published file (JDBC in
    DBeaver and Metabase, duckdb-engine, Evidence, the duckdb CLI) embed DuckDB 1.x. v1.4.0
    holds every type the marts use (VARCHAR, DATE, TIMESTAMP, DOUBLE, DECIMAL, BIGINT,
    INTEGER, BOOLEAN, comments) and is read by DuckDB 1.4 and later; an older value
    (v1.0.0: DuckDB 1.0 and later) trades newer compression for older readers, `latest` is
    DuckDB's own newest format. The warehouse is not affected.
    """
    value = os.environ.get("GRIDAUDIT_PUBLISHED_STORAGE_VERSION", "").strip()
    value = value or "v1.4.0"
    if not re.fullmatch(r"v\d+\.\d+\.\d+|latest", value):
        raise ValueError(
            "GRIDAUDIT_PUBLISHED_STORAGE_VERSION must be a DuckDB version such "
            f"as v1.4.0 (or latest), got {value!r}"
        )
    return value


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit per process (GRIDAUDIT_DUCKDB_MEMORY_LIMIT: '4GB', '50%';
    default DuckDB's own, 80 % of RAM). Applied to the extract's and the gate's connections
    and, through dbt/profiles.yml, to dbt's; beyond it DuckDB spills joins, aggregates and
    sorts to a temporary directory next to the warehouse instead of growing."""
    return os.environ.get("GRIDAUDIT_DUCKDB_MEMORY_LIMIT", "").strip() or "80%"


def apply_duckdb_settings(con) -> None:
    """Set the pipeline's DuckDB settings on an open connection. SET, not connect(config=):
    a second connection to a file already open in the process (a read-only gate next to
    a caller's connection) must not differ in its configuration, which DuckDB refuses."""
    con.execute(f"SET memory_limit = '{duckdb_memory_limit()}'")


# ------------------------------------------------------------------ operations (issue 12)
# The landing sensor, the freshness checks and the failure alerts (defs/operations/).
# Deployment facts (when a utility's export jobs finish, how often each system delivers),
# so they are environment settings like the paths, not audit thresholds.

# Delivered every export day (a header-only file on a quiet day): the acquisition system's
# day readings and the fee collection's two flows. Snapshots (weekly in the generator, "not
# guaranteed every day" in the contract) and the sparse deltas (E_EVENT, C_METER_CHG, the
# feedback export) cannot be waited for: a day does not know whether it is a snapshot day.
DEFAULT_EVERY_DAY_TABLES = ("A_RCVBL_FLOW", "A_PAY_FLOW", "E_MP_DAY_READ")

# Days without a new file after which a source system's freshness check fails: the daily
# systems after 2, the systems that deliver snapshots about weekly after 8.
DEFAULT_FRESHNESS_DAYS = {"marketing": 8, "collection": 2, "pms": 8, "acquisition": 2}


def _int_setting(name: str, default: int, low: int, high: int) -> int:
    text = os.environ.get(name, "").strip()
    value = int(text) if text else default
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def landing_every_day_tables() -> tuple[str, ...]:
    """The tables whose file of day D makes D complete (GRIDAUDIT_LANDING_EVERY_DAY_TABLES,
    comma-separated contract table names)."""
    from dagster_project.lib.landing_contract import TABLES_BY_NAME

    text = os.environ.get("GRIDAUDIT_LANDING_EVERY_DAY_TABLES", "").strip()
    names = tuple(n.strip() for n in text.split(",") if n.strip()) or DEFAULT_EVERY_DAY_TABLES
    unknown = [n for n in names if n not in TABLES_BY_NAME]
    if unknown:
        raise ValueError(f"GRIDAUDIT_LANDING_EVERY_DAY_TABLES: not contract tables: {unknown}")
    return names


def landing_deadline_hour() -> int:
    """Hour of day D+1 (Asia/Shanghai) by which day D's files are due
    (GRIDAUDIT_LANDING_DEADLINE_HOUR, default 8): the landing sensor then runs an incomplete
    day with what arrived, and the freshness checks expect the day from then on."""
    return _int_setting("GRIDAUDIT_LANDING_DEADLINE_HOUR", 8, 0, 23)


def landing_settle_seconds() -> int:
    """A file modified less than this many seconds ago is still being written: the landing
    sensor waits for it (GRIDAUDIT_LANDING_SETTLE_SECONDS, default 60)."""
    return _int_setting("GRIDAUDIT_LANDING_SETTLE_SECONDS", 60, 0, 86400)


def landing_lookback_days() -> int:
    """Export days before today the landing sensor watches for new or changed files
    (GRIDAUDIT_LANDING_LOOKBACK_DAYS, default 7); older history is loaded with
    `gridaudit run` or a backfill, not re-run by the sensor."""
    return _int_setting("GRIDAUDIT_LANDING_LOOKBACK_DAYS", 7, 1, 366)


def freshness_days(system: str) -> int:
    """Days without a new export day after which `system`'s freshness check fails
    (GRIDAUDIT_FRESHNESS_DAYS_<SYSTEM>)."""
    return _int_setting(
        f"GRIDAUDIT_FRESHNESS_DAYS_{system.upper()}", DEFAULT_FRESHNESS_DAYS[system], 1, 366
    )


def alert_command() -> str:
    """Shell command run on a failed run, the message on stdin and in GRIDAUDIT_ALERT_*
    variables (GRIDAUDIT_ALERT_COMMAND; empty: none)."""
    return os.environ.get("GRIDAUDIT_ALERT_COMMAND", "").strip()


def alert_webhook() -> str:
    """URL that receives a failed run's message as a POST of 企业微信 robot JSON
    (GRIDAUDIT_ALERT_WEBHOOK; empty: none)."""
    return os.environ.get("GRIDAUDIT_ALERT_WEBHOOK", "").strip()


def report_trend_days() -> int:
    """Days the HTML report's trends cover at least, up to the newest day
    (GRIDAUDIT_REPORT_TREND_DAYS, default 30): a daily run's window is one day, and a trend
    of one bar tells nothing. A longer run shows all its days."""
    return _int_setting("GRIDAUDIT_REPORT_TREND_DAYS", 30, 1, 3660)


def reports_url() -> str:
    """Where `gridaudit ui` serves `<workdir>/reports/` over HTTP (GRIDAUDIT_REPORTS_URL,
    default http://localhost:3001): the links of the checks' and the publish's metadata.
    Browsers refuse file:// links from the UI's http:// page, so a report is reachable
    from the UI only through a server."""
    return os.environ.get("GRIDAUDIT_REPORTS_URL", "http://localhost:3001").rstrip("/")


def report_link(reports_dir: Path, report: Path) -> str:
    """The URL of a file under `reports_dir` on the reports server."""
    return f"{reports_url()}/{report.resolve().relative_to(reports_dir.resolve()).as_posix()}"
