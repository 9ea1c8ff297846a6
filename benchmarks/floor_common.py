"""What the two floors share: which landing files day D needs, the settings, and the check
that a floor's rows equal the pipeline's `marts.area_daily_loss` (or the generator's truth).

Which files day D needs (docs/architecture.md, "Line loss: conventions"):

* Archives: the newest snapshot dated on or before D of G_TG, C_MP, C_METER, C_CONS and
  E_DATA_MP, each table on its own (a table's archive as of D is its newest snapshot <= D).
* Readings: the E_MP_DAY_READ files exported on D-1 .. `through` (default D). A reading of
  DATA_DATE X is first delivered in the file of day X (source-extracts.md: "the export file
  for day D carries the readings of DATA_DATE D"); late back-fills and corrections of X come
  in later files. So the readings of D-1 and D, in their final state as of `through`, are
  in the files D-1 .. `through`. `through` = D is what the daily run of D publishes; the
  pipeline's published value of D after later days were loaded is the state as of the
  newest loaded day, so a comparison with a run that loaded days after D passes that day as
  `through` (or compares on the last day of the run, where the two are the same).
* Meter changes: the C_METER_CHG files exported on D .. `through` (a change of CHG_DATE D is
  delivered on D; no file on days without changes), final state per CHG_ID.

Not emulated: the loader's quarantine (rows of a bad type, codes outside the contract,
references that point nowhere are rejected by the pipeline and would be used here).
`quarantined_rows()` says whether the pipeline rejected any row of the files a comparison
read; the generated presets have none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.lib import audit_settings
from dagster_project.lib.landing_contract import TABLES_BY_NAME
from dagster_project.lib.settings import encoding_for

SNAPSHOT_TABLES = ("G_TG", "C_MP", "C_METER", "C_CONS", "E_DATA_MP")

MART_COLUMNS = [
    "tg_id",
    "data_date",
    "org_no",
    "supply_kwh",
    "sales_kwh",
    "loss_kwh",
    "loss_rate",
    "loss_status",
    "meter_count",
    "meter_read_count",
    "uncomputable_reason",
]
KWH_COLUMNS = ["supply_kwh", "sales_kwh", "loss_kwh"]
EXACT_COLUMNS = ["org_no", "loss_status", "meter_count", "meter_read_count", "uncomputable_reason"]
RATE_TOLERANCE = 1e-9


class FloorError(Exception):
    """The landing tree cannot give day D (a missing archive, D is the first loaded day)."""


@dataclass
class LandingFile:
    table: str
    system: str
    export_date: dt.date
    path: Path

    @property
    def encoding(self) -> str:
        return encoding_for(self.system)


@dataclass
class DayFiles:
    """The landing files the line loss of `day` needs (see the module docstring)."""

    day: dt.date
    through: dt.date
    snapshots: dict[str, LandingFile]
    reads: list[LandingFile]
    changes: list[LandingFile] = field(default_factory=list)

    def all(self) -> list[LandingFile]:
        return [*self.snapshots.values(), *self.reads, *self.changes]

    def describe(self) -> str:
        snaps = ", ".join(f"{t} {f.export_date}" for t, f in self.snapshots.items())
        reads = ", ".join(str(f.export_date) for f in self.reads)
        changes = ", ".join(str(f.export_date) for f in self.changes) or "none"
        return f"snapshots: {snaps}; E_MP_DAY_READ exported {reads}; C_METER_CHG exported {changes}"


def table_files(landing: Path, table: str) -> dict[dt.date, LandingFile]:
    """Every landing file of a table by export day (plain or gzip; one per day)."""
    t = TABLES_BY_NAME[table]
    found: dict[dt.date, LandingFile] = {}
    for path in sorted((landing / t.system / t.name).glob("*.csv*")):
        if not (path.name.endswith(".csv") or path.name.endswith(".csv.gz")):
            continue
        day = dt.date.fromisoformat(path.name.split(".")[0])
        if day in found:
            raise FloorError(f"{t.system}/{t.name}: day {day} is delivered twice")
        found[day] = LandingFile(table, t.system, day, path)
    return found


def day_files(landing: Path, day: dt.date, through: dt.date | None = None) -> DayFiles:
    through = through or day
    if through < day:
        raise FloorError(f"through {through} is before the day {day}")
    reads_by_day = table_files(landing, "E_MP_DAY_READ")
    if not reads_by_day or day - dt.timedelta(days=1) < min(reads_by_day):
        raise FloorError(
            f"{day}: the line loss starts the day after the first loaded day "
            f"({min(reads_by_day) if reads_by_day else 'no E_MP_DAY_READ'})"
        )
    snapshots = {}
    for table in SNAPSHOT_TABLES:
        delivered = [d for d in table_files(landing, table) if d <= day]
        if not delivered:
            raise FloorError(f"{table}: no snapshot on or before {day}")
        snapshots[table] = table_files(landing, table)[max(delivered)]
    reads = [
        f for d, f in sorted(reads_by_day.items()) if day - dt.timedelta(days=1) <= d <= through
    ]
    changes = [
        f for d, f in sorted(table_files(landing, "C_METER_CHG").items()) if day <= d <= through
    ]
    return DayFiles(day, through, snapshots, reads, changes)


def loss_settings() -> dict[str, str]:
    """The thresholds the line loss uses, as the text of dbt/seeds/audit_settings.csv."""
    settings = audit_settings.load()
    names = (
        "completeness_min_share",
        "loss_rate_high_above",
        "loss_rate_negative_below",
        "rollover_min_previous_share",
        "plausible_hours_per_day",
    )
    return {name: settings[name] for name in names}


# ------------------------------------------------------------------------- comparing


def published_rows_sql(published: Path, day: dt.date) -> str:
    """The pipeline's rows of `day` (the published file, attached read-only as `pub`)."""
    return (
        f"select {', '.join(MART_COLUMNS)} from pub.marts.area_daily_loss "
        f"where data_date = date '{day}'"
    )


def compare(
    con: duckdb.DuckDBPyConnection,
    floor_relation: str,
    reference_sql: str,
    exact_kwh: bool = True,
    kwh_tolerance: float = 0.0,
) -> dict:
    """Compare a floor's rows (a table or view of `con`) with reference rows, by tg_id:
    status, counts, org and reason exactly; kWh exactly (`exact_kwh`, both DECIMAL) or within
    `kwh_tolerance` (a floor computing in DOUBLE); the rate within RATE_TOLERANCE.
    Returns counts and up to 5 differing rows."""
    kwh_checks = [
        f"floor.{c} is distinct from ref.{c}"
        if exact_kwh
        else f"(floor.{c} is null) <> (ref.{c} is null) "
        f"or abs(cast(floor.{c} as double) - cast(ref.{c} as double)) > {kwh_tolerance}"
        for c in KWH_COLUMNS
    ]
    checks = (
        [f"floor.{c} is distinct from ref.{c}" for c in EXACT_COLUMNS]
        + kwh_checks
        + [
            "(floor.loss_rate is null) <> (ref.loss_rate is null)",
            f"abs(floor.loss_rate - ref.loss_rate) > {RATE_TOLERANCE}",
            "floor.tg_id is null",
            "ref.tg_id is null",
        ]
    )
    # a comparison with a NULL on one side is caught by the null checks; NULL = no difference
    differing = " or ".join(f"coalesce({c}, false)" for c in checks)
    select = ", ".join(
        f"floor.{c} as floor_{c}, ref.{c} as ref_{c}" for c in MART_COLUMNS if c != "data_date"
    )
    query = f"""
        with ref as ({reference_sql}),
        joined as (
            select {select}, ({differing}) as differs
            from {floor_relation} as floor
            full outer join ref on ref.tg_id = floor.tg_id
        )
        select * from joined where differs
    """
    n_diff = con.execute(f"select count(*) from ({query})").fetchone()[0]
    cursor = con.execute(f"{query} limit 5")
    sample = cursor.fetchall()
    columns = [d[0] for d in cursor.description]
    n_floor = con.execute(f"select count(*) from {floor_relation}").fetchone()[0]
    n_ref = con.execute(f"select count(*) from ({reference_sql})").fetchone()[0]
    rate_diff = con.execute(f"""
        with ref as ({reference_sql})
        select coalesce(max(abs(floor.loss_rate - ref.loss_rate)), 0)
        from {floor_relation} as floor join ref using (tg_id)""").fetchone()[0]
    kwh_diff = con.execute(f"""
        with ref as ({reference_sql})
        select coalesce(max(greatest({
        ", ".join(
            f"coalesce(abs(cast(floor.{c} as double) - cast(ref.{c} as double)), 0)"
            for c in KWH_COLUMNS
        )
    })), 0)
        from {floor_relation} as floor join ref using (tg_id)""").fetchone()[0]
    return {
        "rows_floor": n_floor,
        "rows_reference": n_ref,
        "rows_differing": n_diff,
        "max_rate_difference": rate_diff,
        "max_kwh_difference": kwh_diff,
        "equal": n_diff == 0 and n_floor == n_ref,
        "sample": [dict(zip(columns, row, strict=True)) for row in sample],
    }


def compare_with_published(
    con: duckdb.DuckDBPyConnection, floor_relation: str, published: Path, day: dt.date, **kwargs
) -> dict:
    attached = {
        row[0] for row in con.execute("select database_name from duckdb_databases()").fetchall()
    }
    if "pub" not in attached:
        con.execute(f"attach '{published}' as pub (read_only)")
    return compare(con, floor_relation, published_rows_sql(published, day), **kwargs)


def truth_rows_sql(truth_dir: Path, day: dt.date) -> str:
    """The generator's oracle of `day` (truth/area_daily_loss.csv) in the mart's types. Its
    supply and sales are empty for every uncomputable area whose check meter has no
    computable energy (the mart publishes what it can), so compare those with
    compare_with_truth()."""
    path = truth_dir / "area_daily_loss.csv"
    return f"""
        select tg_id, data_date, org_no,
               cast(supply_kwh as decimal(18, 4)) as supply_kwh,
               cast(sales_kwh as decimal(18, 4)) as sales_kwh,
               cast(loss_kwh as decimal(18, 4)) as loss_kwh,
               loss_rate, loss_status, meter_count, meter_read_count,
               nullif(uncomputable_reason, '') as uncomputable_reason
        from read_csv('{path}', all_varchar = false, header = true,
                      types = {{'tg_id': 'VARCHAR', 'org_no': 'VARCHAR',
                               'data_date': 'DATE', 'supply_kwh': 'DOUBLE',
                               'sales_kwh': 'DOUBLE', 'loss_kwh': 'DOUBLE',
                               'loss_rate': 'DOUBLE', 'meter_count': 'BIGINT',
                               'meter_read_count': 'BIGINT',
                               'uncomputable_reason': 'VARCHAR', 'loss_status': 'VARCHAR'}})
        where data_date = date '{day}'"""


def compare_with_truth(
    con: duckdb.DuckDBPyConnection, floor_relation: str, truth_dir: Path, day: dt.date, **kwargs
) -> dict:
    """As compare(), where the truth leaves supply and sales empty the floor's are not
    compared (the truth has none)."""
    con.execute(f"""create or replace temp view floor_as_truth as
        select f.* replace (
            case when t.supply_kwh is null then null else f.supply_kwh end as supply_kwh,
            case when t.sales_kwh is null then null else f.sales_kwh end as sales_kwh)
        from {floor_relation} as f
        left join ({truth_rows_sql(truth_dir, day)}) as t using (tg_id)""")
    return compare(con, "floor_as_truth", truth_rows_sql(truth_dir, day), **kwargs)


def quarantined_rows(warehouse: Path, files: DayFiles, landing: Path) -> int:
    """Rows the pipeline's loader rejected from the files a floor read (the floor does not
    emulate the quarantine, so a comparison is only meaningful when this is 0)."""
    rels = [f.path.relative_to(landing).as_posix() for f in files.all()]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        listed = ", ".join(f"'{r}'" for r in rels)
        return con.execute(
            "select coalesce(sum(rows_rejected), 0) from meta.extract_files "
            f"where source_file in ({listed})"
        ).fetchone()[0]
    finally:
        con.close()
