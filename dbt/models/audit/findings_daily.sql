{{ config(**audit_daily_config('detected_date')) }}
{#- Every finding of every rule for the window's days: the union of all models tagged
    `audit_rule`, discovered through the dbt graph (macro audit_rule_models).

    Adding a rule = one model in models/audit/rules/ (tag via audit_rule_config()) + one
    row in seeds/dim_problem_code.csv + one `depends_on` hint below. The hint is needed
    because dbt fills the graph only after parsing; forget it and dbt stops with
    "dbt was unable to infer all dependencies for the model findings_daily" naming the
    exact line to add, and tests/test_audit_rules.py checks the list against the graph. -#}
{{ run_window_depends_on() }}
-- depends_on: {{ ref('rule_l01_high_loss') }}
-- depends_on: {{ ref('rule_l02_negative_loss') }}
-- depends_on: {{ ref('rule_l03_uncomputable') }}
-- depends_on: {{ ref('rule_a01_customer_area_mismatch') }}
-- depends_on: {{ ref('rule_a02_area_unmapped') }}
-- depends_on: {{ ref('rule_a03_area_capacity_mismatch') }}
-- depends_on: {{ ref('rule_a04_meter_asset_mismatch') }}
-- depends_on: {{ ref('rule_a05_multiplier_mismatch') }}
-- depends_on: {{ ref('rule_a06_acquisition_not_covered') }}
-- depends_on: {{ ref('rule_a07_contact_mobile') }}
-- depends_on: {{ ref('rule_a08_contract_missing') }}
-- depends_on: {{ ref('rule_a09_price_category') }}
-- depends_on: {{ ref('rule_m01_read_failure') }}
-- depends_on: {{ ref('rule_m02_zero_energy') }}
-- depends_on: {{ ref('rule_m03_register_backwards') }}
-- depends_on: {{ ref('rule_m04_meter_runaway') }}
-- depends_on: {{ ref('rule_m05_register_unbalanced') }}
-- depends_on: {{ ref('rule_m06_energy_jump') }}
-- depends_on: {{ ref('rule_m07_metering_event') }}
-- depends_on: {{ ref('rule_t01_theft_suspect') }}
-- depends_on: {{ ref('rule_b01_overdue_receivable') }}
-- depends_on: {{ ref('rule_b02_billing_mismatch') }}
-- depends_on: {{ ref('rule_e01_expansion_overdue') }}
{%- set rule_models = audit_rule_models() %}

with findings as (
{%- for rule_model in rule_models %}
    select
        cast(detected_date as date) as detected_date,
        cast(tg_id as {{ dbt.type_string() }}) as tg_id,
        cast(org_no as {{ dbt.type_string() }}) as org_no,
        cast(cons_no as {{ dbt.type_string() }}) as cons_no,
        cast(app_no as {{ dbt.type_string() }}) as app_no,
        cast(problem_code as {{ dbt.type_string() }}) as problem_code,
        cast(evidence as {{ dbt.type_string() }}) as evidence,
        cast(metric_value as {{ audit_type_double() }}) as metric_value,
        cast(threshold_value as {{ audit_type_double() }}) as threshold_value,
        '{{ rule_model }}' as rule_model
    from {{ ref(rule_model) }}
    where detected_date between {{ audit_start_date() }} and {{ audit_end_date() }}
    {% if not loop.last %}union all{% endif %}
{%- else %}
    select
        cast(null as date) as detected_date,
        cast(null as {{ dbt.type_string() }}) as tg_id,
        cast(null as {{ dbt.type_string() }}) as org_no,
        cast(null as {{ dbt.type_string() }}) as cons_no,
        cast(null as {{ dbt.type_string() }}) as app_no,
        cast(null as {{ dbt.type_string() }}) as problem_code,
        cast(null as {{ dbt.type_string() }}) as evidence,
        cast(null as {{ audit_type_double() }}) as metric_value,
        cast(null as {{ audit_type_double() }}) as threshold_value,
        cast(null as {{ dbt.type_string() }}) as rule_model
    where 1 = 0
{%- endfor %}
)

select
    detected_date,
    tg_id,
    org_no,
    cons_no,
    app_no,
    problem_code,
    {{ audit_finding_key() }} as finding_key,
    evidence,
    metric_value,
    threshold_value,
    rule_model
from findings
