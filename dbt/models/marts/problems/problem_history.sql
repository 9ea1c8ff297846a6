{{ config(**audit_daily_config('detected_date')) }}
{#- 问题历史: every finding of every day (audit.findings_daily), with the fingerprint of
    the settings that produced it and the finding's current unbroken run of consecutive
    days (first_detected_date, consecutive_days). Incremental by detected_date: a run
    replaces exactly its window's days.
    The run is carried, not recounted: a finding on the window's first day continues the
    run of the row it had on the day before the window (read from this table by a date
    literal); inside the window, consecutive days form islands (day number minus row
    number is constant). A daily run therefore reads one day of its own history, never all
    of it. Re-running an old window without the days after it leaves those later days'
    runs as they were: re-run up to the newest day. -#}
{%- set first_day = date_literal(audit_start_date()) %}
with findings as (
    select *
    from {{ ref('findings_daily') }}
    where detected_date between {{ audit_start_date() }} and {{ audit_end_date() }}
),

{#- a table written before the run columns existed carries nothing (the runs restart) -#}
{%- set carries_runs = is_incremental() and (in_unit_test() or 'first_detected_date' in
        (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)) %}
{% if carries_runs %}
carried as (
    select finding_key, first_detected_date, consecutive_days
    from {{ this }}
    where detected_date = {{ add_days(-1, first_day) }}
),
{%- else %}
carried as (
    select
        cast(null as {{ dbt.type_string() }}) as finding_key,
        cast(null as date) as first_detected_date,
        cast(null as {{ dbt.type_int() }}) as consecutive_days
    where 1 = 0
),
{%- endif %}

islands as (
    select
        f.*,
        {{ dbt.datediff(first_day, 'f.detected_date', 'day') }}
            - row_number() over (partition by f.finding_key order by f.detected_date) as island
    from findings as f
),

island_starts as (
    select
        islands.*,
        min(detected_date) over (partition by finding_key, island) as island_first_date
    from islands
),

runs as (
    select
        s.*,
        case
            when s.island_first_date = {{ first_day }} and c.first_detected_date is not null
                then c.first_detected_date
            else s.island_first_date
        end as first_detected_date
    from island_starts as s
    left join carried as c
        on c.finding_key = s.finding_key
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
    cast({{ audit_settings_fingerprint() }} as {{ dbt.type_string() }}) as settings_fingerprint,
    cast(first_detected_date as date) as first_detected_date,
    cast(
        {{ dbt.datediff('first_detected_date', 'detected_date', 'day') }} + 1  -- noqa: LT05
        as {{ dbt.type_int() }}
    ) as consecutive_days
from runs
