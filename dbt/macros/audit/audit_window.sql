{#- The run window of the audit models (dbt vars start_date / end_date, the export days
    Dagster passes for a run) and the days spine every daily rule is computed over. -#}

{% macro audit_start_date() -%}
    cast('{{ var("start_date") }}' as date)
{%- endmacro %}

{% macro audit_end_date() -%}
    cast('{{ var("end_date") }}' as date)
{%- endmacro %}

{#- One row per day D of the window: detected_date. Portable (dbt.date_spine). -#}
{% macro audit_days() -%}
    select distinct cast(date_day as date) as detected_date
    from (
        {{ dbt.date_spine('day', audit_start_date(), dbt.dateadd('day', 1, audit_end_date())) }}
    ) as spine
{%- endmacro %}

{#- Snapshot semantics (docs/architecture.md): the archive as of day D. -#}
{% macro as_of(day_expr, alias) -%}
    {{ day_expr }} between {{ alias }}.snapshot_date and {{ alias }}.valid_to_date
{%- endmacro %}

{#- The days of the window on which a snapshot table has an archive at all (some
    snapshot delivered on or before D). Cross-system rules compare two systems only on
    days both archives exist, so a system that has not delivered yet is "unavailable",
    not "everything missing". -#}
{% macro archive_days(snapshot_relation, days='days') -%}
    select d.detected_date
    from {{ days }} as d
    inner join (
        select distinct snapshot_date, valid_to_date from {{ snapshot_relation }}
    ) as s
        on {{ as_of('d.detected_date', 's') }}
{%- endmacro %}

{#- pre_hook of the daily incremental models: delete the window's days first, so a day
    whose findings all disappeared (a fix in a source system) is emptied too;
    delete+insert on detected_date alone only replaces days that still have rows. -#}
{% macro audit_clear_window(day_column='detected_date') -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is not none and not should_full_refresh() -%}
        delete from {{ this }} where {{ day_column }} between {{ audit_start_date() }} and {{ audit_end_date() }}
    {%- else -%}
        select 1 as nothing_to_clear
    {%- endif -%}
{%- endmacro %}
