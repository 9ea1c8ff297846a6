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

-- The area archive as of day D (台区档案按日): every G_TG row valid on D (the newest
-- snapshot dated on or before D), for every day of the run, all run statuses.

with

days as (

    {{ day_spine(run_from_date(), run_to_date()) }}

),

areas as (

    select * from {{ archive_rows('stg_marketing__areas', archive_from) }}

),

orgs as (

    select * from {{ archive_rows('stg_marketing__orgs', archive_from) }}

),

areas_as_of_day as (

    select
        days.data_date,
        areas.tg_id,
        areas.tg_no,
        areas.tg_name,
        areas.org_no,
        orgs.org_name,
        orgs.p_org_no                       as parent_org_no,
        areas.tg_cap                        as area_capacity_kva,
        areas.pub_priv_flag,
        areas.line_id                       as feeder_id,
        areas.run_status_code,
        coalesce(areas.run_status_code = '01', false) as is_in_service,
        areas.snapshot_date                 as area_snapshot_date
    from days
    inner join areas
        on {{ as_of('days.data_date', 'areas') }}
    left join orgs
        on orgs.org_no = areas.org_no
        and {{ as_of('days.data_date', 'orgs') }}

)

select * from areas_as_of_day
