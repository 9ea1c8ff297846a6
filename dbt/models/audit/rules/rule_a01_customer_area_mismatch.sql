{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A01 户变关系不一致: for an active customer (C_CONS.STATUS_CODE '1') the area as of D in
    marketing (C_CONS.TG_ID), GIS (T_TX_DYYH.SSBYQ -> ST_TQ_BYQ.YX_TQ_BS) and acquisition
    (E_DATA_MP.TG_ID of the customer's active settlement MP). A finding when any pair of
    areas that are both known disagrees (a system that gives no area is not compared:
    no GIS connection row or a transformer without an area link is A02's business).
    The areas as of D: intermediate.int_customer_areas_daily. -#}
with customer_areas as (
    select *
    from {{ ref('int_customer_areas_daily') }}
    where {{ in_audit_window('detected_date') }}
),

compared as (
    select
        *,
        case
            when acq_tg_id_min is null then null
            when acq_tg_id_count > 1 then acq_tg_id_min || '/' || acq_tg_id_max
            else acq_tg_id_min
        end as acq_tg_ids,
        case
            when mkt_tg_id is not null and gis_tg_id is not null and mkt_tg_id <> gis_tg_id then 1
            when acq_tg_id_count > 1 then 1
            when mkt_tg_id is not null and acq_tg_id_min is not null and mkt_tg_id <> acq_tg_id_min
                then 1
            when gis_tg_id is not null and acq_tg_id_min is not null and gis_tg_id <> acq_tg_id_min
                then 1
            else 0
        end as is_mismatch,
        (case when mkt_tg_id is not null then 1 else 0 end)
        + (case when gis_tg_id is not null then 1 else 0 end)
        + (case when acq_tg_id_min is not null then 1 else 0 end) as systems_known
    from customer_areas
)

select
    detected_date,
    mkt_tg_id as tg_id,
    org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A01' as problem_code,
    '营销 TG_ID=' || {{ audit_txt('mkt_tg_id') }}
    || '; GIS 变压器=' || {{ audit_txt('gis_transformer_id') }} || '→台区 '
    || {{ audit_txt('gis_tg_id') }}
    || '; 采集 TG_ID=' || {{ audit_txt('acq_tg_ids') }} as evidence,
    cast(systems_known as {{ audit_type_double() }}) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
from compared
where is_mismatch = 1
