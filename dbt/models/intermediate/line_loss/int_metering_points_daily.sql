{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='data_date',
        on_schema_change='append_new_columns',
        meta={'recompute_late_data': false}
    )
}}
{{ run_window_depends_on() }}
{#- an incremental run reads only the snapshots its days need (archive_rows); a full build all -#}
{%- set archive_from = run_from_date() if is_incremental() else none %}

-- The metering-point archive as of day D (计量点档案按日): every C_MP row valid on D with
-- its area (C_MP.TG_ID), the marketing meter on it (C_METER, the billing master of the
-- multiplier), its acquisition data point (E_DATA_MP.MP_ID) and its customer (C_CONS), all
-- as of D. Settlement meters (USAGE_TYPE_CODE 01) and area check meters (02), all statuses.

with

days as (

    {{ day_spine(run_from_date(), run_to_date()) }}

),

metering_points as (

    select * from {{ archive_rows('stg_marketing__metering_points', archive_from) }}

),

meters as (

    select * from {{ archive_rows('stg_marketing__meters', archive_from) }}

),

data_points as (

    select * from {{ archive_rows('stg_acquisition__data_points', archive_from) }}

),

customers as (

    select * from {{ archive_rows('stg_marketing__customers', archive_from) }}

),

areas as (

    select * from {{ archive_rows('stg_marketing__areas', archive_from) }}

),

metering_points_as_of_day as (

    select
        days.data_date,
        metering_points.mp_id,
        metering_points.cons_no,
        metering_points.tg_id,
        metering_points.usage_type_code,
        metering_points.status_code         as mp_status_code,
        metering_points.snapshot_date       as mp_snapshot_date
    from days
    inner join metering_points
        on {{ as_of('days.data_date', 'metering_points') }}

),

-- One meter per metering point and day: the newest installation (then the highest
-- METER_ID) if the archive holds more than one.
meters_ranked as (

    select
        metering_points_as_of_day.data_date,
        meters.mp_id,
        meters.meter_id,
        meters.asset_no,
        meters.t_factor,
        meters.digits,
        meters.inst_date,
        count(*) over (
            partition by metering_points_as_of_day.data_date, meters.mp_id
        ) as meter_count_on_mp,
        row_number() over (
            partition by metering_points_as_of_day.data_date, meters.mp_id
            order by
                case when meters.inst_date is null then 1 else 0 end,
                meters.inst_date desc,
                meters.meter_id desc
        ) as meter_rank
    from metering_points_as_of_day
    inner join meters
        on meters.mp_id = metering_points_as_of_day.mp_id
        and {{ as_of('metering_points_as_of_day.data_date', 'meters') }}

),

-- One acquisition data point per metering point and day: the lowest DATA_ID if the
-- acquisition archive holds more than one.
data_points_ranked as (

    select
        metering_points_as_of_day.data_date,
        data_points.mp_id,
        data_points.data_id,
        data_points.asset_no,
        data_points.tg_id,
        data_points.t_factor,
        data_points.cons_no,
        count(*) over (
            partition by metering_points_as_of_day.data_date, data_points.mp_id
        ) as data_point_count,
        row_number() over (
            partition by metering_points_as_of_day.data_date, data_points.mp_id
            order by data_points.data_id
        ) as data_point_rank
    from metering_points_as_of_day
    inner join data_points
        on data_points.mp_id = metering_points_as_of_day.mp_id
        and {{ as_of('metering_points_as_of_day.data_date', 'data_points') }}

),

final as (

    select
        metering_points_as_of_day.data_date,
        metering_points_as_of_day.mp_id,
        metering_points_as_of_day.cons_no,
        metering_points_as_of_day.tg_id,
        metering_points_as_of_day.usage_type_code,
        case metering_points_as_of_day.usage_type_code
            when '01' then 'settlement'
            when '02' then 'check'
        end                                                     as meter_role,
        metering_points_as_of_day.mp_status_code,
        coalesce(metering_points_as_of_day.mp_status_code = '1', false) as is_active,

        -- marketing meter (C_METER)
        meters_ranked.meter_id,
        meters_ranked.asset_no,
        meters_ranked.t_factor,
        meters_ranked.digits,
        coalesce(meters_ranked.meter_count_on_mp, 0)            as meter_count_on_mp,

        -- acquisition data point (E_DATA_MP)
        data_points_ranked.data_id,
        data_points_ranked.asset_no                             as acquisition_asset_no,
        data_points_ranked.t_factor                             as acquisition_t_factor,
        data_points_ranked.tg_id                                as acquisition_tg_id,
        data_points_ranked.cons_no                              as acquisition_cons_no,
        coalesce(data_points_ranked.data_point_count, 0)        as data_point_count,

        -- customer (C_CONS; none for an area check meter)
        customers.org_no                                        as cons_org_no,
        customers.tg_id                                         as cons_tg_id,
        customers.gen_flag,
        customers.contract_cap,
        customers.volt_code,
        customers.status_code                                   as cons_status_code,

        -- area (G_TG): its capacity bounds a check meter's plausible energy
        areas.tg_cap                                            as area_capacity_kva

    from metering_points_as_of_day
    left join meters_ranked
        on meters_ranked.mp_id = metering_points_as_of_day.mp_id
        and meters_ranked.data_date = metering_points_as_of_day.data_date
        and meters_ranked.meter_rank = 1
    left join data_points_ranked
        on data_points_ranked.mp_id = metering_points_as_of_day.mp_id
        and data_points_ranked.data_date = metering_points_as_of_day.data_date
        and data_points_ranked.data_point_rank = 1
    left join customers
        on customers.cons_no = metering_points_as_of_day.cons_no
        and {{ as_of('metering_points_as_of_day.data_date', 'customers') }}
    left join areas
        on areas.tg_id = metering_points_as_of_day.tg_id
        and {{ as_of('metering_points_as_of_day.data_date', 'areas') }}

)

select * from final
