{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A09 电价执行异常: an active customer whose PRC_CODE belongs, in K_PRC as of D, to
    another 用电类别 (K_PRC.ELEC_TYPE_CODE <> C_CONS.ELEC_TYPE_CODE). A PRC_CODE that is
    not in K_PRC is not compared (no category to compare with). -#}
{%- set elec_type_name -%}
    case {col} when '201' then '城镇居民生活' when '202' then '乡村居民生活' when '301' then '一般工商业'
        when '302' then '大工业' when '401' then '农业生产' else '未知' end
{%- endset -%}
with days as (
    {{ audit_days() }}
),

priced as (
    select
        d.detected_date,
        c.cons_no,
        c.org_no,
        c.tg_id,
        c.elec_type_code as cons_elec_type_code,
        c.prc_code,
        k.prc_name,
        k.elec_type_code as prc_elec_type_code,
        k.unit_price
    from days as d
    inner join {{ archive_rows('stg_marketing__customers') }} as c
        on {{ as_of('d.detected_date', 'c') }}
    inner join {{ archive_rows('stg_marketing__prices') }} as k
        on {{ as_of('d.detected_date', 'k') }}
        and k.prc_code = c.prc_code
    where c.status_code = '1'
)

select
    detected_date,
    tg_id,
    org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A09' as problem_code,
    '营销 C_CONS.ELEC_TYPE_CODE=' || cons_elec_type_code || ' ('
        || {{ elec_type_name.replace('{col}', 'cons_elec_type_code') }}
    || '); PRC_CODE=' || prc_code || ' (' || {{ audit_txt('prc_name') }} || ', '
    || {{ audit_num('unit_price', 4) }}
    || ' 元/kWh) 属 K_PRC.ELEC_TYPE_CODE=' || prc_elec_type_code || ' ('
    || {{ elec_type_name.replace('{col}', 'prc_elec_type_code') }} || ')' as evidence,
    cast(unit_price as {{ audit_type_double() }}) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
from priced
where cons_elec_type_code is not null
    and prc_elec_type_code is not null
    and cons_elec_type_code <> prc_elec_type_code
