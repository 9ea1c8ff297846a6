{{ config(**audit_rule_config()) }}
{#- M07 计量异常事件: on day D, an acquisition event (E_EVENT) with an EVENT_CODE of
    rule_event_codes('M07') (ERC12 电能表时间超差, ERC27 示度下降, ERC29 飞走, ERC30 停走;
    macros/audit/metering_events.sql) that started on D-(n-1) .. D, n = metering_event_days,
    on the data point (DATA_ID) of an active settlement metering point (C_MP
    USAGE_TYPE_CODE '01', STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE '1'),
    all as of D. DATA_ID -> MP as int_metering_points_daily maps readings (E_DATA_MP.MP_ID,
    the MP's lowest DATA_ID). Terminal-level events (no DATA_ID) and other codes (e.g. ERC14
    停电) are not findings. Each event in its state as known on D (END_TIME delivered later
    shows as 未恢复 on D). One finding per customer and day, listing every such event.
    Bounded: reads the event deliveries exported on first_day-(n-1) .. last_day only, and
    the window's days of int_metering_points_daily (date literals on an incremental run);
    no deduplication of the event history. -#}
{%- set first_day = date_literal(audit_start_date()) if is_incremental() else audit_start_date() %}
{%- set last_day = audit_end_date() %}

with days as (
    {{ audit_days() }}
),

{{ events_started_in_window('events', 'M07', 'metering_event_days', first_day, last_day) }},

metering_points as (
    select
        data_date,
        mp_id,
        cons_no,
        cons_tg_id,
        cons_org_no,
        data_id,
        asset_no
    from {{ ref('int_metering_points_daily') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and meter_role = 'settlement'
        and mp_status_code = '1'
        and cons_status_code = '1'
        and data_id is not null
),

customer_events as (
    select
        e.detected_date,
        m.cons_no,
        m.cons_tg_id,
        m.cons_org_no,
        e.event_code,
        e.start_time,
        e.start_date,
        e.event_id,
        e.event_code || ' ' || {{ erc_event_name('e.event_code') }} || ': START_TIME='
        || {{ audit_txt('e.start_time') }} || ', END_TIME='
        || coalesce(cast(e.end_time as {{ dbt.type_string() }}), '未恢复')
        || ', EVENT_DESC=' || {{ audit_txt('e.event_desc') }}
        || ' (E_EVENT.EVENT_ID=' || e.event_id || ', DATA_ID=' || e.data_id
        || ', 终端 ' || {{ audit_txt('e.tmnl_asset_no') }} || '; 计量点 MP_ID=' || m.mp_id
        || ', 电能表 ASSET_NO=' || {{ audit_txt('m.asset_no') }} || ')' as event_text
    from events as e
    inner join metering_points as m
        on m.data_date = e.detected_date
        and m.data_id = e.data_id
)

select
    detected_date,
    cons_tg_id as tg_id,
    cons_org_no as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M07' as problem_code,
    {{ dbt.listagg('event_text', "'; '", 'order by start_time, event_id') }}
    || ' [近 ' || {{ audit_txt(setting('metering_event_days', 'integer')) }} || ' 天内发生]' as evidence,
    -- days since the newest of the customer's events started (fires while < the window)
    cast(
        {{ dbt.datediff('max(start_date)', 'detected_date', 'day') }}  -- noqa: LT05
        as {{ audit_type_double() }}
    ) as metric_value,
    cast({{ setting('metering_event_days') }} as {{ audit_type_double() }}) as threshold_value
from customer_events
group by detected_date, cons_no, cons_tg_id, cons_org_no
