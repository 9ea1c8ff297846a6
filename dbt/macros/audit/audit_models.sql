{#- Configuration shared by the daily audit models and the discovery of the rule models. -#}

{#- Every rule model: `{{ config(**audit_rule_config()) }}`. Incremental by detected_date
    (delete+insert); the pre_hook first empties the window's days, so a finding that
    disappeared (fixed in the source system) does not survive in the table. -#}
{% macro audit_rule_config(recompute_late_data=true) -%}
    {{ return(audit_daily_config('detected_date', ['audit_rule'], recompute_late_data)) }}
{%- endmacro %}

{#- recompute_late_data=false: the model reads snapshot archives only and computes the
    window's export days, not the earlier days late readings reach back to
    (audit_start_date()). -#}
{% macro audit_daily_config(day_column='detected_date', tags=[], recompute_late_data=true) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': incremental_strategy_for('delete+insert'),
        'unique_key': day_column,
        'on_schema_change': 'append_new_columns',
        'tags': tags,
        'meta': {'recompute_late_data': recompute_late_data},
        'pre_hook': "{{ audit_clear_window('" ~ day_column ~ "') }}",
    }) }}
{%- endmacro %}

{#- The rule models: every model of this project tagged `audit_rule`, found in the dbt
    graph (execution time only; at parse time the graph is empty, which is why
    findings_daily also carries `-- depends_on:` hints). -#}
{% macro audit_rule_models() -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
              if node.resource_type == 'model'
              and node.package_name == project_name
              and 'audit_rule' in node.tags -%}
            {%- do names.append(node.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names | sort) }}
{%- endmacro %}

{#- The columns every rule model returns, in this order (findings_daily selects exactly
    these from each rule). -#}
{% macro audit_finding_columns() -%}
    {{ return(['detected_date', 'tg_id', 'org_no', 'cons_no', 'app_no', 'problem_code',
               'evidence', 'metric_value', 'threshold_value']) }}
{%- endmacro %}

{#- One finding's identity across days: the same problem on the same application,
    customer or (for area findings) area. A customer finding follows the customer when
    its area changes. -#}
{% macro audit_finding_key(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {{ p }}problem_code || '|' || coalesce({{ p }}app_no, {{ p }}cons_no, {{ p }}tg_id, {{ p }}org_no, '')
{%- endmacro %}

{#- A short fingerprint of the settings rows (name=value, ordered): recorded with every
    finding and published with the settings, so a published table says which settings
    produced it. -#}
{% macro audit_settings_fingerprint() -%}
    (
        select substr({{ dbt.hash(dbt.listagg("setting_name || '=' || setting_value", "';'", "order by setting_name")) }}, 1, 12)
        from {{ ref('audit_settings') }}
    )
{%- endmacro %}

{#- The chain of units (O_ORG as of a day): for each org_no the 供电所 / 县公司 /
    地市公司 above it (or itself), by ORG_TYPE 04 / 03 / 02, with names. Emits a CTE
    `name(detected_date, org_no, org_name, org_type, station_no, station_name,
    county_no, county_name, city_no, city_name)` over the CTE `days`, whose first day is
    from_date (archive_rows). -#}
{% macro org_units(name='org_units', days='days', from_date='audit_start') -%}
{{ name }}__orgs as (
    select d.detected_date, o.org_no, o.org_name, o.p_org_no, o.org_type
    from {{ days }} as d
    inner join {{ archive_rows('stg_marketing__orgs', from_date) }} as o
        on {{ as_of('d.detected_date', 'o') }}
),

{{ name }} as (
    select
        o0.detected_date,
        o0.org_no,
        o0.org_name,
        o0.org_type,
        case
            when o0.org_type = '04' then o0.org_no
            when o1.org_type = '04' then o1.org_no
            when o2.org_type = '04' then o2.org_no
        end as station_no,
        case
            when o0.org_type = '04' then o0.org_name
            when o1.org_type = '04' then o1.org_name
            when o2.org_type = '04' then o2.org_name
        end as station_name,
        case
            when o0.org_type = '03' then o0.org_no
            when o1.org_type = '03' then o1.org_no
            when o2.org_type = '03' then o2.org_no
        end as county_no,
        case
            when o0.org_type = '03' then o0.org_name
            when o1.org_type = '03' then o1.org_name
            when o2.org_type = '03' then o2.org_name
        end as county_name,
        case
            when o0.org_type = '02' then o0.org_no
            when o1.org_type = '02' then o1.org_no
            when o2.org_type = '02' then o2.org_no
        end as city_no,
        case
            when o0.org_type = '02' then o0.org_name
            when o1.org_type = '02' then o1.org_name
            when o2.org_type = '02' then o2.org_name
        end as city_name
    from {{ name }}__orgs as o0
    left join {{ name }}__orgs as o1
        on o1.detected_date = o0.detected_date
        and o1.org_no = o0.p_org_no
    left join {{ name }}__orgs as o2
        on o2.detected_date = o0.detected_date
        and o2.org_no = o1.p_org_no
)
{%- endmacro %}

{#- An 8-byte float (audit_type_double() is a 4-byte FLOAT on DuckDB). `double` is understood
    by DuckDB, Spark/Databricks, Trino and BigQuery-compatible dialects alike. -#}
{% macro audit_type_double() -%}
    {{ return(adapter.dispatch('audit_type_double', 'gridaudit')()) }}
{%- endmacro %}

{% macro default__audit_type_double() -%}double{%- endmacro %}

{% macro postgres__audit_type_double() -%}double precision{%- endmacro %}
