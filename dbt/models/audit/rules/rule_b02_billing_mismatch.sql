{{ config(**audit_rule_config()) }}
{#- B02 估抄/抄表差错嫌疑: on every day D a receivable of month M (RCVBL_YM) is delivered
    (int_receivable_deliveries: issue and every later re-delivery; the day's last line),
    it fires when
      * READ_SRC = '03' (估抄), always; or
      * its billed energy T_PQ differs from the acquisition-measured energy of month M by
        more than billing_mismatch_share of the measured energy AND by more than
        billing_mismatch_min_kwh.
    Measured energy of M (a bill is a register difference, 抄见电量 = (止码 - 起码) x 倍率):
      * metering points   the customer's active settlement MPs (C_MP USAGE_TYPE_CODE 01,
                          STATUS_CODE 1) as of M's last day, each with its data point,
                          marketing multiplier, DIGITS and CONTRACT_CAP as of that day
                          (int_metering_points_daily, the daily energy's mapping);
      * boundary reads    per MP the final reading (int_day_reads_final, PAP_R not null)
                          nearest to each boundary - the end of M-1 (the day before M's 1st)
                          and the end of M (M's last day) - within
                          billing_boundary_read_max_days; on equal distance the reading inside
                          M wins (start: the later, end: the earlier); only readings dated on
                          or before D count (a backfill sees what a daily run on D saw);
      * span energy       (PAP_R end - PAP_R start) x T_FACTOR; a C_METER_CHG in
                          (start, end] gives (OLD_END_READ - start) x OLD_T_FACTOR +
                          (end - NEW_START_READ) x NEW_T_FACTOR (the daily exchange formula;
                          several change days in one span: not computed); a lower end
                          register is a roll-over by the daily rule applied to the span
                          (start >= rollover_min_previous_share x 10^DIGITS and the wrapped
                          energy <= CONTRACT_CAP x plausible_hours_per_day x span days),
                          otherwise the register went backwards (not computed); a day in
                          (start, end] on which the daily energy found the register
                          backwards (int_meter_energy_daily.is_register_backwards, M03)
                          means the registers do not measure the month (not computed: the
                          meter, not the bill, is in question);
      * comparable        every MP has a span energy and its span covers at least
                          billing_min_covered_share of M's days (covered = days of M between
                          the two readings) and M ended before D;
      * pro rata          each MP's span energy x M's days / the span's days (a span of 29
                          of 30 days is compared as 30 days, so the tolerance judges the bill,
                          not where the boundary readings fell).
    The daily energies summed over M (int_customer_energy_month_to_date on M's last day)
    are shown in the evidence as a cross-check only.
    Names the customer and its area in marketing (C_CONS as of D, any status).
    Bounded: the window's deliveries (date literals on an incremental run) and, for the
    months those deliveries bill (looked up once and rendered as literals), only the
    readings of the boundary days (each boundary +- billing_boundary_read_max_days), the
    metering points and month-to-date energy of the months' last days, and the meter
    changes and backwards-register days dated between the first and the last of those
    boundary days. -#}
{%- set first_day = date_literal(audit_start_date()) if is_incremental() else audit_start_date() %}
{%- set last_day = audit_end_date() %}

{#- The days the window's receivables need (incremental runs only). -#}
{%- set month_ends = [] %}
{%- set boundary_days = [] %}
{%- if is_incremental() and execute and not in_unit_test() %}
    {%- set billed_months = run_query(
        "select distinct billing_month from " ~ ref('int_receivable_deliveries')
        ~ " where delivery_date between " ~ first_day ~ " and " ~ last_day
        ~ " and billing_month is not null") %}
    {%- set max_days_rows = run_query(
        "select setting_value from " ~ ref('audit_settings')
        ~ " where setting_name = 'billing_boundary_read_max_days'") %}
    {%- set max_days = (max_days_rows.columns[0].values()[0] | float | int)
        if max_days_rows.rows | length else 0 %}
    {%- for billing_month in billed_months.columns[0].values() %}
        {#- a RCVBL_YM that is no YYYYMM month bills no measurable month -#}
        {%- if billing_month | length == 6 and billing_month.isdigit()
              and 1 <= (billing_month[4:6] | int) <= 12 %}
            {%- set year = billing_month[:4] | int %}
            {%- set month = billing_month[4:6] | int %}
            {%- set month_start = modules.datetime.date(year, month, 1) %}
            {%- set next_month_start = modules.datetime.date(year + (month // 12), month % 12 + 1, 1) %}
            {%- set month_end = next_month_start - modules.datetime.timedelta(days=1) %}
            {%- set previous_month_end = month_start - modules.datetime.timedelta(days=1) %}
            {%- do month_ends.append(month_end.isoformat()) %}
            {%- for offset in range(-max_days, max_days + 1) %}
                {%- for boundary in [previous_month_end, month_end] %}
                    {%- set day = (boundary + modules.datetime.timedelta(days=offset)).isoformat() %}
                    {%- if day not in boundary_days %}{%- do boundary_days.append(day) %}{%- endif %}
                {%- endfor %}
            {%- endfor %}
        {%- endif %}
    {%- endfor %}
    {%- do boundary_days.sort() %}
{%- endif %}

{#- the literal day lists as SQL (an incremental run with no billed month reads nothing) -#}
{%- set month_end_list = [] %}
{%- for day in month_ends %}
    {%- do month_end_list.append("cast('" ~ day ~ "' as date)") %}
{%- endfor %}
{%- set boundary_list = [] %}
{%- for day in boundary_days %}
    {%- do boundary_list.append("cast('" ~ day ~ "' as date)") %}
{%- endfor %}
{%- set month_end_in = ('in (' ~ month_end_list | join(', ') ~ ')') if month_end_list
    else 'is null and 1 = 0' %}
{%- set boundary_in = ('in (' ~ boundary_list | join(', ') ~ ')') if boundary_list
    else 'is null and 1 = 0' %}
{%- set bounded = is_incremental() and not in_unit_test() %}

with days as (
    {{ audit_days() }}
),

deliveries as (
    select r.*
    from {{ ref('int_receivable_deliveries') }} as r
    inner join days as d
        on d.detected_date = r.delivery_date
    where r.delivery_date between {{ first_day }} and {{ last_day }}
),

-- the billed months and their boundaries (start: the end of M-1, end: the end of M)
billed_months as (
    select
        billing_month,
        month_start_date,
        {{ add_days(-1, 'month_start_date') }} as start_boundary_date,
        cast({{ dbt.last_day('month_start_date', 'month') }} as date) as end_boundary_date
    from (
        select distinct
            billing_month,
            {{ dbt.safe_cast(
                "substr(billing_month, 1, 4) || '-' || substr(billing_month, 5, 2) || '-01'", 'date'
            ) }}
                as month_start_date
        from deliveries
        where {{ dbt.length('billing_month') }} = 6
    ) as parsed
    where month_start_date is not null
),

-- one check per delivery day, customer and billed month that has ended before that day
bill_checks as (
    select distinct
        r.delivery_date,
        r.cons_no,
        m.billing_month,
        m.start_boundary_date,
        m.end_boundary_date,
        {{ dbt.datediff('m.start_boundary_date', 'm.end_boundary_date', 'day') }} as month_days  -- noqa: LT05
    from deliveries as r
    inner join billed_months as m
        on m.billing_month = r.billing_month
    where m.end_boundary_date < r.delivery_date
),

month_points as (
    select
        data_date,
        cons_no,
        mp_id,
        data_id,
        cast(t_factor as {{ audit_type_double() }}) as t_factor,
        digits,
        cast(contract_cap as {{ audit_type_double() }}) as contract_cap
    from {{ ref('int_metering_points_daily') }}
    where meter_role = 'settlement'
        and is_active
    {%- if bounded %}
        and data_date {{ month_end_in }}
    {%- endif %}
),

check_points as (
    select
        c.*,
        p.mp_id,
        p.data_id,
        p.t_factor,
        p.digits,
        p.contract_cap
    from bill_checks as c
    inner join month_points as p
        on p.data_date = c.end_boundary_date
        and p.cons_no = c.cons_no
),

boundary_reads as (
    select
        data_id,
        data_date,
        cast(pap_r as {{ audit_type_double() }}) as pap_r
    from {{ ref('int_day_reads_final') }}
    where pap_r is not null
    {%- if bounded %}
        and data_date {{ boundary_in }}
    {%- endif %}
),

-- the reading of each boundary: nearest within the tolerance, on a tie the one inside M
start_reads as (
    select
        c.delivery_date,
        c.billing_month,
        c.mp_id,
        r.data_date as start_read_date,
        r.pap_r as start_pap_r,
        row_number() over (
            partition by c.delivery_date, c.billing_month, c.mp_id
            order by
                abs({{ dbt.datediff('c.start_boundary_date', 'r.data_date', 'day') }}),  -- noqa: LT05
                r.data_date desc
        ) as read_rank
    from check_points as c
    inner join boundary_reads as r
        on r.data_id = c.data_id
        and r.data_date <= c.delivery_date
        and abs({{ dbt.datediff('c.start_boundary_date', 'r.data_date', 'day') }})
            <= {{ setting('billing_boundary_read_max_days') }}
),

end_reads as (
    select
        c.delivery_date,
        c.billing_month,
        c.mp_id,
        r.data_date as end_read_date,
        r.pap_r as end_pap_r,
        row_number() over (
            partition by c.delivery_date, c.billing_month, c.mp_id
            order by
                abs({{ dbt.datediff('c.end_boundary_date', 'r.data_date', 'day') }}),  -- noqa: LT05
                r.data_date
        ) as read_rank
    from check_points as c
    inner join boundary_reads as r
        on r.data_id = c.data_id
        and r.data_date <= c.delivery_date
        and abs({{ dbt.datediff('c.end_boundary_date', 'r.data_date', 'day') }})
            <= {{ setting('billing_boundary_read_max_days') }}
),

spans as (
    select
        c.*,
        s.start_read_date,
        s.start_pap_r,
        e.end_read_date,
        e.end_pap_r
    from check_points as c
    left join start_reads as s
        on s.delivery_date = c.delivery_date
        and s.billing_month = c.billing_month
        and s.mp_id = c.mp_id
        and s.read_rank = 1
    left join end_reads as e
        on e.delivery_date = c.delivery_date
        and e.billing_month = c.billing_month
        and e.mp_id = c.mp_id
        and e.read_rank = 1
),

meter_changes as (
    select
        mp_id,
        chg_date,
        chg_id,
        cast(old_end_read as {{ audit_type_double() }}) as old_end_read,
        cast(new_start_read as {{ audit_type_double() }}) as new_start_read,
        cast(old_t_factor as {{ audit_type_double() }}) as old_t_factor,
        cast(new_t_factor as {{ audit_type_double() }}) as new_t_factor,
        -- two change records of one MP on one day: the highest CHG_ID (as the daily energy)
        row_number() over (partition by mp_id, chg_date order by chg_id desc) as change_rank
    from {{ ref('stg_marketing__meter_changes') }}
    {%- if bounded %}
    where chg_date between
        {%- if boundary_days %} cast('{{ boundary_days[0] }}' as date)
            and cast('{{ boundary_days[-1] }}' as date)
        {%- else %} cast(null as date) and cast(null as date)
        {%- endif %}
    {%- endif %}
),

span_changes as (
    select
        s.delivery_date,
        s.billing_month,
        s.mp_id,
        m.chg_id,
        m.chg_date,
        m.old_end_read,
        m.new_start_read,
        m.old_t_factor,
        m.new_t_factor,
        count(*) over (partition by s.delivery_date, s.billing_month, s.mp_id) as change_day_count,
        row_number() over (
            partition by s.delivery_date, s.billing_month, s.mp_id order by m.chg_date
        ) as change_order
    from spans as s
    inner join meter_changes as m
        on m.mp_id = s.mp_id
        and m.change_rank = 1
        and m.chg_date > s.start_read_date
        and m.chg_date <= s.end_read_date
),

-- days on which the daily energy found the register backwards (M03)
backwards_days as (
    select
        mp_id,
        data_date
    from {{ ref('int_meter_energy_daily') }}
    where is_register_backwards
    {%- if bounded %}
        and data_date between
        {%- if boundary_days %} cast('{{ boundary_days[0] }}' as date)
            and cast('{{ boundary_days[-1] }}' as date)
        {%- else %} cast(null as date) and cast(null as date)
        {%- endif %}
    {%- endif %}
),

span_backwards as (
    select
        s.delivery_date,
        s.billing_month,
        s.mp_id,
        min(b.data_date) as first_backwards_date
    from spans as s
    inner join backwards_days as b
        on b.mp_id = s.mp_id
        and b.data_date > s.start_read_date
        and b.data_date <= s.end_read_date
    group by s.delivery_date, s.billing_month, s.mp_id
),

span_facts as (
    select
        s.*,
        bw.first_backwards_date,
        ch.chg_id,
        ch.chg_date,
        ch.old_end_read,
        ch.new_start_read,
        ch.old_t_factor,
        ch.new_t_factor,
        coalesce(ch.change_day_count, 0) as change_day_count,
        {{ dbt.datediff('s.start_read_date', 's.end_read_date', 'day') }} as span_days,  -- noqa: LT05
        {{ dbt.datediff(
            'case when s.start_read_date > s.start_boundary_date then s.start_read_date else s.start_boundary_date end',
            'case when s.end_read_date < s.end_boundary_date then s.end_read_date else s.end_boundary_date end',
            'day') }} as covered_days,
        power(10.0, s.digits) as register_full_scale
    from spans as s
    left join span_changes as ch
        on ch.delivery_date = s.delivery_date
        and ch.billing_month = s.billing_month
        and ch.mp_id = s.mp_id
        and ch.change_order = 1
    left join span_backwards as bw
        on bw.delivery_date = s.delivery_date
        and bw.billing_month = s.billing_month
        and bw.mp_id = s.mp_id
),

span_energy as (
    select
        span_facts.*,
        case
            when start_read_date is null or end_read_date is null or change_day_count > 1
                or end_read_date <= start_read_date or first_backwards_date is not null
                then null
            when chg_id is not null
                then (old_end_read - start_pap_r) * old_t_factor
                    + (end_pap_r - new_start_read) * new_t_factor
            when end_pap_r >= start_pap_r then (end_pap_r - start_pap_r) * t_factor
            when start_pap_r >= {{ setting('rollover_min_previous_share') }} * register_full_scale
                and (end_pap_r + register_full_scale - start_pap_r) * t_factor
                    <= contract_cap * {{ setting('plausible_hours_per_day') }} * span_days
                then (end_pap_r + register_full_scale - start_pap_r) * t_factor
        end as span_kwh,
        case
            when chg_id is null and end_pap_r < start_pap_r then 1 else 0
        end as is_rollover_candidate
    from span_facts
),

mp_measured as (
    select
        span_energy.*,
        case
            when data_id is null then '无采集测量点 E_DATA_MP'
            when start_read_date is null
                then '起码: ' || {{ audit_txt('start_boundary_date') }} || ' ±'
                    || {{ audit_txt(setting('billing_boundary_read_max_days', 'integer')) }}
                    || ' 天内无示值'
            when end_read_date is null
                then '止码: ' || {{ audit_txt('end_boundary_date') }} || ' ±'
                    || {{ audit_txt(setting('billing_boundary_read_max_days', 'integer')) }}
                    || ' 天内 (截至 ' || {{ audit_txt('delivery_date') }} || ') 无示值'
            when end_read_date <= start_read_date then '止码日期不晚于起码日期'
            when change_day_count > 1
                then '示值间 C_METER_CHG ' || cast(change_day_count as {{ dbt.type_string() }})
                    || ' 个换表日, 不计算'
            when first_backwards_date is not null
                then '示值间 ' || {{ audit_txt('first_backwards_date') }}
                    || ' 电能表示度下降 (M03), 示值不能计量当月电量'
            when chg_id is not null and span_kwh is null then '换表记录不完整 (CHG_ID=' || chg_id || ')'
            when chg_id is null and t_factor is null then '无电能表 C_METER'
            when span_kwh is null and contract_cap is null
                then '示值下降 (起码 ' || {{ audit_num('start_pap_r') }} || ' > 止码 '
                    || {{ audit_num('end_pap_r') }} || '), 合同容量 C_CONS.CONTRACT_CAP 未知, 不能判断翻转'
            when span_kwh is null
                then '示值下降且非翻转 (起码 ' || {{ audit_num('start_pap_r') }} || ' > 止码 '
                    || {{ audit_num('end_pap_r') }} || ')'
            when cast(covered_days as {{ audit_type_double() }}) / month_days
                < {{ setting('billing_min_covered_share') }}
                then '示值覆盖当月 ' || cast(covered_days as {{ dbt.type_string() }}) || '/'
                    || cast(month_days as {{ dbt.type_string() }}) || ' 天 < '
                    || {{ audit_num(setting('billing_min_covered_share') ~ ' * 100', 1) }} || '%'
        end as not_comparable_reason,
        span_kwh * month_days / nullif(span_days, 0) as month_kwh
    from span_energy
),

mp_evidence as (
    select
        mp_measured.*,
        '计量点 MP_ID=' || mp_id || ': '
        || case
            when start_read_date is null or end_read_date is null then ''
            else '起码 PAP_R=' || {{ audit_num('start_pap_r') }}
                || ' (' || {{ audit_txt('start_read_date') }}
                || '), 止码 PAP_R=' || {{ audit_num('end_pap_r') }}
                || ' (' || {{ audit_txt('end_read_date') }} || '), '
                || case
                    when chg_id is not null
                        then '换表 C_METER_CHG ' || {{ audit_txt('chg_date') }}
                            || ' CHG_ID=' || chg_id
                            || ': (旧表止码 OLD_END_READ=' || {{ audit_num('old_end_read') }}
                            || ' - 起码) x 旧倍率 OLD_T_FACTOR='
                            || {{ audit_num('old_t_factor') }} || ' + (止码 - 新表起码 NEW_START_READ='
                            || {{ audit_num('new_start_read') }}
                            || ') x 新倍率 NEW_T_FACTOR=' || {{ audit_num('new_t_factor') }}
                    when is_rollover_candidate = 1 and span_kwh is not null
                        then '(止码 + 满度 ' || {{ audit_num('register_full_scale', 0) }}
                            || ' - 起码) x 倍率 T_FACTOR='
                            || {{ audit_num('t_factor') }} || ' (示值翻转)'
                    else '(止码 - 起码) x 倍率 T_FACTOR=' || {{ audit_num('t_factor') }}
                end
                || case
                    when span_kwh is null then ''
                    else ' = ' || {{ audit_num('span_kwh') }} || ' kWh, 示值间隔 '
                        || cast(span_days as {{ dbt.type_string() }})
                        || ' 天, 覆盖当月 ' || cast(covered_days as {{ dbt.type_string() }}) || '/'
                        || cast(month_days as {{ dbt.type_string() }}) || ' 天'
                        || case
                            when span_days = month_days then ''
                            else ', 按 ' || cast(month_days as {{ dbt.type_string() }}) || ' 天折算 '
                                || {{ audit_num('month_kwh') }} || ' kWh'
                        end
                end
                || case when not_comparable_reason is null then '' else '; ' end
        end
        || coalesce(not_comparable_reason, '') as mp_text
    from mp_measured
),

customer_measured as (
    select
        delivery_date,
        cons_no,
        billing_month,
        count(*) as mp_count,
        sum(case when not_comparable_reason is null then 1 else 0 end) as comparable_mp_count,
        -- each MP's value rounded to 1e-6 kWh and summed as an exact decimal: the same
        -- total whatever order the database adds the MPs in (registers may be DOUBLE)
        sum(cast(round(month_kwh, 6) as decimal(38, 6))) as month_kwh,
        {{ dbt.listagg('mp_text', "'; '", 'order by mp_id') }} as mp_texts
    from mp_evidence
    group by delivery_date, cons_no, billing_month
),

-- the daily sums of M (cross-check only)
daily_sums as (
    select
        cons_no,
        billing_month,
        month_to_date_kwh,
        month_to_date_measured_days
    from {{ ref('int_customer_energy_month_to_date') }}
    where data_date = month_end_date
    {%- if bounded %}
        and data_date {{ month_end_in }}
    {%- endif %}
),

compared as (
    select
        r.delivery_date,
        r.rcvbl_id,
        r.cons_no,
        r.org_no,
        r.billing_month,
        cast(r.billed_kwh as {{ audit_type_double() }}) as billed_kwh,
        r.read_source_code,
        b.end_boundary_date,
        b.month_days,
        cm.mp_count,
        cm.mp_texts,
        case
            when cm.mp_count > 0 and cm.comparable_mp_count = cm.mp_count
                then cast(cm.month_kwh as {{ audit_type_double() }})
        end as measured_kwh,
        cast(ds.month_to_date_kwh as {{ audit_type_double() }}) as daily_sum_kwh,
        ds.month_to_date_measured_days as daily_sum_days
    from deliveries as r
    left join bill_checks as b
        on b.delivery_date = r.delivery_date
        and b.cons_no = r.cons_no
        and b.billing_month = r.billing_month
    left join customer_measured as cm
        on cm.delivery_date = r.delivery_date
        and cm.cons_no = r.cons_no
        and cm.billing_month = r.billing_month
    left join daily_sums as ds
        on ds.cons_no = r.cons_no
        and ds.billing_month = r.billing_month
        and b.end_boundary_date is not null
),

flagged as (
    select
        compared.*,
        abs(billed_kwh - measured_kwh) as diff_kwh,
        case
            when measured_kwh > 0 then abs(billed_kwh - measured_kwh) / measured_kwh
        end as diff_share,
        case when read_source_code = '03' then 1 else 0 end as is_estimated,
        case
            when measured_kwh is not null
                and abs(billed_kwh - measured_kwh)
                    > {{ setting('billing_mismatch_share') }} * measured_kwh
                and abs(billed_kwh - measured_kwh) > {{ setting('billing_mismatch_min_kwh') }}
                then 1
            else 0
        end as is_mismatch
    from compared
),

receivable_findings as (
    select
        f.delivery_date as detected_date,
        -- not a no-op: the customers' staging keeps the raw upper-case name (TG_ID)
        c.tg_id as tg_id,  -- noqa: AL09
        coalesce(c.org_no, f.org_no) as org_no,
        f.cons_no,
        f.rcvbl_id,
        f.is_estimated,
        f.is_mismatch,
        f.diff_share,
        case
            when f.is_estimated = 1 and f.is_mismatch = 1 then '估抄且电量差错: '
            when f.is_estimated = 1 then '估抄: '
            else '抄表差错嫌疑: '
        end
        || 'RCVBL_ID=' || f.rcvbl_id || ', 电费年月 RCVBL_YM=' || {{ audit_txt('f.billing_month') }}
        || ', 抄表方式 READ_SRC=' || {{ audit_txt('f.read_source_code') }}
        || case f.read_source_code
            when '01' then '(采集自动抄表)' when '02' then '(人工抄表)' when '03' then '(估抄)' else ''
        end
        || ', 计费电量 T_PQ=' || {{ audit_num('f.billed_kwh') }} || ' kWh; 采集电量 '
        || case
            when f.end_boundary_date is null
                then '无 (电费年月不是已结束的月份, 不比对)'
            when coalesce(f.mp_count, 0) = 0
                then '无 (' || {{ audit_txt('f.end_boundary_date') }}
                    || ' 无在用结算计量点 C_MP USAGE_TYPE_CODE=01 STATUS_CODE=1 或该日不在已加载的数据内, 不比对)'
            when f.measured_kwh is null
                then '无 (不比对: ' || f.mp_texts || ')'
            else '(E_MP_DAY_READ 月末示值差 x 倍率)=' || {{ audit_num('f.measured_kwh') }} || ' kWh ['
                || f.mp_texts || '], 差值 T_PQ-采集 '
                || {{ audit_num('f.billed_kwh - f.measured_kwh') }} || ' kWh ('
                || {{ audit_num('f.diff_share * 100', 1) }} || '%); 阈值 > '
                || {{ audit_num(setting('billing_mismatch_share') ~ ' * 100', 1) }} || '% 且 > '
                || {{ audit_num(setting('billing_mismatch_min_kwh')) }} || ' kWh'
        end
        || case
            when f.end_boundary_date is null then ''
            when f.daily_sum_days is null then '; 逐日电量核对: 无'
            else '; 逐日电量核对: ' || cast(f.daily_sum_days as {{ dbt.type_string() }}) || '/'
                || cast(f.month_days as {{ dbt.type_string() }}) || ' 天有日电量, 合计 '
                || {{ audit_num('f.daily_sum_kwh') }} || ' kWh'
        end as receivable_evidence
    from flagged as f
    left join {{ archive_rows('stg_marketing__customers') }} as c
        on {{ as_of('f.delivery_date', 'c') }}
        and c.cons_no = f.cons_no
    where f.is_estimated = 1
        or f.is_mismatch = 1
)

-- one finding per customer and day (the finding's identity): the receivables delivered
-- that day that fire, listed in the evidence; the largest relative difference as metric
select
    detected_date,
    tg_id,
    min(org_no) as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'B02' as problem_code,
    '应收电费 A_RCVBL_FLOW ' || {{ audit_txt('detected_date') }} || ' 交付: '
    || {{ dbt.listagg('receivable_evidence', "' | '", 'order by rcvbl_id') }} as evidence,
    cast(max(diff_share) as {{ audit_type_double() }}) as metric_value,
    cast({{ setting('billing_mismatch_share') }} as {{ audit_type_double() }}) as threshold_value
from receivable_findings
group by detected_date, tg_id, cons_no
