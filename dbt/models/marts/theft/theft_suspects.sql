{#- 窃电嫌疑排行: one row per active customer with a positive theft suspicion score as of
    the newest day of marts.area_daily_loss (as_of_date), so the inspection team can start
    at the top. Customers: an active settlement metering point (C_MP USAGE_TYPE_CODE '01',
    STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE '1') on as_of_date; area
    and unit C_CONS.TG_ID / ORG_NO as of that day.

    Windows (settings): recent = the last theft_score_recent_days days up to as_of_date,
    baseline = the theft_score_baseline_days days before them, events = the last
    theft_event_days days (as rule T01).

    Signals, each with its raw value and its points (weights and thresholds are settings
    theft_score_*; points = weight x a 0..1 strength, rounded to 0.01):
      event       theft events ERC9 / ERC10 / ERC37 / ERC38 of the customer's meter
                  (DATA_ID -> the MP read through that data point on the event day, as T01):
                  count, the latest code and time; event_points when any.
      drop        1 - recent mean / baseline mean of the daily energy (computable days not
                  above the plausible maximum, M04; the customer's settlement MPs summed, a
                  day usable when all are), when
                  the baseline mean >= theft_score_min_baseline_kwh; from
                  theft_score_drop_min_share on: drop_points x drop share.
      zero        recent days with a computable energy of 0 (both readings arrive: the
                  acquisition works but the meter registers nothing), when the baseline
                  mean >= theft_score_min_baseline_kwh; from theft_score_zero_min_days on:
                  zero_points x zero days / recent days.
      area loss   the area's mean loss rate (computable days of marts.area_daily_loss),
                  recent minus baseline, in percentage points; from
                  theft_score_loss_rise_min_pp on, and only together with an event, drop or
                  zero signal of the customer (an area signal alone would list every
                  customer of the area): loss_rise_points x min(1, rise / full rise).
      valley      the valley (PAP_R4 谷) share of the register advance, recent minus
                  baseline in percentage points (ratio of the sums over computable days
                  without exchange or roll-over, from int_day_reads_final): a change of the
                  night/day shape; from theft_score_valley_shift_min_pp on (either
                  direction): valley_points x min(1, |shift| / full shift).
    score = the sum of the points; rank over all customers and within the area (rank():
    ties share a rank).

    Bounded cost: the table is rebuilt on every run, but reads only the days it needs.
    as_of_date and the first day needed (the earlier of the baseline start and the event
    window start; the readings one day earlier) are evaluated first and written into the
    SQL as date literals, so DuckDB scans about three weeks of int_meter_energy_daily,
    int_day_reads_final and marts.area_daily_loss and the event deliveries exported in the
    event window, never the history. (Inside dbt unit tests, which mock these inputs, they stay SQL expressions.) -#}

{%- set as_of_expr = '(select max(data_date) from ' ~ ref('area_daily_loss') ~ ')' %}
{%- set recent_days = setting('theft_score_recent_days') %}
{%- set baseline_days = setting('theft_score_baseline_days') %}
{%- set energy_from_expr = 'least('
    ~ add_days('(1 - ' ~ recent_days ~ ' - ' ~ baseline_days ~ ')', as_of_expr) ~ ', '
    ~ add_days('(1 - ' ~ setting('theft_event_days') ~ ')', as_of_expr) ~ ')' %}
{%- set events_from_expr = add_days('(1 - ' ~ setting('theft_event_days') ~ ')', as_of_expr) %}
{%- if in_unit_test() %}
    {%- set as_of = as_of_expr %}
    {%- set energy_from = energy_from_expr %}
    {%- set events_from = events_from_expr %}
    {%- set reads_from = add_days(-1, energy_from_expr) %}
{%- else %}
    {%- set as_of = date_literal(as_of_expr) %}
    {%- set energy_from = date_literal(energy_from_expr) %}
    {%- set events_from = date_literal(events_from_expr) %}
    {%- set reads_from = date_literal(add_days(-1, energy_from_expr)) %}
{%- endif %}

with settings as (
    select
        {{ as_of }} as as_of_date,
        {{ recent_days }} as recent_days,
        {{ baseline_days }} as baseline_days,
        {{ setting('theft_event_days') }} as event_days,
        {{ setting('theft_score_min_baseline_kwh') }} as min_baseline_kwh,
        {{ setting('theft_score_event_points') }} as event_weight,
        {{ setting('theft_score_drop_min_share') }} as drop_min_share,
        {{ setting('theft_score_drop_points') }} as drop_weight,
        {{ setting('theft_score_loss_rise_min_pp') }} as loss_rise_min_pp,
        {{ setting('theft_score_loss_rise_full_pp') }} as loss_rise_full_pp,
        {{ setting('theft_score_loss_rise_points') }} as loss_rise_weight,
        {{ setting('theft_score_zero_min_days') }} as zero_min_days,
        {{ setting('theft_score_zero_points') }} as zero_weight,
        {{ setting('theft_score_valley_shift_min_pp') }} as valley_min_pp,
        {{ setting('theft_score_valley_shift_full_pp') }} as valley_full_pp,
        {{ setting('theft_score_valley_points') }} as valley_weight
),

-- the bounded read of the daily energies, with days_back = as_of_date - data_date
energy as (
    select
        e.data_date,
        {{ dbt.datediff('e.data_date', 's.as_of_date', 'day') }} as days_back,  -- noqa: LT05
        e.mp_id,
        e.data_id,
        e.cons_no,
        e.cons_tg_id,
        e.cons_org_no,
        e.cons_status_code,
        e.mp_status_code,
        e.meter_role,
        e.forward_kwh,
        e.is_computable,
        e.is_above_plausible_max,
        e.is_exchange_day,
        e.is_rollover
    from {{ ref('int_meter_energy_daily') }} as e
    cross join settings as s
    where e.data_date between {{ energy_from }} and {{ as_of }}
),

customer_points as (
    select
        e.mp_id,
        e.data_id,
        e.cons_no,
        e.cons_tg_id as tg_id,
        e.cons_org_no as org_no
    from energy as e
    where e.days_back = 0
        and e.meter_role = 'settlement'
        and e.mp_status_code = '1'
        and e.cons_status_code = '1'
),

customers as (
    select
        cons_no,
        min(tg_id) as tg_id,
        min(org_no) as org_no
    from customer_points
    group by cons_no
),

-- the customer's daily energy: its settlement MPs summed, usable when all of them are
-- computable and plausible (a runaway meter's day, M04, is no normal consumption)
customer_days as (
    select
        p.cons_no,
        e.days_back,
        sum(e.forward_kwh) as forward_kwh,
        min(
            case when e.is_computable and not e.is_above_plausible_max then 1 else 0 end
        ) as is_computable
    from customer_points as p
    inner join energy as e
        on e.mp_id = p.mp_id
    group by p.cons_no, e.days_back
),

energy_windows as (
    select
        d.cons_no,
        {% call decimal_mean() %}case when d.is_computable = 1
                and d.days_back between s.recent_days and s.recent_days + s.baseline_days - 1
            then d.forward_kwh end{% endcall %} as baseline_mean_kwh,
        {% call decimal_mean() %}case when d.is_computable = 1
                and d.days_back between 0 and s.recent_days - 1
            then d.forward_kwh end{% endcall %} as recent_mean_kwh,
        sum(case when d.is_computable = 1 and d.days_back between 0 and s.recent_days - 1
            then 1 else 0 end) as recent_read_days,
        sum(case when d.is_computable = 1 and d.days_back between 0 and s.recent_days - 1
            and d.forward_kwh = 0 then 1 else 0 end) as zero_energy_days
    from customer_days as d
    cross join settings as s
    group by d.cons_no
),

-- theft events (rule_event_codes('T01'), macros/audit/metering_events.sql) started in the
-- event window, each in its latest delivery up to as_of_date: the deliveries exported in
-- the window are all there can be (an event is never delivered before it starts)
event_deliveries as (
    select
        ev.event_id,
        ev.data_id,
        ev.event_code,
        ev.start_time,
        row_number() over (
            partition by ev.event_id order by ev._export_date desc, ev._line_number desc
        ) as delivery_rank
    from {{ delivered_rows('stg_acquisition__events', 'raw_acquisition', 'E_EVENT') }} as ev
    where ev._export_date between {{ events_from }} and {{ as_of }}
),

events as (
    select
        p.cons_no,
        ev.event_id,
        ev.event_code,
        ev.start_time,
        row_number() over (
            partition by p.cons_no order by ev.start_time desc, ev.event_id desc
        ) as event_rank
    from event_deliveries as ev
    -- the customer's meter: the MP read through the event's data point on the event day
    inner join energy as e
        on e.data_date = cast(ev.start_time as date)
        and e.data_id = ev.data_id
    inner join customer_points as p
        on p.mp_id = e.mp_id
    where ev.delivery_rank = 1
        and ev.data_id is not null
        and ev.event_code in (
            {%- for code in rule_event_codes('T01') %}
            '{{ code }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
        and cast(ev.start_time as date) between {{ events_from }} and {{ as_of }}
),

customer_events as (
    select
        cons_no,
        count(*) as event_count,
        max(case when event_rank = 1 then event_code end) as latest_event_code,
        max(case when event_rank = 1 then start_time end) as latest_event_time
    from events
    group by cons_no
),

-- the mean of DOUBLE rates taken in a DECIMAL (ratio_sum_type): a mean of doubles depends
-- on the order DuckDB's threads add them in, and the published file would change with it
area_loss as (
    select
        l.tg_id,
        avg(case when {{ dbt.datediff('l.data_date', 's.as_of_date', 'day') }}
                between s.recent_days and s.recent_days + s.baseline_days - 1
            then cast(l.loss_rate as {{ ratio_sum_type() }}) end) as baseline_loss_rate,
        avg(case when {{ dbt.datediff('l.data_date', 's.as_of_date', 'day') }}
                between 0 and s.recent_days - 1
            then cast(l.loss_rate as {{ ratio_sum_type() }}) end) as recent_loss_rate
    from {{ ref('area_daily_loss') }} as l
    cross join settings as s
    where l.data_date between {{ energy_from }} and {{ as_of }}
        and l.loss_status <> 'uncomputable'
    group by l.tg_id
),

area_names as (
    select tg_id, tg_name
    from {{ ref('area_daily_loss') }}
    where data_date = {{ as_of }}
),

-- each reading with the one of the day before (the same data point), so that the valley
-- share joins the energies on one equality key
day_reads as (
    select
        data_id,
        data_date,
        pap_r,
        pap_r4,
        lag(data_date) over (partition by data_id order by data_date) as previous_date,
        lag(pap_r) over (partition by data_id order by data_date) as previous_pap_r,
        lag(pap_r4) over (partition by data_id order by data_date) as previous_pap_r4
    from {{ ref('int_day_reads_final') }}
    where data_date between {{ reads_from }} and {{ as_of }}
),

-- register advances of the total and the valley register (the multiplier cancels out)
valley_days as (
    select
        p.cons_no,
        e.days_back,
        r.pap_r - r.previous_pap_r as total_advance,
        r.pap_r4 - r.previous_pap_r4 as valley_advance
    from customer_points as p
    inner join energy as e
        on e.mp_id = p.mp_id
    inner join day_reads as r
        on r.data_id = e.data_id
        and r.data_date = e.data_date
    where e.is_computable
        and not e.is_exchange_day
        and not e.is_rollover
        and r.previous_date = {{ add_days(-1, 'r.data_date') }}
        and r.pap_r4 >= r.previous_pap_r4
        and r.pap_r > r.previous_pap_r
),

valley_windows as (
    select
        v.cons_no,
        -- as double: a DECIMAL quotient is a DOUBLE on DuckDB but a DECIMAL of six
        -- decimals on Spark; the same DOUBLE division on both (docs/spark.md)
        cast(sum(case when v.days_back between s.recent_days and s.recent_days + s.baseline_days - 1
            then v.valley_advance end) as double)
        / nullif(sum(
            case when v.days_back between s.recent_days and s.recent_days + s.baseline_days - 1
                then v.total_advance end
        ), 0) as baseline_valley_share,
        cast(sum(case when v.days_back between 0 and s.recent_days - 1 then v.valley_advance end)
            as double)
        / nullif(sum(
            case when v.days_back between 0 and s.recent_days - 1 then v.total_advance end
        ), 0) as recent_valley_share
    from valley_days as v
    cross join settings as s
    group by v.cons_no
),

signals as (
    select
        c.cons_no,
        c.tg_id,
        c.org_no,
        coalesce(ce.event_count, 0) as event_count,
        ce.latest_event_code,
        ce.latest_event_time,
        w.baseline_mean_kwh,
        w.recent_mean_kwh,
        w.recent_read_days,
        w.zero_energy_days,
        case
            when w.baseline_mean_kwh >= s.min_baseline_kwh and w.recent_mean_kwh is not null
            then 1 - cast(w.recent_mean_kwh as double) / w.baseline_mean_kwh
        end as energy_drop_share,
        a.baseline_loss_rate,
        a.recent_loss_rate,
        (a.recent_loss_rate - a.baseline_loss_rate) * 100 as loss_rise_pp,
        vw.baseline_valley_share,
        vw.recent_valley_share,
        case
            when w.baseline_mean_kwh >= s.min_baseline_kwh
            then (vw.recent_valley_share - vw.baseline_valley_share) * 100
        end as valley_shift_pp,
        s.*
    from customers as c
    cross join settings as s
    left join customer_events as ce
        on ce.cons_no = c.cons_no
    left join energy_windows as w
        on w.cons_no = c.cons_no
    left join area_loss as a
        on a.tg_id = c.tg_id
    left join valley_windows as vw
        on vw.cons_no = c.cons_no
),

customer_points_scored as (
    select
        signals.*,
        case when event_count > 0 then round(event_weight, 2) else 0 end as event_points,
        case
            when energy_drop_share >= drop_min_share
            then round(
                drop_weight * case when energy_drop_share > 1 then 1 else energy_drop_share end, 2
            )
            else 0
        end as drop_points,
        case
            when baseline_mean_kwh >= min_baseline_kwh and zero_energy_days >= zero_min_days
            then round(zero_weight * zero_energy_days / recent_days, 2)
            else 0
        end as zero_points,
        case
            when abs(valley_shift_pp) >= valley_min_pp
            then round(valley_weight * case when abs(valley_shift_pp) > valley_full_pp then 1
                                             else abs(valley_shift_pp) / valley_full_pp end, 2)
            else 0
        end as valley_points
    from signals
),

scored as (
    select
        customer_points_scored.*,
        -- the area signal corroborates a customer signal, it does not list a customer alone
        case
            when loss_rise_pp >= loss_rise_min_pp and event_points + drop_points + zero_points > 0
            then round(loss_rise_weight * case when loss_rise_pp > loss_rise_full_pp then 1
                                               else loss_rise_pp / loss_rise_full_pp end, 2)
            else 0
        end as loss_rise_points
    from customer_points_scored
),

totals as (
    select
        scored.*,
        event_points + drop_points + zero_points + loss_rise_points + valley_points as theft_score,
        case when event_points > 0 then 1 else 0 end
        + case when drop_points > 0 then 1 else 0 end
        + case when zero_points > 0 then 1 else 0 end
        + case when loss_rise_points > 0 then 1 else 0 end
        + case when valley_points > 0 then 1 else 0 end as signal_count,
        case when event_points > 0 then '; ' || latest_event_code || ' '
            || {{ erc_event_name('latest_event_code') }}
            || ' ' || substr(cast(latest_event_time as {{ dbt.type_string() }}), 1, 16)
            || case when event_count > 1
                then ' (共 ' || cast(event_count as {{ dbt.type_string() }}) || ' 次)' else '' end
            else '' end
        || case when drop_points > 0 then '; 电量下降 '
            || cast(
                cast(round(energy_drop_share * 100, 0) as {{ dbt.type_bigint() }})
                as {{ dbt.type_string() }}
            ) || '%'
            else '' end
        || case when zero_points > 0 then '; 近 '
            || cast(cast(recent_days as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
            || ' 日 ' || cast(zero_energy_days as {{ dbt.type_string() }}) || ' 天抄表正常但零电量'
            else '' end
        || case when loss_rise_points > 0 then '; 台区线损率上升 '
            || {{ audit_num('loss_rise_pp', 1) }} || ' 个百分点'
            else '' end
        || case when valley_points > 0 then '; 谷段电量占比'
            || case when valley_shift_pp > 0 then '上升 ' else '下降 ' end
            || {{ audit_num('abs(valley_shift_pp)', 1) }} || ' 个百分点'
            else '' end as signal_text
    from scored
)

select
    cast(t.as_of_date as date) as as_of_date,
    cast(rank() over (order by t.theft_score desc) as {{ dbt.type_int() }}) as score_rank,
    cast(
        rank() over (partition by t.tg_id order by t.theft_score desc) as {{ dbt.type_int() }}
    ) as area_rank,
    cast(t.tg_id as {{ dbt.type_string() }}) as tg_id,
    cast(n.tg_name as {{ dbt.type_string() }}) as tg_name,
    cast(t.org_no as {{ dbt.type_string() }}) as org_no,
    cast(t.cons_no as {{ dbt.type_string() }}) as cons_no,
    cast(t.theft_score as {{ audit_type_double() }}) as theft_score,
    cast(t.signal_count as {{ dbt.type_int() }}) as signal_count,
    cast(substr(t.signal_text, 3) as {{ dbt.type_string() }}) as signals,
    cast(t.event_count as {{ dbt.type_int() }}) as event_count,
    cast(t.latest_event_code as {{ dbt.type_string() }}) as latest_event_code,
    cast(t.latest_event_time as {{ dbt.type_timestamp() }}) as latest_event_time,
    cast(t.event_points as {{ audit_type_double() }}) as event_points,
    cast(t.baseline_mean_kwh as {{ kwh_type() }}) as baseline_mean_kwh,
    cast(t.recent_mean_kwh as {{ kwh_type() }}) as recent_mean_kwh,
    cast(t.energy_drop_share as {{ audit_type_double() }}) as energy_drop_share,
    cast(t.drop_points as {{ audit_type_double() }}) as drop_points,
    cast(t.recent_read_days as {{ dbt.type_int() }}) as recent_read_days,
    cast(t.zero_energy_days as {{ dbt.type_int() }}) as zero_energy_days,
    cast(t.zero_points as {{ audit_type_double() }}) as zero_points,
    cast(t.baseline_loss_rate as {{ audit_type_double() }}) as area_baseline_loss_rate,
    cast(t.recent_loss_rate as {{ audit_type_double() }}) as area_recent_loss_rate,
    cast(t.loss_rise_pp as {{ audit_type_double() }}) as area_loss_rise_pp,
    cast(t.loss_rise_points as {{ audit_type_double() }}) as loss_rise_points,
    cast(t.baseline_valley_share as {{ audit_type_double() }}) as baseline_valley_share,
    cast(t.recent_valley_share as {{ audit_type_double() }}) as recent_valley_share,
    cast(t.valley_shift_pp as {{ audit_type_double() }}) as valley_shift_pp,
    cast(t.valley_points as {{ audit_type_double() }}) as valley_points,
    cast({{ add_days('1 - t.recent_days', 't.as_of_date') }} as date) as recent_start_date,
    cast(
        {{ add_days('1 - t.recent_days - t.baseline_days', 't.as_of_date') }} as date
    ) as baseline_start_date,
    cast({{ audit_settings_fingerprint() }} as {{ dbt.type_string() }}) as settings_fingerprint
from totals as t
left join area_names as n
    on n.tg_id = t.tg_id
where t.theft_score > 0
