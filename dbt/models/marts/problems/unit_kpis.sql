{{ config(**audit_daily_config('data_date')) }}
{#- 同业对标, the three 营配贯通 indicators per unit (供电所 / 县公司 / 地市公司) and day D of
    the window, numerator and denominator beside each rate. Same archive comparisons as
    the rules A01 / A02 / A04-A06 (macros in macros/audit/audit_archives.sql):
      低压"配变-用户"关系一致率  active LV customers (VOLT_CODE 01/02) whose three archives
                                  give the same area (marketing TG_ID = GIS transformer's area
                                  = acquisition TG_ID, all three known) / active LV customers
      台区营配对应率              in-service areas mapped only to existing in-service PMS
                                  transformers (at least one) / in-service areas
      表计档案一致率              active settlement MPs of active customers with an E_DATA_MP
                                  record whose ASSET_NO and T_FACTOR equal the marketing
                                  meter's / active settlement MPs of active customers
    A fact is attributed to the customer's (area's) unit and rolled up the O_ORG hierarchy
    as of D. -#}
with days as (
    {{ audit_days() }}
),

{{ customer_area_archives('customer_areas') }},

{{ area_transformer_mappings('area_mappings') }},

{{ mp_meter_archives('mp_archives') }},

{{ org_units('org_units') }},

facts as (
    select
        detected_date,
        org_no,
        1 as lv_customer_count,
        case
            when mkt_tg_id is not null
                and gis_tg_id = mkt_tg_id
                and acq_tg_id_count = 1
                and acq_tg_id_min = mkt_tg_id then 1
            else 0
        end as lv_customer_consistent_count,
        0 as in_service_area_count,
        0 as mapped_area_count,
        0 as settlement_mp_count,
        0 as meter_archive_consistent_count
    from customer_areas
    where volt_code in ('01', '02')

    union all

    select
        detected_date,
        org_no,
        0, 0,
        1,
        is_mapped,
        0, 0
    from area_mappings
    where is_in_service = 1

    union all

    select
        detected_date,
        org_no,
        0, 0, 0, 0,
        1,
        case
            when acq_count > 0
                and acq_asset_no_min = mkt_asset_no
                and acq_asset_no_max = mkt_asset_no
                and abs(acq_t_factor_min - mkt_t_factor) <= 0.000001
                and abs(acq_t_factor_max - mkt_t_factor) <= 0.000001 then 1
            else 0
        end
    from mp_archives
    where usage_type_code = '01'
),

unit_facts as (
    select 'station' as unit_level, u.station_no as unit_org_no, u.station_name as unit_org_name, f.*
    from facts as f
    inner join org_units as u
        on u.detected_date = f.detected_date
        and u.org_no = f.org_no
    where u.station_no is not null

    union all

    select 'county', u.county_no, u.county_name, f.*
    from facts as f
    inner join org_units as u
        on u.detected_date = f.detected_date
        and u.org_no = f.org_no
    where u.county_no is not null

    union all

    select 'city', u.city_no, u.city_name, f.*
    from facts as f
    inner join org_units as u
        on u.detected_date = f.detected_date
        and u.org_no = f.org_no
    where u.city_no is not null
),

aggregated as (
    select
        detected_date,
        unit_level,
        unit_org_no,
        unit_org_name,
        sum(lv_customer_consistent_count) as lv_customer_consistent_count,
        sum(lv_customer_count) as lv_customer_count,
        sum(mapped_area_count) as mapped_area_count,
        sum(in_service_area_count) as in_service_area_count,
        sum(meter_archive_consistent_count) as meter_archive_consistent_count,
        sum(settlement_mp_count) as settlement_mp_count
    from unit_facts
    group by detected_date, unit_level, unit_org_no, unit_org_name
)

select
    cast(detected_date as date) as data_date,
    cast(unit_level as {{ dbt.type_string() }}) as unit_level,
    cast(case unit_level when 'station' then '供电所' when 'county' then '县公司' else '地市公司' end
        as {{ dbt.type_string() }}) as unit_level_name,
    cast(unit_org_no as {{ dbt.type_string() }}) as org_no,
    cast(unit_org_name as {{ dbt.type_string() }}) as org_name,
    cast(lv_customer_consistent_count as {{ dbt.type_bigint() }}) as lv_customer_consistent_count,
    cast(lv_customer_count as {{ dbt.type_bigint() }}) as lv_customer_count,
    cast(case when lv_customer_count > 0 then 1.0 * lv_customer_consistent_count / lv_customer_count end
        as {{ audit_type_double() }}) as lv_customer_consistency_rate,
    cast(mapped_area_count as {{ dbt.type_bigint() }}) as mapped_area_count,
    cast(in_service_area_count as {{ dbt.type_bigint() }}) as in_service_area_count,
    cast(case when in_service_area_count > 0 then 1.0 * mapped_area_count / in_service_area_count end
        as {{ audit_type_double() }}) as area_mapping_rate,
    cast(meter_archive_consistent_count as {{ dbt.type_bigint() }}) as meter_archive_consistent_count,
    cast(settlement_mp_count as {{ dbt.type_bigint() }}) as settlement_mp_count,
    cast(case when settlement_mp_count > 0 then 1.0 * meter_archive_consistent_count / settlement_mp_count end
        as {{ audit_type_double() }}) as meter_archive_consistency_rate
from aggregated
