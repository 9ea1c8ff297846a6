{#- Small helpers of the archive comparisons (rules A01-A07 and the 营配贯通 / 短信通 KPI
    objects). The comparisons themselves are intermediate models, computed once per run for
    the audit window's days: models/intermediate/archives (int_customer_areas_daily,
    int_area_transformer_mappings_daily, int_mp_meter_archives_daily,
    int_customer_contacts_daily), so a rule and its indicator can never disagree. -#}

{#- Text helpers for evidence strings. -#}
{% macro audit_txt(expr) -%}
    coalesce(cast({{ expr }} as {{ dbt.type_string() }}), '空')
{%- endmacro %}

{% macro audit_num(expr, digits=2) -%}
    coalesce(cast(round(cast({{ expr }} as {{ audit_type_double() }}), {{ digits }}) as {{ dbt.type_string() }}), '空')
{%- endmacro %}

{#- Day D -> the snapshot of an archive in effect on D, from the archive's rows (a CTE over
    archive_rows(), or a relation): (detected_date, snapshot_date), one row per day on
    which the archive exists. snapshot_rows() derives the validity per delivered snapshot,
    not per key, so every row as of D has this snapshot_date: a model joins the rows to
    the days on `rows.snapshot_date = map.snapshot_date` (a hash join on one equality)
    instead of a range join of every row, and the days of the map are the days the
    archive exists (archive_days() without a second read of the staging view). -#}
{% macro archive_snapshot_days(rows, days='days') -%}
    select distinct d.detected_date, s.snapshot_date
    from {{ days }} as d
    inner join (
        select distinct r.snapshot_date, r.valid_to_date from {{ rows }} as r
    ) as s
        on {{ as_of('d.detected_date', 's') }}
{%- endmacro %}

{#- The audit window's days (audit_start_date() .. audit_end_date()) of a day-keyed model:
    the rules read the archive models (models/intermediate/archives), which keep every
    day computed so far, for their own days. The first day is rendered as a date literal
    (date_literal: looked up once when the model is compiled), so the scan skips the other
    days' row groups. -#}
{% macro in_audit_window(day_column='detected_date') -%}
    {{ day_column }} between {{ date_literal(audit_start_date()) }} and {{ audit_end_date() }}
{%- endmacro %}
