{{ config(**audit_daily_config('detected_date')) }}
{#- 问题历史: every finding of every day (audit.findings_daily), with the fingerprint of
    the settings that produced it. Incremental by detected_date: a run replaces exactly
    its window's days. -#}
with findings as (
    select *
    from {{ ref('findings_daily') }}
    where detected_date between {{ audit_start_date() }} and {{ audit_end_date() }}
)

select
    cast(detected_date as date) as detected_date,
    cast(tg_id as {{ dbt.type_string() }}) as tg_id,
    cast(org_no as {{ dbt.type_string() }}) as org_no,
    cast(cons_no as {{ dbt.type_string() }}) as cons_no,
    cast(app_no as {{ dbt.type_string() }}) as app_no,
    cast(problem_code as {{ dbt.type_string() }}) as problem_code,
    cast(finding_key as {{ dbt.type_string() }}) as finding_key,
    cast(evidence as {{ dbt.type_string() }}) as evidence,
    cast(metric_value as {{ audit_type_double() }}) as metric_value,
    cast(threshold_value as {{ audit_type_double() }}) as threshold_value,
    cast({{ audit_settings_fingerprint() }} as {{ dbt.type_string() }}) as settings_fingerprint
from findings
