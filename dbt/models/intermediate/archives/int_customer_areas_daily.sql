{{ config(**audit_daily_config('detected_date', recompute_late_data=false)) }}
{#- 户变关系按日: per day D of the audit window (audit_days()) and active customer
    (C_CONS.STATUS_CODE '1' as of D), its area in the three archives as of D:
      mkt_tg_id            C_CONS.TG_ID
      gis_transformer_id   T_TX_DYYH.SSBYQ (YHBH = CONS_NO)
      gis_tg_id            ST_TQ_BYQ.YX_TQ_BS of that transformer (null: GIS gives no area)
      acq_tg_id_min/max    E_DATA_MP.TG_ID of the customer's active settlement MP(s)
                           (C_MP USAGE_TYPE_CODE '01', STATUS_CODE '1', matched on MP_ID)
      acq_tg_id_count      distinct acquisition areas (normally 0 or 1)
    Read by rule A01 and the KPI objects of 低压"配变-用户"关系一致率 (kpi_objects__archives).
    Each archive is read once and joined to the days on its snapshot_date
    (archive_snapshot_days); the archives are then joined on (detected_date, key). -#}

with

days as (

    {{ audit_days() }}

),

customer_rows as (

    select c.cons_no, c.org_no, c.volt_code, c.tg_id, c.snapshot_date, c.valid_to_date
    from {{ archive_rows('stg_marketing__customers') }} as c
    where c.status_code = '1'

),

connection_rows as (

    select g.yhbh, g.ssbyq, g.snapshot_date, g.valid_to_date
    from {{ archive_rows('stg_pms__customer_connections') }} as g

),

link_rows as (

    select l.pms_byq_bs, l.yx_tq_bs, l.snapshot_date, l.valid_to_date
    from {{ archive_rows('stg_pms__area_transformer_links') }} as l

),

-- the active settlement metering points (the customer's acquisition area is theirs)
metering_point_rows as (

    select p.mp_id, p.cons_no, p.snapshot_date, p.valid_to_date
    from {{ archive_rows('stg_marketing__metering_points') }} as p
    where p.usage_type_code = '01'
        and p.status_code = '1'

),

data_point_rows as (

    select e.mp_id, e.tg_id, e.snapshot_date, e.valid_to_date
    from {{ archive_rows('stg_acquisition__data_points') }} as e
    where e.tg_id is not null

),

customer_days as (

    {{ archive_snapshot_days('customer_rows') }}

),

connection_days as (

    {{ archive_snapshot_days('connection_rows') }}

),

link_days as (

    {{ archive_snapshot_days('link_rows') }}

),

metering_point_days as (

    {{ archive_snapshot_days('metering_point_rows') }}

),

data_point_days as (

    {{ archive_snapshot_days('data_point_rows') }}

),

connections as (

    select connection_days.detected_date, connection_rows.yhbh, connection_rows.ssbyq
    from connection_days
    inner join connection_rows
        on connection_rows.snapshot_date = connection_days.snapshot_date

),

links as (

    select link_days.detected_date, link_rows.pms_byq_bs, link_rows.yx_tq_bs
    from link_days
    inner join link_rows
        on link_rows.snapshot_date = link_days.snapshot_date

),

data_points as (

    select data_point_days.detected_date, data_point_rows.mp_id, data_point_rows.tg_id
    from data_point_days
    inner join data_point_rows
        on data_point_rows.snapshot_date = data_point_days.snapshot_date

),

acquisition_areas as (

    select
        metering_point_days.detected_date,
        metering_point_rows.cons_no,
        min(data_points.tg_id)              as acq_tg_id_min,
        max(data_points.tg_id)              as acq_tg_id_max,
        count(distinct data_points.tg_id)   as acq_tg_id_count
    from metering_point_days
    inner join metering_point_rows
        on metering_point_rows.snapshot_date = metering_point_days.snapshot_date
    inner join data_points
        on data_points.detected_date = metering_point_days.detected_date
        and data_points.mp_id = metering_point_rows.mp_id
    group by metering_point_days.detected_date, metering_point_rows.cons_no

),

final as (

    select
        customer_days.detected_date,
        customer_rows.cons_no,
        customer_rows.org_no,
        customer_rows.volt_code,
        customer_rows.tg_id                                 as mkt_tg_id,
        connections.ssbyq                                   as gis_transformer_id,
        links.yx_tq_bs                                      as gis_tg_id,
        acquisition_areas.acq_tg_id_min,
        acquisition_areas.acq_tg_id_max,
        coalesce(acquisition_areas.acq_tg_id_count, 0)      as acq_tg_id_count
    from customer_days
    inner join customer_rows
        on customer_rows.snapshot_date = customer_days.snapshot_date
    left join connections
        on connections.detected_date = customer_days.detected_date
        and connections.yhbh = customer_rows.cons_no
    left join links
        on links.detected_date = customer_days.detected_date
        and links.pms_byq_bs = connections.ssbyq
    left join acquisition_areas
        on acquisition_areas.detected_date = customer_days.detected_date
        and acquisition_areas.cons_no = customer_rows.cons_no

)

select
    cast(detected_date as date)                             as detected_date,
    cast(cons_no as {{ dbt.type_string() }})                as cons_no,
    cast(org_no as {{ dbt.type_string() }})                 as org_no,
    cast(volt_code as {{ dbt.type_string() }})              as volt_code,
    cast(mkt_tg_id as {{ dbt.type_string() }})              as mkt_tg_id,
    cast(gis_transformer_id as {{ dbt.type_string() }})     as gis_transformer_id,
    cast(gis_tg_id as {{ dbt.type_string() }})              as gis_tg_id,
    cast(acq_tg_id_min as {{ dbt.type_string() }})          as acq_tg_id_min,
    cast(acq_tg_id_max as {{ dbt.type_string() }})          as acq_tg_id_max,
    cast(acq_tg_id_count as {{ dbt.type_int() }})           as acq_tg_id_count
from final
