{#- 窃电嫌疑排行: one row per active customer with a positive theft suspicion score as of the
    newest day of marts.area_daily_loss (as_of_date), or with an open theft work order, so
    that each 供电所 visits its biggest losses first. Customers: an active settlement
    metering point of an active customer on as_of_date (int_customer_energy_daily.is_active);
    area and unit C_CONS.TG_ID / ORG_NO, 用电类别 / 电价码 C_CONS.ELEC_TYPE_CODE / PRC_CODE as of
    that day.

    Evidence that persists (docs/theft-ranking.md): the score is built around the
    customer's level shift (change point), not a fixed recent window, so a theft that began
    weeks ago keeps its evidence for as long as it lasts. Within the last
    theft_rank_horizon_days days of int_customer_energy_daily, every day k is a candidate
    shift start: baseline = the computable days of the theft_rank_baseline_days days before
    k, shift = the computable days k .. as_of_date; the shift start is the k with the
    largest two-sample statistic (baseline mean - shift mean) x sqrt(nb na / (nb + na)) (the
    maximum-likelihood single change point of a step in the mean). The shift must still
    hold on the last theft_rank_recent_days days.

    Signals, each with its raw values and its points (points = weight x a 0..1 strength,
    rounded to 0.01; weights and thresholds are the settings theft_rank_*):
      drop         1 - shift mean / baseline mean, from theft_rank_min_drop_share on, x
                   min(1, shift read days / theft_rank_full_shift_days); no decay with age.
      peers        the same drop relative to the median daily energy of the customer's
                   peers (same area and 用电类别, else same 供电单位 and 用电类别) over the
                   same days: a drop the whole class shows (weather, a holiday) scores none.
      co-movement  the area's mean daily loss_kwh since the shift minus before it (the 同期
                   线损 specialists' check: the area's extra loss ~ the customer's missing
                   energy); full points for a ratio extra / deficit in
                   [theft_rank_comovement_min_ratio, theft_rank_comovement_max_ratio]
                   (area_confirmation 'confirmed'). A drop the area contradicts (its loss
                   computable, the ratio outside the band: a vacancy or a shop closing,
                   whose supply fell with the consumption) has its drop, peer and zero
                   points multiplied by theft_rank_contradicted_factor; one the area cannot
                   judge (no computable loss, a deficit below theft_rank_min_deficit_kwh) or
                   whose area lost far more than its deficit ('exceeded': another theft or
                   load of the same days) by theft_rank_unconfirmed_factor - except a drop
                   to nothing (theft_rank_vacancy_zero_share of the shift's days at zero: a
                   vacancy, which M02 lists), which takes the contradicted factor unless the
                   area confirms it.
      event        theft events ERC9/ERC10/ERC37/ERC38 of the customer's meter delivered in
                   the horizon: full points when one opened the drop (started within
                   theft_rank_event_shift_tolerance_days of the day before the shift start),
                   else theft_rank_event_without_drop_share x (1 - age / decay days).
      zero days    computable zero-energy days since the shift start (share of them).
      valley       the change of the valley (PAP_R4 谷) share, since the shift vs baseline.
    raw_score = the sum; theft_score = raw_score x theft_rank_false_positive_factor while
    the customer's latest T01 work order answered 不属实 is within its suppression period
    (dispatch_policy suppress_days_after_false), else raw_score.
    Estimated energy not recorded: (baseline mean - shift mean) x days since the shift start,
    and its value at the customer's tariff (K_PRC.UNIT_PRICE of its PRC_CODE as of D).
    Ranks (rank(): ties share a rank): overall, within the area, within the 供电所 (O_ORG as
    of as_of_date; by
    score, and by the estimated value).

    Bounded cost: rebuilt on every run from the horizon's days of the slim customer x day
    table (date-literal filters: the history beyond the horizon is never read). At a city
    (2 M customers x 60 days) the grid is 120 M rows: integer keys and 8-byte sums keep it
    within a few GB of spilling (docs/theft-ranking.md, "Cost"). -#}

{#- date_literal(): each bound is looked up once when the model is compiled and written in as
    a literal (inside a dbt unit test it stays the expression). The grid's first day is the
    horizon's, or the first day of customer energy when the history is shorter (days without
    any energy add nothing to the sums below; a grid of 60 days on a 5-day history made a
    city's 2 M customers 120 M rows and ran out of memory). -#}
{%- set as_of_day = date_literal('(select max(data_date) from ' ~ ref('area_daily_loss') ~ ')') %}
{%- set horizon_from = date_literal(add_days(
    '(1 - ' ~ setting('theft_rank_horizon_days') ~ ')', as_of_day)) %}
{%- set grid_from = date_literal('(select greatest(' ~ horizon_from ~ ', min(e.data_date)) from '
    ~ ref('int_customer_energy_daily') ~ ' as e where e.data_date between '
    ~ horizon_from ~ ' and ' ~ as_of_day ~ ')') %}

with settings as (
    select
        {{ as_of_day }} as as_of_date,
        {%- for name in [
            'baseline_days', 'min_baseline_days', 'min_shift_days', 'recent_days',
            'min_baseline_kwh', 'min_drop_share', 'full_shift_days', 'drop_points',
            'min_peers', 'peer_points', 'min_deficit_kwh', 'comovement_min_ratio',
            'comovement_max_ratio', 'comovement_points', 'contradicted_factor',
            'unconfirmed_factor', 'vacancy_zero_share', 'event_points', 'event_shift_tolerance_days',
            'event_decay_days', 'event_without_drop_share', 'zero_min_days', 'zero_points',
            'valley_shift_min_pp', 'valley_shift_full_pp', 'valley_points',
            'false_positive_factor'] %}
        {{ setting('theft_rank_' ~ name) }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
),

-- the customers ranked: active on as_of_date
customers as (
    select
        d.cons_no,
        d.tg_id,
        d.org_no
    from {{ ref('int_customer_energy_daily') }} as d
    where d.data_date = {{ as_of_day }}
        and d.is_active
),

customer_archive as (
    select
        c.cons_no,
        c.elec_type_code,
        c.prc_code
    from {{ archive_rows('stg_marketing__customers', as_of_day) }} as c
    where {{ as_of(as_of_day, 'c') }}
),

prices as (
    select
        p.prc_code,
        p.unit_price
    from {{ archive_rows('stg_marketing__prices', as_of_day) }} as p
    where {{ as_of(as_of_day, 'p') }}
),

ranked_customers as (
    select
        c.cons_no,
        c.tg_id,
        c.org_no,
        a.elec_type_code,
        a.prc_code,
        -- an integer key for the customer x day grid: its sorts, windows and joins carry 4
        -- bytes per row, not the customer's strings (a city: 2 M customers x 60 days)
        cast(row_number() over (order by c.cons_no) as integer) as customer_key
    from customers as c
    left join customer_archive as a
        on a.cons_no = c.cons_no
),

-- the grid's days; day_no = days from as_of_date (0 = as_of_date)
grid_days as (
    select
        spine.data_date,
        {{ dbt.datediff(as_of_day, 'spine.data_date', 'day') }} as day_no  -- noqa: LT05
    from ({{ day_spine(grid_from, as_of_day) }}) as spine
),

-- the computable energy of the ranked customers' days (day_no as in grid_days); kWh exact
-- (DECIMAL), zero-day flags as small integers
energy_days as (
    select
        c.customer_key,
        {{ dbt.datediff(as_of_day, 'e.data_date', 'day') }} as day_no,  -- noqa: LT05
        e.forward_kwh as kwh,
        cast(case when e.forward_kwh = 0 then 1 else 0 end as integer) as zero_day,
        e.valley_kwh,
        case when e.valley_kwh is not null then e.valley_base_kwh end as valley_base_kwh
    from {{ ref('int_customer_energy_daily') }} as e
    inner join ranked_customers as c
        on c.cons_no = e.cons_no
    where e.data_date between {{ grid_from }} and {{ as_of_day }}
        and e.is_computable
),

-- every customer x grid day (a complete grid: the split sums below are differences of
-- running sums found by an equality join on the day number); NULL energy on a day that is
-- not computable
grid as (
    select
        c.customer_key,
        h.day_no,
        e.kwh,
        coalesce(e.zero_day, 0) as zero_day,
        e.valley_kwh,
        e.valley_base_kwh
    from ranked_customers as c
    cross join grid_days as h
    left join energy_days as e
        on e.customer_key = c.customer_key
        and e.day_no = h.day_no
),

-- the running sums through each day (kWh back to DECIMAL(18,4): exact, and 8 bytes a row
-- instead of the 16 of a DECIMAL(38) sum); the whole grid's sums are totals_per_customer
running as (
    select
        customer_key,
        day_no,
        kwh,
        zero_day,
        valley_kwh,
        valley_base_kwh,
        cast(coalesce(sum(kwh) over w, 0) as {{ kwh_type() }}) as cum_kwh,
        cast(count(kwh) over w as integer) as cum_days,
        cast(sum(zero_day) over w as integer) as cum_zero_days,
        cast(coalesce(sum(valley_kwh) over w, 0) as {{ kwh_type() }}) as cum_valley_kwh,
        cast(coalesce(sum(valley_base_kwh) over w, 0) as {{ kwh_type() }})
            as cum_valley_base_kwh
    from grid
    window w as (
        partition by customer_key order by day_no rows between unbounded preceding and current row
    )
),

totals_per_customer as (
    select
        customer_key,
        cast(coalesce(sum(kwh), 0) as {{ kwh_type() }}) as total_kwh,
        cast(count(kwh) as integer) as total_days,
        cast(sum(zero_day) as integer) as total_zero_days,
        cast(coalesce(sum(valley_kwh), 0) as {{ kwh_type() }}) as total_valley_kwh,
        cast(coalesce(sum(valley_base_kwh), 0) as {{ kwh_type() }}) as total_valley_base_kwh
    from energy_days
    group by customer_key
),

-- every candidate shift start k: baseline = days k-B .. k-1, shift = k .. as_of_date. The
-- sums up to k-1 are the running sums of k without day k; the grid is complete, so the
-- running sums of k-1-B are one equality join away
splits as (
    select
        k.customer_key,
        k.day_no as shift_day_no,
        k.cum_kwh - coalesce(k.kwh, 0) - coalesce(b.cum_kwh, 0) as baseline_sum_kwh,
        k.cum_days - case when k.kwh is null then 0 else 1 end - coalesce(b.cum_days, 0)
            as baseline_read_days,
        t.total_kwh - (k.cum_kwh - coalesce(k.kwh, 0)) as shift_sum_kwh,
        t.total_days - (k.cum_days - case when k.kwh is null then 0 else 1 end)
            as shift_read_days,
        t.total_zero_days - (k.cum_zero_days - k.zero_day) as shift_zero_days,
        k.cum_valley_kwh - coalesce(k.valley_kwh, 0) - coalesce(b.cum_valley_kwh, 0)
            as baseline_valley_kwh,
        k.cum_valley_base_kwh - coalesce(k.valley_base_kwh, 0)
        - coalesce(b.cum_valley_base_kwh, 0) as baseline_valley_base_kwh,
        t.total_valley_kwh - (k.cum_valley_kwh - coalesce(k.valley_kwh, 0))
            as shift_valley_kwh,
        t.total_valley_base_kwh - (k.cum_valley_base_kwh - coalesce(k.valley_base_kwh, 0))
            as shift_valley_base_kwh
    from running as k
    cross join settings as s
    inner join totals_per_customer as t  -- customers without a computable day have no split
        on t.customer_key = k.customer_key
    left join running as b
        on b.customer_key = k.customer_key
        and b.day_no = k.day_no - 1 - s.baseline_days
),

split_statistics as (
    select
        sp.*,
        cast(sp.baseline_sum_kwh as {{ audit_type_double() }}) / sp.baseline_read_days
            as baseline_mean_kwh,
        cast(sp.shift_sum_kwh as {{ audit_type_double() }}) / sp.shift_read_days
            as shift_mean_kwh
    from splits as sp
    cross join settings as s
    where sp.baseline_read_days >= s.min_baseline_days
        and sp.shift_read_days >= s.min_shift_days
),

best_split as (
    select
        st.*,
        row_number() over (
            partition by st.customer_key
            order by
                (st.baseline_mean_kwh - st.shift_mean_kwh) * sqrt(
                    cast(st.baseline_read_days * st.shift_read_days as {{ audit_type_double() }})
                    / (st.baseline_read_days + st.shift_read_days)
                ) desc,
                st.shift_day_no asc
        ) as split_rank
    from split_statistics as st
),

-- the last theft_rank_recent_days days: does the shift still hold?
recent as (
    select
        r.customer_key,
        cast(sum(r.kwh) as {{ audit_type_double() }}) / nullif(count(r.kwh), 0) as recent_mean_kwh
    from energy_days as r
    cross join settings as s
    where r.day_no > 0 - s.recent_days
    group by r.customer_key
),

shifts as (
    select
        c.cons_no,
        b.shift_day_no,
        b.baseline_read_days,
        b.baseline_mean_kwh,
        b.shift_read_days,
        b.shift_mean_kwh,
        b.shift_zero_days,
        r.recent_mean_kwh,
        cast(b.baseline_valley_kwh as {{ audit_type_double() }})
            / nullif(b.baseline_valley_base_kwh, 0) as baseline_valley_share,
        cast(b.shift_valley_kwh as {{ audit_type_double() }})
            / nullif(b.shift_valley_base_kwh, 0) as shift_valley_share,
        case
            when b.baseline_mean_kwh >= s.min_baseline_kwh
            then 1 - b.shift_mean_kwh / b.baseline_mean_kwh
        end as energy_drop_share,
        b.baseline_mean_kwh >= s.min_baseline_kwh
        and 1 - b.shift_mean_kwh / b.baseline_mean_kwh >= s.min_drop_share
        and r.recent_mean_kwh <= (1 - s.min_drop_share) * b.baseline_mean_kwh as is_drop
    from best_split as b
    cross join settings as s
    inner join ranked_customers as c
        on c.customer_key = b.customer_key
    left join recent as r
        on r.customer_key = b.customer_key
    where b.split_rank = 1
),

drops as (
    select
        sh.cons_no,
        sh.shift_day_no,
        c.tg_id,
        c.org_no,
        c.elec_type_code,
        sh.baseline_mean_kwh,
        sh.shift_mean_kwh
    from shifts as sh
    inner join ranked_customers as c
        on c.cons_no = sh.cons_no
    where sh.is_drop
),

-- peers: the median computable daily energy of the customers of the same area and 用电类别
-- (else the same 供电单位 and 用电类别) per day, over the drop customers' own windows
grid_classes as (
    select e.day_no, e.kwh, c.tg_id, c.org_no, c.elec_type_code
    from energy_days as e
    inner join ranked_customers as c
        on c.customer_key = e.customer_key
),

-- the medians of the classes a drop customer belongs to only (a few groups, not all)
drop_area_classes as (
    select distinct tg_id, elec_type_code
    from drops
),

drop_unit_classes as (
    select distinct org_no, elec_type_code
    from drops
),

area_class_days as (
    select g.tg_id, g.elec_type_code, g.day_no, {{ median_of('g.kwh') }} as peer_kwh
    from grid_classes as g
    inner join drop_area_classes as d
        on d.tg_id = g.tg_id
        and d.elec_type_code = g.elec_type_code
    group by g.tg_id, g.elec_type_code, g.day_no
),

unit_class_days as (
    select g.org_no, g.elec_type_code, g.day_no, {{ median_of('g.kwh') }} as peer_kwh
    from grid_classes as g
    inner join drop_unit_classes as d
        on d.org_no = g.org_no
        and d.elec_type_code = g.elec_type_code
    group by g.org_no, g.elec_type_code, g.day_no
),

area_class_sizes as (
    select tg_id, elec_type_code, count(*) as customer_count
    from ranked_customers
    group by tg_id, elec_type_code
),

unit_class_sizes as (
    select org_no, elec_type_code, count(*) as customer_count
    from ranked_customers
    group by org_no, elec_type_code
),

peer_groups as (
    select
        d.cons_no,
        case
            when ac.customer_count - 1 >= s.min_peers then 'area'
            when uc.customer_count - 1 >= s.min_peers then 'unit'
        end as peer_group,
        case
            when ac.customer_count - 1 >= s.min_peers then ac.customer_count - 1
            when uc.customer_count - 1 >= s.min_peers then uc.customer_count - 1
        end as peer_group_size
    from drops as d
    cross join settings as s
    left join area_class_sizes as ac
        on ac.tg_id = d.tg_id
        and ac.elec_type_code = d.elec_type_code
    left join unit_class_sizes as uc
        on uc.org_no = d.org_no
        and uc.elec_type_code = d.elec_type_code
),

peer_days as (
    select 'area' as peer_group, tg_id as group_key, elec_type_code, day_no, peer_kwh
    from area_class_days
    union all
    select 'unit' as peer_group, org_no as group_key, elec_type_code, day_no, peer_kwh
    from unit_class_days
),

peer_windows as (
    select
        d.cons_no,
        {% call decimal_mean() %}case when p.day_no < d.shift_day_no
            then p.peer_kwh end{% endcall %} as peer_baseline_kwh,
        {% call decimal_mean() %}case when p.day_no >= d.shift_day_no
            then p.peer_kwh end{% endcall %} as peer_shift_kwh
    from drops as d
    cross join settings as s
    inner join peer_groups as g
        on g.cons_no = d.cons_no
    inner join peer_days as p
        on p.peer_group = g.peer_group
        and p.group_key = case when g.peer_group = 'area' then d.tg_id else d.org_no end
        and p.elec_type_code = d.elec_type_code
        and p.day_no >= d.shift_day_no - s.baseline_days
    group by d.cons_no
),

-- the area's loss over the same windows (computable days of marts.area_daily_loss)
area_loss_days as (
    select
        tg_id,
        {{ dbt.datediff(as_of_day, 'data_date', 'day') }} as day_no,  -- noqa: LT05
        loss_kwh
    from {{ ref('area_daily_loss') }}
    where data_date between {{ horizon_from }} and {{ as_of_day }}
        and loss_status <> 'uncomputable'
),

area_windows as (
    select
        d.cons_no,
        cast(sum(case when l.day_no < d.shift_day_no then l.loss_kwh end)
            as {{ audit_type_double() }})
        / nullif(sum(case when l.day_no < d.shift_day_no then 1 else 0 end), 0)
            as area_loss_kwh_before,
        cast(sum(case when l.day_no >= d.shift_day_no then l.loss_kwh end)
            as {{ audit_type_double() }})
        / nullif(sum(case when l.day_no >= d.shift_day_no then 1 else 0 end), 0)
            as area_loss_kwh_in_shift
    from drops as d
    cross join settings as s
    inner join area_loss_days as l
        on l.tg_id = d.tg_id
        and l.day_no >= d.shift_day_no - s.baseline_days
    group by d.cons_no
),

-- theft events (rule_event_codes('T01')) delivered in the horizon, each in its latest
-- delivery; the customer through the event's data point (DATA_ID) as of as_of_date
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
    where ev._export_date between {{ horizon_from }} and {{ as_of_day }}
),

customer_data_points as (
    select distinct
        e.data_id,
        e.cons_no
    from {{ ref('int_meter_energy_daily') }} as e
    where e.data_date = {{ as_of_day }}
        and e.meter_role = 'settlement'
        and e.data_id is not null
),

events as (
    select
        p.cons_no,
        ev.event_id,
        ev.event_code,
        ev.start_time,
        {{ dbt.datediff(as_of_day, 'cast(ev.start_time as date)', 'day') }} as event_day_no  -- noqa: LT05
    from event_deliveries as ev
    inner join customer_data_points as p
        on p.data_id = ev.data_id
    where ev.delivery_rank = 1
        and ev.event_code in (
            {%- for code in rule_event_codes('T01') %}
            '{{ code }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
        and cast(ev.start_time as date) between {{ horizon_from }} and {{ as_of_day }}
),

ranked_events as (
    select
        ev.*,
        -- the event that opened the drop: the one nearest to the day before the shift
        -- start within the tolerance; else the newest
        row_number() over (
            partition by ev.cons_no
            order by
                case when d.cons_no is not null
                    and abs(ev.event_day_no - (d.shift_day_no - 1)) <= s.event_shift_tolerance_days
                    then 0 else 1 end,
                case when d.cons_no is not null
                    and abs(ev.event_day_no - (d.shift_day_no - 1)) <= s.event_shift_tolerance_days
                    then abs(ev.event_day_no - (d.shift_day_no - 1)) end,
                ev.start_time desc,
                ev.event_id desc
        ) as event_rank,
        d.cons_no is not null
        and abs(ev.event_day_no - (d.shift_day_no - 1)) <= s.event_shift_tolerance_days
            as opens_shift
    from events as ev
    cross join settings as s
    left join drops as d
        on d.cons_no = ev.cons_no
),

customer_events as (
    select
        cons_no,
        count(*) as event_count,
        max(case when event_rank = 1 then event_code end) as event_code,
        max(case when event_rank = 1 then start_time end) as event_time,
        max(case when event_rank = 1 then 0 - event_day_no end) as event_age_days,
        max(case when event_rank = 1 and opens_shift then 1 else 0 end) = 1 as event_opens_shift
    from ranked_events
    group by cons_no
),

-- the customer's latest T01 work order (marts.work_orders as of its status day)
theft_orders as (
    select
        w.cons_no,
        w.work_order_no,
        w.status,
        w.answer_deadline,
        w.archive_reason,
        w.archived_date,
        row_number() over (
            partition by w.cons_no order by w.dispatch_date desc, w.work_order_no desc
        ) as order_rank
    from {{ ref('work_orders') }} as w
    where w.problem_code = 'T01'
        and w.cons_no is not null
),

theft_policy as (
    select cast(suppress_days_after_false as {{ dbt.type_int() }}) as suppress_days
    from {{ ref('dispatch_policy') }}
    where problem_code = 'T01'
),

signals as (
    select
        c.cons_no,
        c.tg_id,
        c.org_no,
        c.elec_type_code,
        c.prc_code,
        sh.shift_day_no,
        sh.baseline_read_days,
        sh.baseline_mean_kwh,
        sh.shift_read_days,
        sh.shift_mean_kwh,
        sh.recent_mean_kwh,
        sh.energy_drop_share,
        coalesce(sh.is_drop, false) as is_drop,
        sh.shift_zero_days,
        sh.baseline_valley_share,
        sh.shift_valley_share,
        case
            when sh.baseline_mean_kwh >= s.min_baseline_kwh
            then (sh.shift_valley_share - sh.baseline_valley_share) * 100
        end as valley_shift_pp,
        g.peer_group,
        g.peer_group_size,
        pw.peer_baseline_kwh,
        pw.peer_shift_kwh,
        case when pw.peer_baseline_kwh > 0 and pw.peer_shift_kwh > 0 and sh.is_drop
            then 1 - (sh.shift_mean_kwh / sh.baseline_mean_kwh)
                / (pw.peer_shift_kwh / pw.peer_baseline_kwh)
        end as relative_drop_share,
        aw.area_loss_kwh_before,
        aw.area_loss_kwh_in_shift,
        aw.area_loss_kwh_in_shift - aw.area_loss_kwh_before as area_extra_loss_kwh,
        case when sh.is_drop and sh.baseline_mean_kwh - sh.shift_mean_kwh >= s.min_deficit_kwh
            then (aw.area_loss_kwh_in_shift - aw.area_loss_kwh_before)
                / (sh.baseline_mean_kwh - sh.shift_mean_kwh)
        end as comovement_ratio,
        coalesce(ce.event_count, 0) as event_count,
        ce.event_code,
        ce.event_time,
        ce.event_age_days,
        coalesce(ce.event_opens_shift, false) as event_opens_shift,
        pr.unit_price,
        o.work_order_no,
        o.status as work_order_status,
        o.answer_deadline,
        case when o.archive_reason = 'false_positive' then o.archived_date end
            as false_positive_date,
        tp.suppress_days,
        s.*
    from ranked_customers as c
    cross join settings as s
    cross join theft_policy as tp
    left join shifts as sh
        on sh.cons_no = c.cons_no
    left join peer_groups as g
        on g.cons_no = c.cons_no
    left join peer_windows as pw
        on pw.cons_no = c.cons_no
    left join area_windows as aw
        on aw.cons_no = c.cons_no
    left join customer_events as ce
        on ce.cons_no = c.cons_no
    left join prices as pr
        on pr.prc_code = c.prc_code
    left join theft_orders as o
        on o.cons_no = c.cons_no
        and o.order_rank = 1
),

strengths as (
    select
        signals.*,
        -- does the area's loss confirm the drop (co-movement)?
        case
            when not is_drop then null
            when comovement_ratio is null then 'unjudgeable'
            when comovement_ratio < comovement_min_ratio then 'contradicted'
            when comovement_ratio <= comovement_max_ratio then 'confirmed'
            -- the area lost more than this customer's deficit: consistent, not specific
            -- (another theft or load of the same area and days)
            else 'exceeded'
        end as area_confirmation,
        -- a vacancy's signature: nothing consumed since the shift (M02 lists it)
        coalesce(is_drop and shift_zero_days >= vacancy_zero_share * shift_read_days, false)
            as is_zero_level,
        case when is_drop
            then least(1.0, energy_drop_share)
                * least(1.0, cast(shift_read_days as {{ audit_type_double() }}) / full_shift_days)
            else 0
        end as drop_strength,
        case when relative_drop_share >= min_drop_share then least(1.0, relative_drop_share)
            else 0 end as peer_strength,
        case
            when event_count = 0 then 0
            when event_opens_shift then 1
            else event_without_drop_share * greatest(0, 1 - event_age_days / event_decay_days)
        end as event_strength,
        case when is_drop and shift_zero_days >= zero_min_days
            then cast(shift_zero_days as {{ audit_type_double() }}) / shift_read_days
            else 0 end as zero_strength,
        case when abs(valley_shift_pp) >= valley_shift_min_pp
            then least(1.0, abs(valley_shift_pp) / valley_shift_full_pp)
            else 0 end as valley_strength,
        false_positive_date is not null
        and as_of_date < {{ add_days('suppress_days', 'false_positive_date') }}
            as is_suppressed
    from signals
),

factors as (
    select
        strengths.*,
        case
            when area_confirmation = 'confirmed' then 1
            when area_confirmation = 'contradicted' or is_zero_level then contradicted_factor
            else unconfirmed_factor
        end as area_factor
    from strengths
),

points as (
    select
        factors.*,
        round(drop_points * drop_strength * area_factor, 2) as drop_pts,
        round(peer_points * peer_strength * area_factor, 2) as peer_pts,
        case when area_confirmation = 'confirmed' then round(comovement_points, 2) else 0 end
            as comovement_pts,
        round(event_points * event_strength, 2) as event_pts,
        round(zero_points * zero_strength * area_factor, 2) as zero_pts,
        round(valley_points * valley_strength, 2) as valley_pts,
        case when is_drop
            then (baseline_mean_kwh - shift_mean_kwh) * (1 - shift_day_no)
        end as missing_kwh
    from factors
),

totals as (
    select
        points.*,
        -- rounded like its points, so that an unsuppressed theft_score equals it exactly
        round(drop_pts + peer_pts + comovement_pts + event_pts + zero_pts + valley_pts, 2)
            as raw_score,
        round((drop_pts + peer_pts + comovement_pts + event_pts + zero_pts + valley_pts)
            * case when is_suppressed then false_positive_factor else 1 end, 2) as score,
        case when drop_pts > 0 then 1 else 0 end
        + case when peer_pts > 0 then 1 else 0 end
        + case when comovement_pts > 0 then 1 else 0 end
        + case when event_pts > 0 then 1 else 0 end
        + case when zero_pts > 0 then 1 else 0 end
        + case when valley_pts > 0 then 1 else 0 end as signal_count,
        missing_kwh * unit_price as missing_value_yuan,
        {{ add_days('shift_day_no', 'as_of_date') }} as shift_start_date
    from points
),

texts as (
    select
        totals.*,
        case when drop_pts > 0 then '; 自 '
            || cast(shift_start_date as {{ dbt.type_string() }}) || ' 起日均电量 '
            || {{ audit_num('baseline_mean_kwh', 1) }} || ' → '
            || {{ audit_num('shift_mean_kwh', 1) }}
            || ' kWh (下降 '
            || cast(
                cast(round(energy_drop_share * 100, 0) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}  -- noqa: LT05
            )
            || '%)'
            else '' end
        || case when peer_pts > 0 then '; 同类用户同期日均 '
            || {{ audit_num('peer_baseline_kwh', 1) }} || ' → '
            || {{ audit_num('peer_shift_kwh', 1) }}
            || ' kWh (相对下降 '
            || cast(
                cast(round(relative_drop_share * 100, 0) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}  -- noqa: LT05
            )
            || '%)'
            else '' end
        || case when comovement_pts > 0 then '; 台区日均损失电量同期增加 '
            || {{ audit_num('area_extra_loss_kwh', 1) }} || ' kWh (少计电量的 '
            || cast(
                cast(round(comovement_ratio * 100, 0) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}  -- noqa: LT05
            )
            || '%)'
            else '' end
        || case when area_confirmation = 'contradicted' and raw_score > 0
            then '; 台区损失电量变化与少计电量不符 (增加 ' || {{ audit_num('area_extra_loss_kwh', 1) }}
                || ' kWh, 疑似空置/停业/其他原因, 降权)'
            when area_confirmation = 'exceeded' and raw_score > 0
            then '; 台区损失电量增加 ' || {{ audit_num('area_extra_loss_kwh', 1) }}
                || ' kWh, 远超其少计电量 (另有窃电或负荷, 降权)'
            when area_confirmation = 'unjudgeable' and raw_score > 0
            then '; 台区线损无法印证 (降权)' else '' end
        || case when event_pts > 0 then '; ' || event_code || ' '
            || {{ erc_event_name('event_code') }}
            || ' ' || substr(cast(event_time as {{ dbt.type_string() }}), 1, 16)
            || case when event_opens_shift then ' (电量下降起点)'
                else ' (' || cast(event_age_days as {{ dbt.type_string() }}) || ' 天前)' end
            || case when event_count > 1
                then ' (共 ' || cast(event_count as {{ dbt.type_string() }}) || ' 次)' else '' end
            else '' end
        || case when zero_pts > 0 then '; 下降后 '
            || cast(shift_zero_days as {{ dbt.type_string() }}) || ' 天抄表正常但零电量'
            else '' end
        || case when valley_pts > 0 then '; 谷段电量占比'
            || case when valley_shift_pp > 0 then '上升 ' else '下降 ' end
            || {{ audit_num('abs(valley_shift_pp)', 1) }} || ' 个百分点'
            else '' end
        || case when missing_kwh > 0 and (drop_pts > 0 or comovement_pts > 0) then '; 估计少计 '
            || {{ audit_num('missing_kwh', 0) }} || ' kWh'
            || case when missing_value_yuan is not null
                then ' (约 ' || {{ audit_num('missing_value_yuan', 0) }} || ' 元)' else '' end
            else '' end
        || case when is_suppressed then '; 已于 '
            || cast(false_positive_date as {{ dbt.type_string() }}) || ' 现场核查不属实 (降权至 '
            || cast(
                {{ add_days('suppress_days - 1', 'false_positive_date') }} as {{ dbt.type_string() }}  -- noqa: LT05
            ) || ')'
            else '' end
        || case when work_order_no is not null and work_order_status <> '已归档' then '; 工单 '
            || work_order_no || ' ' || work_order_status
            else '' end as signal_text
    from totals
),

listed as (
    select *
    from texts
    -- a suspect with an open theft work order stays listed until it is answered
    where score > 0
        or (work_order_no is not null and work_order_status <> '已归档')
),

-- the 供电所 of each unit as of as_of_date (O_ORG; not the KPI chain, which covers the
-- run's KPI days only: a re-run of an earlier day would lose the newest day's stations)
days as (
    select {{ as_of_day }} as detected_date
),

{{ org_units('org_units', days='days', from_date=as_of_day) }},

stations as (
    select org_no, station_no
    from org_units
),

area_names as (
    select tg_id, tg_name
    from {{ ref('area_daily_loss') }}
    where data_date = {{ as_of_day }}
)

select
    cast(t.as_of_date as date) as as_of_date,
    cast(rank() over (order by t.score desc) as {{ dbt.type_int() }}) as score_rank,
    cast(rank() over (partition by t.tg_id order by t.score desc) as {{ dbt.type_int() }})
        as area_rank,
    cast(rank() over (partition by st.station_no order by t.score desc) as {{ dbt.type_int() }})
        as station_rank,
    cast(rank() over (
        partition by st.station_no order by coalesce(t.missing_value_yuan, 0) desc
    ) as {{ dbt.type_int() }}) as value_rank,
    cast(t.tg_id as {{ dbt.type_string() }}) as tg_id,
    cast(n.tg_name as {{ dbt.type_string() }}) as tg_name,
    cast(t.org_no as {{ dbt.type_string() }}) as org_no,
    cast(st.station_no as {{ dbt.type_string() }}) as station_no,
    cast(t.cons_no as {{ dbt.type_string() }}) as cons_no,
    cast(t.elec_type_code as {{ dbt.type_string() }}) as elec_type_code,
    cast(t.score as {{ audit_type_double() }}) as theft_score,
    cast(t.raw_score as {{ audit_type_double() }}) as raw_score,
    cast(t.signal_count as {{ dbt.type_int() }}) as signal_count,
    cast(coalesce(nullif(substr(t.signal_text, 3), ''), '无评分信号 (工单未反馈)')
        as {{ dbt.type_string() }}) as signals,
    cast(case when t.is_drop then t.shift_start_date end as date) as shift_start_date,
    cast(case when t.is_drop then 1 - t.shift_day_no end as {{ dbt.type_int() }}) as shift_days,
    cast(t.baseline_read_days as {{ dbt.type_int() }}) as baseline_read_days,
    cast(t.baseline_mean_kwh as {{ kwh_type() }}) as baseline_mean_kwh,
    cast(t.shift_read_days as {{ dbt.type_int() }}) as shift_read_days,
    cast(t.shift_mean_kwh as {{ kwh_type() }}) as shift_mean_kwh,
    cast(t.recent_mean_kwh as {{ kwh_type() }}) as recent_mean_kwh,
    cast(t.energy_drop_share as {{ audit_type_double() }}) as energy_drop_share,
    cast(t.drop_pts as {{ audit_type_double() }}) as drop_points,
    cast(t.peer_group as {{ dbt.type_string() }}) as peer_group,
    cast(t.peer_group_size as {{ dbt.type_int() }}) as peer_group_size,
    cast(t.peer_baseline_kwh as {{ kwh_type() }}) as peer_baseline_kwh,
    cast(t.peer_shift_kwh as {{ kwh_type() }}) as peer_shift_kwh,
    cast(t.relative_drop_share as {{ audit_type_double() }}) as relative_drop_share,
    cast(t.peer_pts as {{ audit_type_double() }}) as peer_points,
    cast(t.area_loss_kwh_before as {{ kwh_type() }}) as area_loss_kwh_before,
    cast(t.area_loss_kwh_in_shift as {{ kwh_type() }}) as area_loss_kwh_in_shift,
    cast(t.area_extra_loss_kwh as {{ kwh_type() }}) as area_extra_loss_kwh,
    cast(t.comovement_ratio as {{ audit_type_double() }}) as comovement_ratio,
    cast(t.comovement_pts as {{ audit_type_double() }}) as comovement_points,
    cast(t.area_confirmation as {{ dbt.type_string() }}) as area_confirmation,
    cast(case when t.is_drop then t.area_factor end as {{ audit_type_double() }}) as area_factor,
    cast(t.event_count as {{ dbt.type_int() }}) as event_count,
    cast(t.event_code as {{ dbt.type_string() }}) as latest_event_code,
    cast(t.event_time as {{ dbt.type_timestamp() }}) as latest_event_time,
    cast(t.event_age_days as {{ dbt.type_int() }}) as event_age_days,
    cast(t.event_opens_shift as boolean) as event_opens_shift,
    cast(t.event_pts as {{ audit_type_double() }}) as event_points,
    cast(t.shift_zero_days as {{ dbt.type_int() }}) as zero_energy_days,
    cast(t.zero_pts as {{ audit_type_double() }}) as zero_points,
    cast(t.baseline_valley_share as {{ audit_type_double() }}) as baseline_valley_share,
    cast(t.shift_valley_share as {{ audit_type_double() }}) as shift_valley_share,
    cast(t.valley_shift_pp as {{ audit_type_double() }}) as valley_shift_pp,
    cast(t.valley_pts as {{ audit_type_double() }}) as valley_points,
    cast(t.missing_kwh as {{ kwh_type() }}) as missing_kwh,
    cast(t.unit_price as {{ audit_type_double() }}) as unit_price,
    cast(t.missing_value_yuan as {{ yuan_type() }}) as missing_value_yuan,
    cast(t.work_order_no as {{ dbt.type_string() }}) as work_order_no,
    cast(t.work_order_status as {{ dbt.type_string() }}) as work_order_status,
    cast(t.answer_deadline as date) as answer_deadline,
    cast(t.false_positive_date as date) as false_positive_date,
    cast(t.is_suppressed as boolean) as is_suppressed,
    cast({{ audit_settings_fingerprint() }} as {{ dbt.type_string() }}) as settings_fingerprint
from listed as t
left join stations as st
    on st.org_no = t.org_no
left join area_names as n
    on n.tg_id = t.tg_id
