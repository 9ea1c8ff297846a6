{{ config(**audit_rule_config()) }}
{#- L03 台区不可算: an in-service area whose loss is not computable on D (check-meter
    reading missing or invalid, or settlement-meter completeness below
    completeness_min_share; marts.area_daily_loss gives the status and the reason). -#}
{{ area_days_with_status('uncomputable') }}

select
    data_date as detected_date,
    tg_id,
    org_no,
    cast(null as {{ dbt.type_string() }}) as cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'L03' as problem_code,
    '台区不可算: ' || {{ audit_txt('uncomputable_reason') }} || '; 用户表可算 '
    || {{ audit_txt('meter_read_count') }} || '/' || {{ audit_txt('meter_count') }} || ' ('
    || case
        when meter_count > 0 then {{ audit_num('100.0 * meter_read_count / meter_count') }} || '%'
        else '无在用结算表'
    end
    || ', 要求 ≥ ' || {{ audit_num(setting('completeness_min_share') ~ ' * 100') }}
    || '%)' as evidence,
    cast(
        case when meter_count > 0 then 1.0 * meter_read_count / meter_count end
        as {{ audit_type_double() }}
    )
        as metric_value,
    cast({{ setting('completeness_min_share') }} as {{ audit_type_double() }}) as threshold_value
from loss
