{#- 同业对标对象 · 计量点 (采集成功率): one row per day of the audit window (int_kpi_window
    day_facts_from_date .. to_date) and active settlement metering point (C_MP
    USAGE_TYPE_CODE 01, STATUS_CODE 1 as of D: the line-loss meter_count population,
    int_meter_energy_daily); a reading = a row of DATA_DATE D with PAP_R through the MP's
    data point; unit = the customer's C_CONS.ORG_NO as of D (the area's G_TG.ORG_NO when the
    customer is unknown). -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

facts as (

    select
        e.data_date,
        'collection_success_rate' as indicator_code,
        'meter' as object_type,
        e.mp_id as object_id,
        e.tg_id,
        e.cons_no,
        coalesce(e.cons_org_no, a.org_no) as org_no,
        case when e.pap_r is not null then 1 else 0 end as numerator_value,
        1 as denominator_value,
        case
            when e.data_id is null then 'E_DATA_MP 无 MP_ID=' || e.mp_id || ' 的测量点 (采集未覆盖)'
            when e.pap_r is null then 'E_MP_DAY_READ 无 DATA_ID=' || e.data_id || ' DATA_DATE='
                || {{ audit_txt('e.data_date') }} || ' 的日冻结示值 (采集失败)'
            else 'E_MP_DAY_READ DATA_ID=' || e.data_id
                || ' DATA_DATE=' || {{ audit_txt('e.data_date') }}
                || ' PAP_R=' || {{ audit_num('e.pap_r') }}
        end as detail
    from {{ ref('int_meter_energy_daily') }} as e
    left join {{ ref('int_areas_daily') }} as a
        on a.data_date = e.data_date
        and a.tg_id = e.tg_id
        and a.data_date between {{ day_from }} and {{ to_date }}
    where e.data_date between {{ day_from }} and {{ to_date }}
        and e.meter_role = 'settlement'
        and e.mp_status_code = '1'

)

select
    {{ kpi_object_columns('f') }}
from facts as f
