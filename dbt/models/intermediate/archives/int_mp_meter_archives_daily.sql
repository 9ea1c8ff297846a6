{{ config(**audit_daily_config('detected_date', recompute_late_data=false)) }}
{#- 计量点表计档案按日: per day D of the audit window (audit_days()) and active metering point
    (C_MP.STATUS_CODE '1' as of D): settlement MPs ('01') of active customers and area
    check meters ('02'), with the marketing meter (C_METER on the MP as of D; the newest
    INST_DATE when the archive still lists an old one) and the acquisition archive rows
    (E_DATA_MP, matched on MP_ID).
      tg_id / org_no    the customer's marketing area and unit (C_CONS); for a check
                        meter C_MP.TG_ID and the area's unit
      acq_count         E_DATA_MP rows for the MP (0: not covered)
      acq_available     1 when the E_DATA_MP archive exists as of D
    Read by rules A04, A05, A06 and the KPI objects of 表计档案一致率 (kpi_objects__archives).
    Not intermediate.int_metering_points_daily: that one keeps every MP from the first
    computable day with one data point each; the archive rules compare every E_DATA_MP
    record of the MP (min / max) from the audit window's first day. Each archive is read
    once and joined to the days on its snapshot_date (archive_snapshot_days). -#}

with

days as (

    {{ audit_days() }}

),

metering_point_rows as (

    select p.mp_id, p.cons_no, p.tg_id, p.usage_type_code, p.snapshot_date, p.valid_to_date
    from {{ archive_rows('stg_marketing__metering_points') }} as p
    where p.status_code = '1'
        and p.usage_type_code in ('01', '02')

),

customer_rows as (

    select c.cons_no, c.org_no, c.tg_id, c.snapshot_date, c.valid_to_date
    from {{ archive_rows('stg_marketing__customers') }} as c
    where c.status_code = '1'

),

area_rows as (

    select g.tg_id, g.org_no, g.snapshot_date, g.valid_to_date
    from {{ archive_rows('stg_marketing__areas') }} as g

),

meter_rows as (

    select m.mp_id, m.meter_id, m.asset_no, m.t_factor, m.inst_date, m.snapshot_date,
        m.valid_to_date
    from {{ archive_rows('stg_marketing__meters') }} as m

),

-- every row, also those without MP_ID: the archive exists on the days of data_point_days
data_point_rows as (

    select e.data_id, e.mp_id, e.asset_no, e.t_factor, e.snapshot_date, e.valid_to_date
    from {{ archive_rows('stg_acquisition__data_points') }} as e

),

metering_point_days as (

    {{ archive_snapshot_days('metering_point_rows') }}

),

customer_days as (

    {{ archive_snapshot_days('customer_rows') }}

),

area_days as (

    {{ archive_snapshot_days('area_rows') }}

),

meter_days as (

    {{ archive_snapshot_days('meter_rows') }}

),

data_point_days as (

    {{ archive_snapshot_days('data_point_rows') }}

),

metering_points as (

    select
        metering_point_days.detected_date,
        metering_point_rows.mp_id,
        metering_point_rows.cons_no,
        metering_point_rows.tg_id,
        metering_point_rows.usage_type_code
    from metering_point_days
    inner join metering_point_rows
        on metering_point_rows.snapshot_date = metering_point_days.snapshot_date

),

customers as (

    select customer_days.detected_date, customer_rows.cons_no, customer_rows.org_no,
        customer_rows.tg_id
    from customer_days
    inner join customer_rows
        on customer_rows.snapshot_date = customer_days.snapshot_date

),

areas as (

    select area_days.detected_date, area_rows.tg_id, area_rows.org_no
    from area_days
    inner join area_rows
        on area_rows.snapshot_date = area_days.snapshot_date

),

-- one meter per MP and day: the newest installation, then the highest METER_ID
meters as (

    select
        meter_days.detected_date,
        meter_rows.mp_id,
        meter_rows.meter_id,
        meter_rows.asset_no,
        meter_rows.t_factor,
        row_number() over (
            partition by meter_days.detected_date, meter_rows.mp_id
            order by meter_rows.inst_date desc, meter_rows.meter_id desc
        ) as meter_rank
    from meter_days
    inner join meter_rows
        on meter_rows.snapshot_date = meter_days.snapshot_date

),

acquisition as (

    select
        data_point_days.detected_date,
        data_point_rows.mp_id,
        count(*)                            as acq_count,
        min(data_point_rows.asset_no)       as acq_asset_no_min,
        max(data_point_rows.asset_no)       as acq_asset_no_max,
        min(data_point_rows.t_factor)       as acq_t_factor_min,
        max(data_point_rows.t_factor)       as acq_t_factor_max,
        min(data_point_rows.data_id)        as acq_data_id
    from data_point_days
    inner join data_point_rows
        on data_point_rows.snapshot_date = data_point_days.snapshot_date
    where data_point_rows.mp_id is not null
    group by data_point_days.detected_date, data_point_rows.mp_id

),

final as (

    select
        metering_points.detected_date,
        metering_points.mp_id,
        metering_points.usage_type_code,
        metering_points.cons_no                                 as mp_cons_no,
        customers.cons_no,
        coalesce(customers.tg_id, metering_points.tg_id)        as tg_id,
        coalesce(customers.org_no, areas.org_no)                as org_no,
        meters.meter_id,
        meters.asset_no                                         as mkt_asset_no,
        meters.t_factor                                         as mkt_t_factor,
        coalesce(acquisition.acq_count, 0)                      as acq_count,
        acquisition.acq_data_id,
        acquisition.acq_asset_no_min,
        acquisition.acq_asset_no_max,
        acquisition.acq_t_factor_min,
        acquisition.acq_t_factor_max,
        case when data_point_days.detected_date is not null then 1 else 0 end as acq_available
    from metering_points
    left join customers
        on customers.detected_date = metering_points.detected_date
        and customers.cons_no = metering_points.cons_no
    left join areas
        on areas.detected_date = metering_points.detected_date
        and areas.tg_id = metering_points.tg_id
    left join meters
        on meters.detected_date = metering_points.detected_date
        and meters.mp_id = metering_points.mp_id
        and meters.meter_rank = 1
    left join acquisition
        on acquisition.detected_date = metering_points.detected_date
        and acquisition.mp_id = metering_points.mp_id
    left join data_point_days
        on data_point_days.detected_date = metering_points.detected_date
    where metering_points.usage_type_code = '02'
        or customers.cons_no is not null

)

select
    cast(detected_date as date)                         as detected_date,
    cast(mp_id as {{ dbt.type_string() }})              as mp_id,
    cast(usage_type_code as {{ dbt.type_string() }})    as usage_type_code,
    cast(mp_cons_no as {{ dbt.type_string() }})         as mp_cons_no,
    cast(cons_no as {{ dbt.type_string() }})            as cons_no,
    cast(tg_id as {{ dbt.type_string() }})              as tg_id,
    cast(org_no as {{ dbt.type_string() }})             as org_no,
    cast(meter_id as {{ dbt.type_string() }})           as meter_id,
    cast(mkt_asset_no as {{ dbt.type_string() }})       as mkt_asset_no,
    mkt_t_factor,
    cast(acq_count as {{ dbt.type_int() }})             as acq_count,
    cast(acq_data_id as {{ dbt.type_string() }})        as acq_data_id,
    cast(acq_asset_no_min as {{ dbt.type_string() }})   as acq_asset_no_min,
    cast(acq_asset_no_max as {{ dbt.type_string() }})   as acq_asset_no_max,
    acq_t_factor_min,
    acq_t_factor_max,
    acq_available
from final
