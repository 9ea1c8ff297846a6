{#- The run window (docs/architecture.md "Run window and incrementality").

    Every run covers the export days [var start_date, var end_date]. Models that grow with
    days are incremental by day (delete+insert on data_date) and, on an incremental run,
    recompute the days run_from_date() .. run_to_date(); on a full refresh (or the first
    run) they build every day from the first computable day to the last loaded day.

    Day conventions:
      first loaded day      the earliest export day of the daily readings (E_MP_DAY_READ)
      first computable day  first loaded day + 1 (a day's energy needs the reading of D-1)
      last loaded day       the latest export day of the daily readings

    On an incremental run the two bounds are queried once per use and rendered as date
    literals, so the database can push them into the scans of the readings (a daily run
    reads the readings of D and D-1, not the history). On a full refresh they stay SQL
    expressions (everything is read anyway; dbt unit tests can mock their inputs).
-#}

{#- A bound of the run's export days, 'YYYY-MM-DD': the environment variable
    GRIDAUDIT_RUN_START_DATE / GRIDAUDIT_RUN_END_DATE when set (Dagster sets them), else the
    dbt var start_date / end_date (a hand-run `dbt build --vars ...`). Dagster uses the
    environment because dbt's partial parsing is void whenever --vars change, and they change
    every day (a full parse: ~10 s a run); the variables are read only when executing, so
    parsing never records them. -#}
{% macro run_window_day(name) -%}
    {%- set from_environment = env_var('GRIDAUDIT_RUN_' ~ name | upper, '') if execute else '' -%}
    {{- return(from_environment or var(name)) -}}
{%- endmacro %}

{% macro window_start_date() -%}
    cast('{{ run_window_day("start_date") }}' as date)
{%- endmacro %}

{% macro window_end_date() -%}
    cast('{{ run_window_day("end_date") }}' as date)
{%- endmacro %}

{#- The delta rows delivered, before any deduplication, for the run-window look-ups: the raw
    table (filtered on _export_date, a cheap scan of the window's export days; the staging
    views rank the whole history first). Inside a dbt unit test the staging view, which the
    tests mock (their rows carry _export_date too). The staging view is ref()'d in any case,
    so every model keeps its declared dependency on it. -#}
{% macro delivered_rows(staging_model, source_name, table_name) -%}
    {%- set staging = ref(staging_model) -%}
    {%- if in_unit_test() -%}
        {{ staging }}
    {%- else -%}
        {{ source(source_name, table_name) }}
    {%- endif -%}
{%- endmacro %}

{% macro in_unit_test() -%}
    {{ return(model is defined and model is not none and model.resource_type == 'unit_test') }}
{%- endmacro %}

{#- The earlier of start_date and the earliest DATA_DATE / CHG_DATE among delta rows
    delivered in the window: a late back-filled reading of D-k changes the energy of D-k and
    D-k+1, a late meter change of D-k the energy of D-k; both are recomputed.
    Read from the delivered rows (delivered_rows), filtered on _export_date before any
    deduplication: the rows delivered in the window are all that can change a day,
    whichever delivery of their key is final (a daily run scans one export day, not the
    history). -#}
{% macro recompute_from_date() -%}
    least(
        {{ window_start_date() }},
        coalesce(
            (
                select min(late_reads.data_date)
                from {{ delivered_rows('stg_acquisition__day_reads', 'raw_acquisition', 'E_MP_DAY_READ') }} as late_reads
                where late_reads._export_date between {{ window_start_date() }} and {{ window_end_date() }}
            ),
            {{ window_start_date() }}
        ),
        coalesce(
            (
                select min(late_changes.chg_date)
                from {{ delivered_rows('stg_marketing__meter_changes', 'raw_marketing', 'C_METER_CHG') }} as late_changes
                where late_changes._export_date between {{ window_start_date() }} and {{ window_end_date() }}
            ),
            {{ window_start_date() }}
        )
    )
{%- endmacro %}

{#- First computable day (first loaded day + 1) and last loaded day. from_raw=true reads the
    export days of the raw delivered rows (a scan of one date column, no deduplication; the
    latest export day is the same as the staging view's, the earliest is the first delivered
    day) - what an incremental run uses. Otherwise the staging view (a full refresh reads
    everything anyway, and dbt unit tests mock the staging view). -#}
{% macro loaded_reads_relation(from_raw=false) -%}
    {%- if from_raw -%}
        {{ delivered_rows('stg_acquisition__day_reads', 'raw_acquisition', 'E_MP_DAY_READ') }}
    {%- else -%}
        {{ ref('stg_acquisition__day_reads') }}
    {%- endif -%}
{%- endmacro %}

{% macro first_computable_date(from_raw=false) -%}
    {{ add_days(1, "(select min(loaded_reads._export_date) from " ~ loaded_reads_relation(from_raw) ~ " as loaded_reads)") }}
{%- endmacro %}

{% macro last_loaded_date(from_raw=false) -%}
    (select max(loaded_reads._export_date) from {{ loaded_reads_relation(from_raw) }} as loaded_reads)
{%- endmacro %}

{#- A date SQL expression evaluated now and rendered as a date literal (NULL if empty).
    Inside a dbt unit test the expression itself (its inputs are the test's mocked rows). -#}
{% macro date_literal(date_expression) -%}
    {%- if in_unit_test() -%}
        ({{ date_expression }})
    {%- elif execute -%}
        {%- set value = run_query('select ' ~ date_expression).columns[0].values()[0] -%}
        {%- if value is none -%}cast(null as date){%- else -%}cast('{{ value }}' as date){%- endif -%}
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}

{#- Whether the current model recomputes the earlier days that delta rows delivered in the
    window reach back to (recompute_from_date): true unless the model's config sets
    `meta: {recompute_late_data: false}` (a model built from snapshot archives only, whose
    earlier days no late reading can change; see audit_start_date()). -#}
{% macro model_recomputes_late_data() -%}
    {%- set model_meta = (config.get('meta') or {}) if config is defined else {} -%}
    {{ return(model_meta.get('recompute_late_data', true)) }}
{%- endmacro %}

{#- First and last day (data_date) the current model builds in this run. -#}
{% macro run_from_date() -%}
    {%- if is_incremental() -%}
        {%- set from_date = recompute_from_date() if model_recomputes_late_data() else window_start_date() -%}
        {{ date_literal('greatest(' ~ from_date ~ ', ' ~ first_computable_date(from_raw=true) ~ ')') }}
    {%- else -%}
        {{ first_computable_date() }}
    {%- endif -%}
{%- endmacro %}

{% macro run_to_date() -%}
    {%- if is_incremental() -%}
        {{ window_end_date() }}
    {%- else -%}
        {{ last_loaded_date() }}
    {%- endif -%}
{%- endmacro %}

{#- Filter for models downstream of a day spine: on an incremental run only the days of the
    run (lookback_days earlier for inputs that need them, e.g. the readings of D-1); on a
    full refresh every day the upstream model has. -#}
{% macro in_run_window(day_column, lookback_days=0) -%}
    {%- if is_incremental() -%}
        {{ day_column }} between {{ add_days(-lookback_days, run_from_date()) }} and {{ run_to_date() }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Declares the relations the run-window macros read, so dbt (and Dagster's lineage) knows
    the dependency even though is_incremental() is false while dbt parses: the staging
    views (full refresh) and the raw delta tables (incremental runs). Put it at the top of
    every model that uses run_from_date() / in_run_window(). -#}
{% macro run_window_depends_on() -%}
    -- depends_on: {{ ref('stg_acquisition__day_reads') }}, {{ ref('stg_marketing__meter_changes') }}
    {%- if not in_unit_test() %}
    -- depends_on: {{ source('raw_acquisition', 'E_MP_DAY_READ') }}, {{ source('raw_marketing', 'C_METER_CHG') }}
    {%- endif %}
{%- endmacro %}
