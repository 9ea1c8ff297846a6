{{ config(**audit_rule_config()) }}
{#- B02 估抄/抄表差错嫌疑: on every day D a receivable of month M (RCVBL_YM) is delivered
    (int_receivable_deliveries: issue and every later re-delivery; the day's last line),
    it fires when
      * READ_SRC = '03' (估抄), always; or
      * its billed energy T_PQ differs from the acquisition-measured energy of month M by
        more than billing_mismatch_share of the measured energy AND by more than
        billing_mismatch_min_kwh. Measured energy = the sum of the customer's settlement
        metering points' daily forward energy over every day of M
        (int_customer_energy_month_to_date on M's last day); compared only when every day
        of M was measured (a day without a valid energy, or outside the loaded readings,
        e.g. the first loaded day, means no comparison) and M ended before D.
    Names the customer and its area in marketing (C_CONS as of D, any status).
    Bounded: the window's deliveries (date literals on an incremental run) and, of the
    month-to-date table, only the month-end days of the months those deliveries bill
    (looked up once and rendered as literals). -#}
{%- set first_day = date_literal(audit_start_date()) if is_incremental() else audit_start_date() %}
{%- set last_day = audit_end_date() %}

{#- The month-end days the window's receivables need (incremental runs only). -#}
{%- set month_ends = [] %}
{%- if is_incremental() and execute and not in_unit_test() %}
    {%- set billed_months = run_query(
        "select distinct billing_month from " ~ ref('int_receivable_deliveries')
        ~ " where delivery_date between " ~ first_day ~ " and " ~ last_day
        ~ " and billing_month is not null") %}
    {%- for billing_month in billed_months.columns[0].values() %}
        {%- set year = billing_month[:4] | int %}
        {%- set month = billing_month[4:6] | int %}
        {%- set next_month_start = modules.datetime.date(year + (month // 12), month % 12 + 1, 1) %}
        {%- do month_ends.append((next_month_start - modules.datetime.timedelta(days=1)).isoformat()) %}
    {%- endfor %}
{%- endif %}

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

measured_months as (
    select
        cons_no,
        billing_month,
        month_end_date,
        month_to_date_kwh as measured_kwh,
        month_to_date_measured_days as measured_days
    from {{ ref('int_customer_energy_month_to_date') }}
    where data_date = month_end_date
        and is_measured_to_date = 1
    {%- if is_incremental() and not in_unit_test() %}
        {%- if month_ends %}
        and data_date in (
            {%- for day in month_ends %}cast('{{ day }}' as date){{ ', ' if not loop.last }}{% endfor -%}
        )
        {%- else %}
        and 1 = 0
        {%- endif %}
    {%- endif %}
),

compared as (
    select
        r.delivery_date,
        r.rcvbl_id,
        r.cons_no,
        r.org_no,
        r.billing_month,
        r.billed_kwh,
        r.read_source_code,
        m.measured_kwh,
        m.measured_days,
        abs(r.billed_kwh - m.measured_kwh) as diff_kwh,
        case
            when m.measured_kwh > 0 then abs(r.billed_kwh - m.measured_kwh) / m.measured_kwh
        end as diff_share
    from deliveries as r
    left join measured_months as m
        on m.cons_no = r.cons_no
        and m.billing_month = r.billing_month
        and m.month_end_date < r.delivery_date
),

flagged as (
    select
        compared.*,
        case when read_source_code = '03' then 1 else 0 end as is_estimated,
        case
            when measured_kwh is not null
                and diff_kwh > {{ setting('billing_mismatch_share') }} * measured_kwh
                and diff_kwh > {{ setting('billing_mismatch_min_kwh') }}
                then 1
            else 0
        end as is_mismatch
    from compared
),

receivable_findings as (
    select
        f.delivery_date as detected_date,
        c.tg_id as tg_id,
        coalesce(c.org_no, f.org_no) as org_no,
        f.cons_no as cons_no,
        f.rcvbl_id as rcvbl_id,
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
            when f.measured_kwh is null
                then '无 (该月并非每天都有有效的采集日电量或不在已加载的数据内, 不比对)'
            else '(E_MP_DAY_READ 结算计量点正向电量 ' || cast(f.measured_days as {{ dbt.type_string() }})
                || ' 天合计)=' || {{ audit_num('f.measured_kwh') }} || ' kWh, 差值 T_PQ-采集 '
                || {{ audit_num('f.billed_kwh - f.measured_kwh') }} || ' kWh ('
                || {{ audit_num('f.diff_share * 100', 1) }} || '%); 阈值 > '
                || {{ audit_num(setting('billing_mismatch_share') ~ ' * 100', 1) }} || '% 且 > '
                || {{ audit_num(setting('billing_mismatch_min_kwh')) }} || ' kWh'
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
