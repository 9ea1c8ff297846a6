"""The bare-DuckDB floor: `marts.area_daily_loss` of one day D straight from the landing
files, in one DuckDB connection, with no pipeline around it (no loader, no dbt, no gate, no
publish). What the pipeline's daily run costs is compared with this.

    python benchmarks/floor_duckdb.py LANDING D [--through D2] [--published FILE]
                                      [--truth DIR] [--warehouse FILE]

Reads only the files D needs (benchmarks/floor_common.py: the newest snapshot <= D of
G_TG, C_MP, C_METER, C_CONS, E_DATA_MP; E_MP_DAY_READ exported D-1 .. through; C_METER_CHG
exported D .. through) and computes every in-service area's row by the conventions of
docs/architecture.md ("Line loss: conventions" and "further conventions decided in the dbt
models"), in the same exact DECIMAL arithmetic as the dbt models, so kWh compare exactly.

GBK files (marketing, collection): DuckDB's read_csv decodes only UTF-8, UTF-16 and
Latin-1 without the `encodings` extension (not available offline), so a GBK file that is
not plain ASCII is decoded in Python, whole, into a temporary UTF-8 file; that time is part
of the floor's time (`decode_s`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without the editable install
    sys.path.insert(0, str(ROOT))

from benchmarks.floor_common import (
    MART_COLUMNS,
    DayFiles,
    LandingFile,
    compare_with_published,
    compare_with_truth,
    day_files,
    loss_settings,
    quarantined_rows,
)


@dataclass
class FloorResult:
    day: dt.date
    rows: pa.Table  # the mart's columns, kWh DECIMAL(18,4), one row per in-service area
    seconds: float  # everything: listing, decoding, reading, computing
    decode_s: float  # of which decoding GBK files in Python
    read_s: float  # of which reading the CSV files into DuckDB (after decoding)
    files: DayFiles


def duckdb_readable(file: LandingFile, scratch: Path) -> Path:
    """A path DuckDB's read_csv can decode: the file itself when it is UTF-8 (or GBK that is
    plain ASCII, where the two agree), otherwise a UTF-8 copy decoded in Python."""
    if file.encoding.lower().replace("_", "-") in ("utf-8", "utf-8-sig", "utf8"):
        return file.path  # DuckDB reads gzip and skips a UTF-8 BOM itself
    data = file.path.read_bytes()
    if file.path.name.endswith(".gz"):
        data = gzip.decompress(data)
    if data.isascii():
        return file.path
    target = scratch / f"{file.table}-{file.export_date}.csv"
    target.write_text(data.decode(file.encoding), encoding="utf-8")
    return target


def _file_rows(path: Path) -> str:
    """One CSV file's rows as text (codes keep their leading zeros; the columns may come in
    any order, read_csv matches them by the header) with the line order as `line_ordinal`:
    the last line of a duplicated key wins. row_number() over () numbers the rows in scan
    order (DuckDB keeps the insertion order of a scan)."""
    return (
        f"(select *, row_number() over () as line_ordinal from read_csv('{path}', "
        "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"'))"
    )


# The archives as of D, one row per key (within one snapshot file the last line wins).
ARCHIVE_SQL = {
    "G_TG": """
        create temp table area_archive as
        select TG_ID as tg_id, ORG_NO as org_no, RUN_STATUS_CODE as run_status_code,
               try_cast(TG_CAP as decimal(18, 6)) as tg_cap
        from {rows}
        qualify row_number() over (partition by TG_ID order by line_ordinal desc) = 1""",
    "C_MP": """
        create temp table metering_point_archive as
        select MP_ID as mp_id, CONS_NO as cons_no, TG_ID as tg_id,
               USAGE_TYPE_CODE as usage_type_code, STATUS_CODE as status_code
        from {rows}
        qualify row_number() over (partition by MP_ID order by line_ordinal desc) = 1""",
    "C_METER": """
        create temp table meter_archive as
        select METER_ID as meter_id, MP_ID as mp_id,
               try_cast(T_FACTOR as decimal(18, 6)) as t_factor,
               try_cast(DIGITS as bigint) as digits,
               try_cast(INST_DATE as date) as inst_date
        from {rows}
        qualify row_number() over (partition by METER_ID order by line_ordinal desc) = 1""",
    "C_CONS": """
        create temp table customer_archive as
        select CONS_NO as cons_no, GEN_FLAG as gen_flag,
               try_cast(CONTRACT_CAP as decimal(18, 6)) as contract_cap
        from {rows}
        qualify row_number() over (partition by CONS_NO order by line_ordinal desc) = 1""",
    "E_DATA_MP": """
        create temp table data_point_archive as
        select DATA_ID as data_id, MP_ID as mp_id
        from {rows}
        qualify row_number() over (partition by DATA_ID order by line_ordinal desc) = 1""",
}

READS_SQL = """
    select date '{export_date}' as export_date, line_ordinal,
           DATA_ID as data_id,
           try_cast(DATA_DATE as date) as data_date,
           try_strptime(COL_TIME, '%Y-%m-%d %H:%M:%S') as col_time,
           try_cast(PAP_R as decimal(18, 6)) as pap_r,
           try_cast(RAP_R as decimal(18, 6)) as rap_r
    from {rows}
    where try_cast(DATA_DATE as date) in (date '{day}' - 1, date '{day}')"""

CHANGES_SQL = """
    select date '{export_date}' as export_date, line_ordinal,
           CHG_ID as chg_id, MP_ID as mp_id,
           try_cast(CHG_DATE as date) as chg_date,
           OLD_ASSET_NO as old_asset_no, NEW_ASSET_NO as new_asset_no,
           try_cast(OLD_END_READ as decimal(18, 6)) as old_end_read,
           try_cast(NEW_START_READ as decimal(18, 6)) as new_start_read,
           try_cast(OLD_T_FACTOR as decimal(18, 6)) as old_t_factor,
           try_cast(NEW_T_FACTOR as decimal(18, 6)) as new_t_factor
    from {rows}"""

EMPTY_CHANGES_SQL = """
    select null::date as export_date, null::bigint as line_ordinal, null::varchar as chg_id,
           null::varchar as mp_id, null::date as chg_date, null::varchar as old_asset_no,
           null::varchar as new_asset_no, null::decimal(18, 6) as old_end_read,
           null::decimal(18, 6) as new_start_read, null::decimal(18, 6) as old_t_factor,
           null::decimal(18, 6) as new_t_factor
    where false"""

# The line loss of day D from the archives and deliveries above. The expressions and their
# DECIMAL types are the dbt models' (int_meter_energy_daily, int_area_energy_balance_daily,
# area_daily_loss), so that the kWh are the same to the last digit.
AREA_DAILY_LOSS_SQL = """
with

settings as (

    select
        cast('{completeness_min_share}' as double)          as completeness_min_share,
        cast('{loss_rate_high_above}' as double)            as loss_rate_high_above,
        cast('{loss_rate_negative_below}' as double)        as loss_rate_negative_below,
        cast('{rollover_min_previous_share}' as decimal(18, 6)) as rollover_min_previous_share,
        cast('{plausible_hours_per_day}' as decimal(18, 4)) as plausible_hours_per_day

),

-- active (STATUS_CODE 1) settlement (01) and check (02) metering points of C_MP as of D
active_metering_points as (

    select
        mp_id,
        cons_no,
        tg_id,
        case usage_type_code when '01' then 'settlement' when '02' then 'check' end
            as meter_role
    from metering_point_archive
    where status_code = '1'

),

-- one marketing meter per MP (the multiplier's master): newest INST_DATE, then METER_ID
meter_of_mp as (

    select mp_id, t_factor, digits
    from meter_archive
    qualify row_number() over (
        partition by mp_id order by inst_date desc nulls last, meter_id desc) = 1

),

-- one acquisition data point per MP: the lowest DATA_ID
data_point_of_mp as (

    select mp_id, data_id
    from data_point_archive
    where mp_id is not null
    qualify row_number() over (partition by mp_id order by data_id) = 1

),

-- the final state of the readings of D-1 and D: the later export day, then the later
-- COL_TIME (a NULL loses), then the later line
final_reads as (

    select data_id, data_date, pap_r, rap_r
    from day_read_deliveries
    qualify row_number() over (
        partition by data_id, data_date
        order by export_date desc, col_time desc nulls last, line_ordinal desc) = 1

),

-- the final state of every change record delivered, then those dated D; two for one MP
-- on one day: the highest CHG_ID
final_meter_changes as (

    select *
    from meter_change_deliveries
    qualify row_number() over (
        partition by chg_id order by export_date desc, line_ordinal desc) = 1

),

meter_change_of_day as (

    select *
    from final_meter_changes
    where chg_date = date '{day}'
    qualify row_number() over (partition by mp_id order by chg_id desc) = 1

),

meter_readings as (

    select
        mp.mp_id,
        mp.tg_id,
        mp.meter_role,
        customer.gen_flag,
        data_point.data_id,
        meter.t_factor,
        current_read.pap_r,
        previous_read.pap_r                         as previous_pap_r,
        current_read.rap_r,
        previous_read.rap_r                         as previous_rap_r,
        change.chg_id,
        change.old_end_read,
        change.new_start_read,
        change.old_t_factor,
        change.new_t_factor,
        case
            when meter.digits between 0 and 17
                then cast(power(10, meter.digits) as decimal(18, 0))
        end                                         as register_full_scale,
        -- a check meter is bounded by the area's capacity, a customer's by its contract
        cast(
            case when mp.meter_role = 'check' then area.tg_cap else customer.contract_cap end
            * settings.plausible_hours_per_day
            as decimal(18, 4)
        )                                           as plausible_max_kwh,
        settings.rollover_min_previous_share
    from active_metering_points as mp
    cross join settings
    left join meter_of_mp as meter on meter.mp_id = mp.mp_id
    left join data_point_of_mp as data_point on data_point.mp_id = mp.mp_id
    left join customer_archive as customer on customer.cons_no = mp.cons_no
    left join area_archive as area on area.tg_id = mp.tg_id
    left join final_reads as current_read
        on current_read.data_id = data_point.data_id
        and current_read.data_date = date '{day}'
    left join final_reads as previous_read
        on previous_read.data_id = data_point.data_id
        and previous_read.data_date = date '{day}' - 1
    left join meter_change_of_day as change on change.mp_id = mp.mp_id

),

register_deltas as (

    select
        *,
        chg_id is not null                                          as is_exchange_day,
        pap_r is not null and previous_pap_r is not null            as has_both_reads,
        pap_r - previous_pap_r                                      as forward_register_delta,
        -- a NULL RAP_R (no reverse register) counts as 0 kWh of reverse energy
        case
            when rap_r is not null and previous_rap_r is not null then rap_r - previous_rap_r
            else 0
        end                                                         as reverse_register_delta,
        (pap_r + register_full_scale - previous_pap_r) * t_factor   as rollover_kwh,
        (rap_r + register_full_scale - previous_rap_r) * t_factor   as reverse_rollover_kwh
    from meter_readings

),

rollovers as (

    select
        *,
        coalesce(not is_exchange_day
            and has_both_reads
            and forward_register_delta < 0
            and register_full_scale is not null
            and previous_pap_r >= rollover_min_previous_share * register_full_scale
            and rollover_kwh <= plausible_max_kwh, false)           as is_rollover,
        coalesce(not is_exchange_day
            and reverse_register_delta < 0
            and register_full_scale is not null
            and previous_rap_r >= rollover_min_previous_share * register_full_scale
            and reverse_rollover_kwh <= plausible_max_kwh, false)   as is_reverse_rollover
    from register_deltas

),

meter_energy as (

    select
        *,
        cast(case
            when not has_both_reads then null
            when is_exchange_day
                then (old_end_read - previous_pap_r) * old_t_factor
                    + (pap_r - new_start_read) * new_t_factor
            when forward_register_delta >= 0 then forward_register_delta * t_factor
            when is_rollover then rollover_kwh
        end as decimal(18, 4))                                      as forward_kwh,
        cast(case
            when not has_both_reads then null
            when reverse_register_delta < 0 and not is_reverse_rollover then null
            when reverse_register_delta >= 0 then reverse_register_delta * t_factor
            when is_reverse_rollover then reverse_rollover_kwh
        end as decimal(18, 4))                                      as reverse_kwh
    from rollovers

),

meter_status as (

    select
        *,
        case
            when data_id is null then 'no data point'
            when not is_exchange_day and t_factor is null then 'no meter'
            when pap_r is null then 'reading missing'
            when previous_pap_r is null then 'previous reading missing'
            when is_exchange_day and forward_kwh is null then 'change record incomplete'
            when has_both_reads and not is_exchange_day and forward_register_delta < 0
                and not is_rollover then 'register backwards'
            when forward_kwh is null then 'energy invalid'
            -- a PV customer's reverse energy is part of the supply: it must be valid
            when gen_flag = '1' and reverse_kwh is null then 'reverse register backwards'
        end                                                         as energy_status
    from meter_energy

),

settlement_totals as (

    select
        tg_id,
        count(*)                                                    as meter_count,
        count(*) filter (where energy_status is null)               as meter_read_count,
        coalesce(sum(forward_kwh) filter (where energy_status is null), 0)
                                                                    as settlement_forward_kwh,
        coalesce(sum(reverse_kwh) filter (where energy_status is null and gen_flag = '1'), 0)
                                                                    as pv_export_kwh
    from meter_status
    where meter_role = 'settlement'
    group by tg_id

),

check_totals as (

    select
        tg_id,
        -- several active check meters are summed; a problem with any is the area's
        case
            when count(*) filter (where energy_status in
                ('no data point', 'reading missing', 'previous reading missing')) > 0
                then 'check meter reading missing'
            when count(*) filter (where energy_status is not null) > 0
                then 'check meter register invalid'
        end                                                         as check_meter_problem,
        sum(forward_kwh)                                            as check_forward_kwh,
        -- a check meter's reverse register that went backwards counts 0 kWh
        sum(coalesce(reverse_kwh, 0))                               as check_reverse_kwh
    from meter_status
    where meter_role = 'check'
    group by tg_id

),

area_balance as (

    select
        area.tg_id,
        area.org_no,
        coalesce(settlement.meter_count, 0)                         as meter_count,
        coalesce(settlement.meter_read_count, 0)                    as meter_read_count,
        case
            when check_meter.tg_id is null then 'no check meter'
            else check_meter.check_meter_problem
        end                                                         as check_meter_problem,
        cast(case
            when check_meter.tg_id is not null and check_meter.check_meter_problem is null
                then check_meter.check_forward_kwh + coalesce(settlement.pv_export_kwh, 0)
        end as decimal(18, 4))                                      as supply_kwh,
        cast(case
            when check_meter.tg_id is not null and check_meter.check_meter_problem is null
                then coalesce(settlement.settlement_forward_kwh, 0)
                    + check_meter.check_reverse_kwh
        end as decimal(18, 4))                                      as sales_kwh
    from area_archive as area
    left join settlement_totals as settlement on settlement.tg_id = area.tg_id
    left join check_totals as check_meter on check_meter.tg_id = area.tg_id
    where area.run_status_code = '01'

),

computability as (

    select
        area_balance.*,
        settings.loss_rate_high_above,
        settings.loss_rate_negative_below,
        case
            when check_meter_problem is not null then check_meter_problem
            -- the share as a ratio, so that 49 of 50 is exactly 98 %; no meters = complete
            when meter_count > 0 and cast(meter_read_count as double) / meter_count
                < settings.completeness_min_share then 'meter completeness below threshold'
            when supply_kwh <= 0 then 'no supply'
        end                                                         as uncomputable_reason
    from area_balance
    cross join settings

),

area_loss as (

    select
        *,
        case when uncomputable_reason is null then supply_kwh - sales_kwh end as loss_kwh,
        case
            when uncomputable_reason is null
                then cast(supply_kwh - sales_kwh as double) / cast(supply_kwh as double)
        end                                                         as loss_rate
    from computability

)

select
    tg_id,
    date '{day}'                                    as data_date,
    org_no,
    supply_kwh,
    sales_kwh,
    cast(loss_kwh as decimal(18, 4))                as loss_kwh,
    loss_rate,
    case
        when uncomputable_reason is not null then 'uncomputable'
        when loss_rate < loss_rate_negative_below then 'negative'
        when loss_rate > loss_rate_high_above then 'high'
        else 'qualified'
    end                                             as loss_status,
    cast(meter_count as bigint)                     as meter_count,
    cast(meter_read_count as bigint)                as meter_read_count,
    uncomputable_reason
from area_loss
order by tg_id
"""


def area_daily_loss(
    landing: Path,
    day: dt.date,
    through: dt.date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> FloorResult:
    """Every in-service area's row of `marts.area_daily_loss` for `day`; `through` = the
    newest export day whose late readings count (default `day`: what the daily run of
    `day` publishes). The result is also left in `con` as the temp table `floor_rows`."""
    began = time.perf_counter()
    con = con or duckdb.connect()
    files = day_files(landing, day, through)
    with tempfile.TemporaryDirectory(prefix="gridaudit-floor-") as scratch_dir:
        scratch = Path(scratch_dir)
        decode_began = time.perf_counter()
        readable = {id(f): duckdb_readable(f, scratch) for f in files.all()}
        decode_s = time.perf_counter() - decode_began

        read_began = time.perf_counter()
        for table, file in files.snapshots.items():
            con.execute(ARCHIVE_SQL[table].format(rows=_file_rows(readable[id(file)])))
        reads = " union all ".join(
            READS_SQL.format(export_date=f.export_date, day=day, rows=_file_rows(readable[id(f)]))
            for f in files.reads
        )
        con.execute(f"create temp table day_read_deliveries as {reads}")
        changes = (
            " union all ".join(
                CHANGES_SQL.format(export_date=f.export_date, rows=_file_rows(readable[id(f)]))
                for f in files.changes
            )
            or EMPTY_CHANGES_SQL
        )
        con.execute(f"create temp table meter_change_deliveries as {changes}")
        read_s = time.perf_counter() - read_began

    con.execute(
        "create or replace temp table floor_rows as "
        + AREA_DAILY_LOSS_SQL.format(day=day, **loss_settings())
    )
    rows = con.sql(f"select {', '.join(MART_COLUMNS)} from floor_rows").arrow()
    if not isinstance(rows, pa.Table):  # DuckDB 2.0's .arrow() gives a record batch reader
        rows = rows.read_all()
    return FloorResult(day, rows, time.perf_counter() - began, decode_s, read_s, files)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("landing", type=Path)
    parser.add_argument("day", type=dt.date.fromisoformat)
    parser.add_argument(
        "--through",
        type=dt.date.fromisoformat,
        help="newest export day whose late readings count (default: the day)",
    )
    parser.add_argument("--published", type=Path, help="compare with this published file")
    parser.add_argument("--truth", type=Path, help="compare with OUT/truth of the generator")
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="report the rows the pipeline quarantined from the files read",
    )
    args = parser.parse_args()

    con = duckdb.connect()
    result = area_daily_loss(args.landing, args.day, args.through, con)
    report: dict[str, object] = {
        "day": str(args.day),
        "rows": result.rows.num_rows,
        "seconds": round(result.seconds, 3),
        "decode_s": round(result.decode_s, 3),
        "read_s": round(result.read_s, 3),
        "files": result.files.describe(),
    }
    if args.published:
        report["vs_published"] = compare_with_published(con, "floor_rows", args.published, args.day)
    if args.truth:
        report["vs_truth"] = compare_with_truth(con, "floor_rows", args.truth, args.day)
    if args.warehouse:
        report["quarantined_rows_in_files_read"] = quarantined_rows(
            args.warehouse, result.files, args.landing
        )
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
