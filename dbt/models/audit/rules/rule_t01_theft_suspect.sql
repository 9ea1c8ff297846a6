{{ config(**audit_rule_config()) }}
{#- T01 窃电嫌疑: an event ERC9 电流回路异常, ERC10 电压回路异常, ERC37 电能表开表盖 or ERC38
    电能表开端钮盒 of the customer's meter that started on day E in D-(theft_event_days-1)..D,
    followed by a drop of the metered energy:
      before = mean daily forward energy of E-theft_before_days .. E-1
      after  = mean daily forward energy of E+1 .. E+theft_after_days
    (means over the days with a computable energy of int_meter_energy_daily); fires when
    before > 0 and after < theft_drop_share x before. The after-window must be complete
    (D >= E+theft_after_days) and the whole baseline must lie in the data
    (E-theft_before_days >= the first computable day), so with the defaults the rule fires
    on D in [E+7, E+13].
    Event -> customer: E_EVENT.DATA_ID -> the metering point whose acquisition data point
    (E_DATA_MP, the lowest DATA_ID of the MP, the one its energy is read from) it is on day
    E; the finding needs, on D, an active settlement MP (C_MP USAGE_TYPE_CODE '01',
    STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE '1') and names the
    customer's area C_CONS.TG_ID as of D. Terminal events (no DATA_ID) are not findings.
    Several qualifying events of one customer on one day: one finding, the latest event.

    Each event in its state as known on D (END_TIME delivered after D shows as 未恢复 on D),
    through events_started_in_window (macros/audit/metering_events.sql, shared with M07),
    so a daily run and a rebuild of the same day agree.

    Bounded cost: the window's days D need the event deliveries exported from
    window start-(theft_event_days-1) (an event is never delivered before it starts) and
    the energies from window start-(theft_event_days-1)-theft_before_days (27 days back
    with the defaults). On an incremental run these bounds (and the first computable day)
    are evaluated first and written into the SQL as date literals, so DuckDB only scans
    those days of int_meter_energy_daily and of the raw event deliveries; a daily run
    reads 28 days of energy and two weeks of events, whatever the history. -#}

{%- set window_from = audit_start_date() %}
{%- set window_to = audit_end_date() %}
{%- set energy_from = add_days(
        '(1 - ' ~ setting('theft_event_days') ~ ' - ' ~ setting('theft_before_days') ~ ')',
        window_from) %}
{%- set first_day = first_computable_date(from_raw=is_incremental()) %}
{%- if is_incremental() %}
    {%- set window_from = date_literal(window_from) %}
    {%- set window_to = date_literal(window_to) %}
    {%- set energy_from = date_literal(energy_from) %}
    {%- set first_day = date_literal(first_day) %}
{%- endif %}

with days as (
    {{ audit_days() }}
),

-- per day D the events of rule_event_codes('T01') with a DATA_ID started on D-13 .. D, in
-- their state as known on D (macros/audit/metering_events.sql, shared with M07)
{{ events_started_in_window('events', 'T01', 'theft_event_days', window_from, window_to) }},

settings as (
    select
        {{ setting('theft_event_days') }} as event_days,
        {{ setting('theft_before_days') }} as before_days,
        {{ setting('theft_after_days') }} as after_days,
        {{ setting('theft_drop_share') }} as drop_share
),

-- the bounded read of the daily energies: every metering point, the days the window needs
energy_days as (
    select
        data_date,
        mp_id,
        data_id,
        cons_no,
        cons_tg_id,
        cons_org_no,
        cons_status_code,
        mp_status_code,
        meter_role,
        forward_kwh,
        is_computable
    from {{ ref('int_meter_energy_daily') }}
    where data_date between {{ energy_from }} and {{ window_to }}
),

-- the event's metering point: the MP read through that data point on the event day
event_points as (
    select distinct
        e.event_id,
        e.data_id,
        e.start_date as event_date,
        en.mp_id
    from events as e
    inner join energy_days as en
        on en.data_date = e.start_date
        and en.data_id = e.data_id
),

event_windows as (
    select
        ep.event_id,
        ep.data_id,
        ep.mp_id,
        ep.event_date,
        count(case when en.is_computable
            and {{ dbt.datediff('ep.event_date', 'en.data_date', 'day') }} < 0  -- noqa: LT05
            then 1 end) as before_days_computable,
        {% call decimal_mean() %}case when en.is_computable
            and {{ dbt.datediff('ep.event_date', 'en.data_date', 'day') }} < 0  -- noqa: LT05
            then en.forward_kwh end{% endcall %} as before_mean_kwh,
        count(case when en.is_computable
            and {{ dbt.datediff('ep.event_date', 'en.data_date', 'day') }} > 0  -- noqa: LT05
            then 1 end) as after_days_computable,
        {% call decimal_mean() %}case when en.is_computable
            and {{ dbt.datediff('ep.event_date', 'en.data_date', 'day') }} > 0  -- noqa: LT05
            then en.forward_kwh end{% endcall %} as after_mean_kwh
    from event_points as ep
    cross join settings as s
    inner join energy_days as en
        on en.mp_id = ep.mp_id
        and {{ dbt.datediff('ep.event_date', 'en.data_date', 'day') }}
            between -s.before_days and s.after_days
    group by ep.event_id, ep.data_id, ep.mp_id, ep.event_date
),

candidates as (
    select
        e.detected_date,
        en.cons_tg_id as tg_id,
        en.cons_org_no as org_no,
        en.cons_no,
        e.event_id,
        e.data_id,
        e.event_code,
        e.start_time,
        e.end_time,
        e.event_desc,
        w.mp_id,
        w.event_date,
        w.before_days_computable,
        w.before_mean_kwh,
        w.after_days_computable,
        w.after_mean_kwh,
        cast(w.after_mean_kwh as double) / w.before_mean_kwh as after_share,
        s.before_days,
        s.after_days,
        s.drop_share,
        row_number() over (
            partition by e.detected_date, en.cons_no
            order by e.start_time desc, e.event_id desc
        ) as event_rank
    from events as e
    cross join settings as s
    inner join event_windows as w
        on w.event_id = e.event_id
        and w.data_id = e.data_id
        and w.event_date = e.start_date
    -- the customer on D: an active settlement MP of an active customer
    inner join energy_days as en
        on en.data_date = e.detected_date
        and en.mp_id = w.mp_id
    -- the after-window is complete (the macro keeps events started on D-(event_days-1) .. D)
    where {{ dbt.datediff('w.event_date', 'e.detected_date', 'day') }}  -- noqa: LT05
        >= s.after_days
        and en.meter_role = 'settlement'
        and en.mp_status_code = '1'
        and en.cons_status_code = '1'
        -- the whole baseline lies in the data
        and {{ add_days('-s.before_days', 'w.event_date') }} >= {{ first_day }}
        and w.before_mean_kwh > 0
        and w.after_mean_kwh < s.drop_share * w.before_mean_kwh
)

select
    detected_date,
    tg_id,
    org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'T01' as problem_code,
    event_code || ' ' || {{ erc_event_name('event_code') }}
    || ' (E_EVENT EVENT_ID=' || event_id || ', DATA_ID=' || data_id
    || ', START_TIME=' || {{ audit_txt('start_time') }}
    || ', END_TIME=' || coalesce(cast(end_time as {{ dbt.type_string() }}), '未恢复')
    || ', EVENT_DESC=' || {{ audit_txt('event_desc') }}
    || '); 计量点 MP_ID=' || mp_id || ' 日均正向电量 (E_MP_DAY_READ.PAP_R 差 x C_METER.T_FACTOR): 事件前 '
    || {{ audit_txt(add_days('-before_days', 'event_date')) }} || '..'
    || {{ audit_txt(add_days(-1, 'event_date')) }}
    || ' ' || {{ audit_num('before_mean_kwh') }} || ' kWh (可算 '
    || cast(before_days_computable as {{ dbt.type_string() }}) || ' 天), 事件后 '
    || {{ audit_txt(add_days(1, 'event_date')) }} || '..'
    || {{ audit_txt(add_days('after_days', 'event_date')) }}
    || ' ' || {{ audit_num('after_mean_kwh') }} || ' kWh (可算 '
    || cast(after_days_computable as {{ dbt.type_string() }}) || ' 天), 为事件前的 '
    || {{ audit_num('after_share * 100', 1) }} || '% < ' || {{ audit_num('drop_share * 100', 1) }}
    || '%'
        as evidence,
    cast(after_share as {{ audit_type_double() }}) as metric_value,
    cast(drop_share as {{ audit_type_double() }}) as threshold_value
from candidates
where event_rank = 1
