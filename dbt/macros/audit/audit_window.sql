{#- The run window of the audit models (dbt vars start_date / end_date, the export days
    Dagster passes for a run) and the days spine every daily rule is computed over. -#}

{#- The first day the audit models (re)compute: the window's start_date, or earlier when
    delta rows delivered in the window reach back (recompute_from_date, macros/run_window:
    a late back-filled reading of D-k changes the loss of D-k, so L01-L03 of D-k, and
    with them the history, are recomputed with marts.area_daily_loss). -#}
{#- A model built from snapshot archives only (the archive rules, the archives as of D) sets
    `meta: {recompute_late_data: false}` (audit_daily_config(recompute_late_data=false)):
    a late reading or meter change does not change the archive of an earlier day, so such a
    model computes the window's own export days only. At city size a daily run whose
    readings reach back three days would otherwise rebuild three days of every 2 M-row
    archive comparison. -#}
{% macro audit_start_date() -%}
    {%- if model_recomputes_late_data() -%}
    least({{ window_start_date() }}, {{ recompute_from_date() }})
    {%- else -%}
    {{ window_start_date() }}
    {%- endif -%}
{%- endmacro %}

{% macro audit_end_date() -%}
    {{ window_end_date() }}
{%- endmacro %}

{#- One row per day D of the window (audit_start_date() .. end_date): detected_date.
    Portable, and with no compile-time query (a spine of up to 10,000 days from digits),
    so it also renders inside dbt unit tests. -#}
{% macro audit_days() -%}
    select cast({{ dbt.dateadd('day', 'offsets.day_offset', audit_start_date()) }} as date) as detected_date
    from (
        select d1.digit + 10 * d2.digit + 100 * d3.digit + 1000 * d4.digit as day_offset
        from {{ audit_digits() }} as d1
        cross join {{ audit_digits() }} as d2
        cross join {{ audit_digits() }} as d3
        cross join {{ audit_digits() }} as d4
    ) as offsets
    where offsets.day_offset <= {{ dbt.datediff(audit_start_date(), audit_end_date(), 'day') }}
{%- endmacro %}

{% macro audit_digits() -%}
    (
        select 0 as digit union all select 1 union all select 2 union all select 3
        union all select 4 union all select 5 union all select 6 union all select 7
        union all select 8 union all select 9
    )
{%- endmacro %}

{#- The days of the window on which a snapshot table has an archive at all (some
    snapshot delivered on or before D). Cross-system rules compare two systems only on
    days both archives exist, so a system that has not delivered yet is "unavailable",
    not "everything missing". -#}
{% macro archive_days(snapshot_model, days='days') -%}
    select d.detected_date
    from {{ days }} as d
    inner join (
        select distinct snapshot_date, valid_to_date from {{ archive_rows(snapshot_model) }} as a
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
