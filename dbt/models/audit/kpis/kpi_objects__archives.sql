{#- 同业对标对象 · 营配贯通 (低压"配变-用户"关系一致率, 台区营配对应率, 表计档案一致率): one row
    per indicator, day of the audit window (int_kpi_window day_facts_from_date .. to_date)
    and object, by the archive comparisons of rules A01, A02 and A04-A06 (the models of
    models/intermediate/archives, which the rules read too, so an indicator and its rule
    never disagree): active LV customers (C_CONS VOLT_CODE 01/02), in-service areas, active
    settlement MPs; unit as there. -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

customer_areas as (

    select *
    from {{ ref('int_customer_areas_daily') }}
    where detected_date between {{ day_from }} and {{ to_date }}

),

area_mappings as (

    select *
    from {{ ref('int_area_transformer_mappings_daily') }}
    where detected_date between {{ day_from }} and {{ to_date }}

),

mp_archives as (

    select *
    from {{ ref('int_mp_meter_archives_daily') }}
    where detected_date between {{ day_from }} and {{ to_date }}

),

facts as (

    select
        detected_date as data_date,
        'lv_customer_consistency_rate' as indicator_code,
        'customer' as object_type,
        cons_no as object_id,
        mkt_tg_id as tg_id,
        cons_no,
        org_no,
        case
            when mkt_tg_id is not null
                and gis_tg_id = mkt_tg_id
                and acq_tg_id_count = 1
                and acq_tg_id_min = mkt_tg_id then 1
            else 0
        end as numerator_value,
        1 as denominator_value,
        '营销 C_CONS.TG_ID=' || {{ audit_txt('mkt_tg_id') }}
            || ', GIS T_TX_DYYH.SSBYQ=' || {{ audit_txt('gis_transformer_id') }}
            || ' -> ST_TQ_BYQ.YX_TQ_BS=' || {{ audit_txt('gis_tg_id') }}
            || ', 采集 E_DATA_MP.TG_ID=' || {{ audit_txt('acq_tg_id_min') }}
            || case when acq_tg_id_count > 1 then '..' || acq_tg_id_max else '' end as detail
    from customer_areas
    where volt_code in ('01', '02')

    union all

    select
        detected_date,
        'area_mapping_rate' as indicator_code,
        'area' as object_type,
        tg_id as object_id,
        tg_id,
        cast(null as {{ dbt.type_string() }}),
        org_no,
        is_mapped,
        1 as denominator_value,
        'ST_TQ_BYQ/T_SB_ZNYC_PDBYQ 配变: ' || coalesce(transformer_list, '无对应配变') as detail
    from area_mappings
    where is_in_service = 1

    union all

    select
        detected_date,
        'meter_archive_consistency_rate' as indicator_code,
        'meter' as object_type,
        mp_id,
        tg_id,
        cons_no,
        org_no,
        case
            when acq_count > 0
                and acq_asset_no_min = mkt_asset_no
                and acq_asset_no_max = mkt_asset_no
                and abs(acq_t_factor_min - mkt_t_factor) <= 0.000001
                and abs(acq_t_factor_max - mkt_t_factor) <= 0.000001 then 1
            else 0
        end as numerator_value,
        1 as denominator_value,
        '营销 C_METER ASSET_NO=' || {{ audit_txt('mkt_asset_no') }}
            || ' T_FACTOR=' || {{ audit_num('mkt_t_factor', 4) }}
            || case
                when acq_count = 0 then '; 采集 E_DATA_MP 无此计量点'
                else '; 采集 E_DATA_MP ASSET_NO=' || {{ audit_txt('acq_asset_no_min') }}
                    || ' T_FACTOR=' || {{ audit_num('acq_t_factor_min', 4) }}
            end as detail
    from mp_archives
    where usage_type_code = '01'

)

select
    {{ kpi_object_columns('f') }}
from facts as f
