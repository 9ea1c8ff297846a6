{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="
            {%- if is_incremental() -%}
                {%- set bounds = run_query('select day_facts_from_date, event_facts_from_date, to_date from ' ~ ref('int_kpi_window')).rows[0] -%}
                delete from {{ this }}
                where data_date between cast('{{ bounds[1] }}' as date) and cast('{{ bounds[2] }}' as date)
                    and (data_date >= cast('{{ bounds[0] }}' as date)
                         or indicator_code in ('deposit_timely_rate', 'arrival_timely_rate', 'hv_connect_days'))
            {%- else -%}
                select 1 as nothing_to_clear
            {%- endif -%}"
    )
}}
{{ run_window_depends_on() }}
{#- 同业对标明细 (audit-rules.md §4 and the three 营配贯通 indicators): one row per indicator,
    day and object (area tg_id / metering point mp_id / customer cons_no / receivable
    rcvbl_id / payment pay_id / application app_no) with its numerator and denominator, its
    unit (org_no) and the 供电所 / 县公司 / 地市公司 above it as of the day. marts.unit_kpis
    sums these rows; a unit's figure drills down to its areas and customers with a plain
    join (indicator_code, data_date between fact_date_from and fact_date_to, org_no in
    (station_no, county_no, city_no)). Codes, names and definitions: marts.dim_kpi_indicator.

    Which day and which unit (where §4 is silent):
      areas (loss_qualified_rate, area_computable_rate)  every marts.area_daily_loss row
          of D (in-service areas); unit = G_TG.ORG_NO; loss_qualified_rate only the
          computable ones
      meters (collection_success_rate)  active settlement MPs (C_MP 01 / 1 as of D, the
          line-loss meter_count population, int_meter_energy_daily); a reading = a row of
          DATA_DATE D with PAP_R through the MP's data point; unit = the customer's
          C_CONS.ORG_NO as of D (the area's G_TG.ORG_NO when the customer is unknown)
      receivables (fee_recovery_rate, hv_auto_read_billing_rate)  day D: every receivable
          issued in D's month up to D (ISSUE_DATE = 出账日期; RCVBL_YM is the consumption
          month, so a month's own bills are those issued in it), in its latest delivery on
          or before D (int_receivable_deliveries): the month-to-date state; unit = the
          receivable's ORG_NO; 10 kV = the customer's C_CONS.VOLT_CODE '03' as of D
      payments (deposit_timely_rate, arrival_timely_rate)  the day of CHARGE_TIME, the
          payment's final state; unit = the customer's C_CONS.ORG_NO as of that day;
          timely when DEPOSIT_DATE (ARRIVE_DATE) - date(CHARGE_TIME) <= kpi_deposit_max_days
          (kpi_arrive_max_days) days; an empty date is not timely
      applications (hv_connect_days)  APP_BIZ VOLT_CODE '03' as in the newest archive of
          the run, on its POWER_ON_DATE; numerator = days APPLY_DATE -> POWER_ON_DATE,
          denominator = 1, so the figure is the mean; unit = APP_BIZ.ORG_NO (受理单位); a
          POWER_ON_DATE before APPLY_DATE is a data error and is not counted
      customers (urban_sms_coverage_rate)  active (STATUS_CODE 1) urban (URBAN_RURAL_FLAG
          1) residential (ELEC_TYPE_CODE 201) customers as of D, counted once each; covered
          when any of its C_CONTACT rows (01 电气联系人 or 02 账务联系人) has SMS_FLAG 1 (the
          bill SMS reaches the customer through either); no contact row = not covered
      营配贯通 (lv_customer_consistency_rate, area_mapping_rate,
          meter_archive_consistency_rate)  the archive comparisons of rules A01, A02 and
          A04-A06 (macros/audit/audit_archives.sql), unit as there
    A fact whose unit is not in O_ORG as of its day keeps empty unit columns (in no roll-up).

    Days (int_kpi_window): the day-state facts are rebuilt for day_facts_from_date ..
    to_date (the audit window), the event facts (payments, applications) from
    event_facts_from_date (earlier when a late delivery changes an earlier day). Inputs are
    read for those days only: the loss / energy tables by data_date, the receivable
    deliveries from the 1st of the month, the raw payments by export day (a payment is
    delivered on or after its CHARGE_TIME day), the archives from the snapshot in effect on
    the first day (archive_rows). A daily run reads one day (receivables: one month). -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'event_facts_from_date', 'month_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
{%- set event_from = bounds['event_facts_from_date'] -%}
{%- set month_from = bounds['month_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

-- the days of the day-state facts; `days(detected_date)` is what the archive macros expect
days as (

    select data_date as detected_date
    from ({{ day_spine(day_from, to_date) }}) as spine

),

event_days as (

    {{ day_spine(event_from, to_date) }}

),

settings as (

    select
        {{ setting('kpi_deposit_max_days') }}   as deposit_max_days,
        {{ setting('kpi_arrive_max_days') }}    as arrive_max_days

),

customers as (

    select *
    from {{ archive_rows('stg_marketing__customers', event_from) }} as c

),

-- ---------------------------------------------------------------- the unit chain as of D
orgs as (

    select event_days.data_date, o.org_no, o.org_type, o.p_org_no
    from event_days
    inner join {{ archive_rows('stg_marketing__orgs', event_from) }} as o
        on {{ as_of('event_days.data_date', 'o') }}

),

org_chain as (

    select
        o0.data_date,
        o0.org_no,
        {%- for level, org_type in [('station', '04'), ('county', '03'), ('city', '02')] %}
        case
            when o0.org_type = '{{ org_type }}' then o0.org_no
            when o1.org_type = '{{ org_type }}' then o1.org_no
            when o2.org_type = '{{ org_type }}' then o2.org_no
        end as {{ level }}_no{{ ',' if not loop.last }}
        {%- endfor %}
    from orgs as o0
    left join orgs as o1
        on o1.data_date = o0.data_date
        and o1.org_no = o0.p_org_no
    left join orgs as o2
        on o2.data_date = o1.data_date
        and o2.org_no = o1.p_org_no

),

-- ---------------------------------------------------------------- areas (台区线损)
area_days as (

    select
        l.data_date,
        l.tg_id,
        l.org_no,
        l.loss_status,
        l.loss_rate,
        l.meter_count,
        l.meter_read_count,
        l.uncomputable_reason,
        'marts.area_daily_loss loss_status=' || {{ audit_txt('l.loss_status') }}
            || case
                when l.loss_status = 'uncomputable'
                    then ' (' || {{ audit_txt('l.uncomputable_reason') }} || ')'
                else ', loss_rate=' || {{ audit_num('100 * l.loss_rate') }} || ' %'
            end
            || ', meter_read_count/meter_count=' || {{ audit_txt('l.meter_read_count') }}
            || '/' || {{ audit_txt('l.meter_count') }} as detail
    from {{ ref('area_daily_loss') }} as l
    where l.data_date between {{ day_from }} and {{ to_date }}

),

area_facts as (

    select
        data_date,
        'area_computable_rate' as indicator_code,
        'area' as object_type,
        tg_id as object_id,
        tg_id,
        cast(null as {{ dbt.type_string() }}) as cons_no,
        org_no,
        case when loss_status <> 'uncomputable' then 1 else 0 end as numerator_value,
        1 as denominator_value,
        detail
    from area_days

    union all

    select
        data_date,
        'loss_qualified_rate',
        'area',
        tg_id,
        tg_id,
        cast(null as {{ dbt.type_string() }}),
        org_no,
        case when loss_status = 'qualified' then 1 else 0 end,
        1,
        detail
    from area_days
    where loss_status <> 'uncomputable'

),

-- ---------------------------------------------------------------- meters (采集成功率)
meter_facts as (

    select
        e.data_date,
        'collection_success_rate' as indicator_code,
        'meter' as object_type,
        e.mp_id as object_id,
        e.tg_id,
        e.cons_no,
        coalesce(e.cons_org_no, a.org_no) as org_no,
        case when e.pap_r is not null then 1 else 0 end as numerator_value,
        1 as denominator_value,
        case
            when e.data_id is null then 'E_DATA_MP 无 MP_ID=' || e.mp_id || ' 的测量点 (采集未覆盖)'
            when e.pap_r is null then 'E_MP_DAY_READ 无 DATA_ID=' || e.data_id || ' DATA_DATE='
                || {{ audit_txt('e.data_date') }} || ' 的日冻结示值 (采集失败)'
            else 'E_MP_DAY_READ DATA_ID=' || e.data_id || ' DATA_DATE=' || {{ audit_txt('e.data_date') }}
                || ' PAP_R=' || {{ audit_num('e.pap_r') }}
        end as detail
    from {{ ref('int_meter_energy_daily') }} as e
    left join {{ ref('int_areas_daily') }} as a
        on a.data_date = e.data_date
        and a.tg_id = e.tg_id
        and a.data_date between {{ day_from }} and {{ to_date }}
    where e.data_date between {{ day_from }} and {{ to_date }}
        and e.meter_role = 'settlement'
        and e.mp_status_code = '1'

),

-- ---------------------------------------------------------------- receivables (电费回收率, 专变出帐率)
receivable_versions as (

    select
        r.*,
        lead(r.delivery_date) over (partition by r.rcvbl_id order by r.delivery_date) as next_delivery_date
    from {{ ref('int_receivable_deliveries') }} as r
    -- every delivery of a receivable issued in a month is on or after the month's 1st
    where r.delivery_date between {{ month_from }} and {{ to_date }}

),

receivable_days as (

    select
        days.detected_date as data_date,
        v.rcvbl_id,
        v.cons_no,
        v.org_no,
        v.billing_month,
        v.read_source_code,
        v.receivable_amount,
        v.received_amount,
        v.issue_date,
        v.settle_flag,
        v.delivery_date,
        c.volt_code,
        c.tg_id
    from days
    inner join receivable_versions as v
        on v.delivery_date <= days.detected_date
        and (v.next_delivery_date is null or v.next_delivery_date > days.detected_date)
        and v.issue_date between cast({{ dbt.date_trunc('month', 'days.detected_date') }} as date)
            and days.detected_date
    left join customers as c
        on c.cons_no = v.cons_no
        and {{ as_of('days.detected_date', 'c') }}

),

receivable_facts as (

    select
        data_date,
        'fee_recovery_rate' as indicator_code,
        'receivable' as object_type,
        rcvbl_id as object_id,
        tg_id,
        cons_no,
        org_no,
        -- 元 at 分 (yuan_type), summed exactly by marts.unit_kpis
        cast(coalesce(received_amount, 0) as {{ yuan_type() }}) as numerator_value,
        cast(coalesce(receivable_amount, 0) as {{ yuan_type() }}) as denominator_value,
        'A_RCVBL_FLOW RCVBL_ID=' || rcvbl_id || ' RCVBL_YM=' || {{ audit_txt('billing_month') }}
            || ' ISSUE_DATE=' || {{ audit_txt('issue_date') }}
            || ' RCVBL_AMT=' || {{ audit_num('receivable_amount') }}
            || ' RCVED_AMT=' || {{ audit_num('received_amount') }}
            || ' SETTLE_FLAG=' || {{ audit_txt('settle_flag') }}
            || ' (交付日 ' || {{ audit_txt('delivery_date') }} || ')' as detail
    from receivable_days

    union all

    select
        data_date,
        'hv_auto_read_billing_rate',
        'receivable',
        rcvbl_id,
        tg_id,
        cons_no,
        org_no,
        case when read_source_code = '01' then 1 else 0 end,
        1,
        'A_RCVBL_FLOW RCVBL_ID=' || rcvbl_id || ' RCVBL_YM=' || {{ audit_txt('billing_month') }}
            || ' READ_SRC=' || {{ audit_txt('read_source_code') }}
            || case read_source_code
                when '01' then ' (采集自动抄表)' when '02' then ' (人工抄表)' when '03' then ' (估抄)' else ''
            end
            || ', C_CONS VOLT_CODE=' || {{ audit_txt('volt_code') }}
    from receivable_days
    where volt_code = '03'

),

-- ---------------------------------------------------------------- payments (入行及时率, 达帐率)
payment_deliveries as (

    select
        p.pay_id,
        p.cons_no,
        p.rcvbl_id,
        p.pay_amt,
        p.charge_time,
        p.deposit_date,
        p.arrive_date,
        cast(p.charge_time as date) as charge_date,
        -- the final state: the later export day, then the later line, wins
        row_number() over (
            partition by p.pay_id
            order by p._export_date desc, p._line_number desc
        ) as delivery_rank
    from {{ delivered_rows('stg_collection__payments', 'raw_collection', 'A_PAY_FLOW') }} as p
    where p._export_date between {{ event_from }} and {{ to_date }}
        and p.pay_id is not null

),

payments as (

    select
        d.*,
        c.org_no,
        c.tg_id,
        {{ dbt.datediff('d.charge_date', 'd.deposit_date', 'day') }} as deposit_days,
        {{ dbt.datediff('d.charge_date', 'd.arrive_date', 'day') }} as arrive_days
    from payment_deliveries as d
    left join customers as c
        on c.cons_no = d.cons_no
        and {{ as_of('d.charge_date', 'c') }}
    where d.delivery_rank = 1
        and d.charge_date between {{ event_from }} and {{ to_date }}

),

payment_facts as (

    select
        p.charge_date as data_date,
        'deposit_timely_rate' as indicator_code,
        'payment' as object_type,
        p.pay_id as object_id,
        p.tg_id,
        p.cons_no,
        p.org_no,
        case when p.deposit_days <= s.deposit_max_days then 1 else 0 end as numerator_value,
        1 as denominator_value,
        'A_PAY_FLOW PAY_ID=' || p.pay_id || ' RCVBL_ID=' || {{ audit_txt('p.rcvbl_id') }}
            || ' PAY_AMT=' || {{ audit_num('p.pay_amt') }}
            || ' CHARGE_TIME=' || {{ audit_txt('p.charge_time') }}
            || ' DEPOSIT_DATE=' || {{ audit_txt('p.deposit_date') }}
            || ' (收费后 ' || {{ audit_txt('p.deposit_days') }} || ' 天入行, 限 '
            || {{ audit_num('s.deposit_max_days', 0) }} || ' 天)' as detail
    from payments as p
    cross join settings as s

    union all

    select
        p.charge_date,
        'arrival_timely_rate',
        'payment',
        p.pay_id,
        p.tg_id,
        p.cons_no,
        p.org_no,
        case when p.arrive_days <= s.arrive_max_days then 1 else 0 end,
        1,
        'A_PAY_FLOW PAY_ID=' || p.pay_id || ' RCVBL_ID=' || {{ audit_txt('p.rcvbl_id') }}
            || ' PAY_AMT=' || {{ audit_num('p.pay_amt') }}
            || ' CHARGE_TIME=' || {{ audit_txt('p.charge_time') }}
            || ' ARRIVE_DATE=' || {{ audit_txt('p.arrive_date') }}
            || ' (收费后 ' || {{ audit_txt('p.arrive_days') }} || ' 天到账, 限 '
            || {{ audit_num('s.arrive_max_days', 0) }} || ' 天)'
    from payments as p
    cross join settings as s

),

-- ---------------------------------------------------------------- applications (接电时间)
application_facts as (

    select
        a.power_on_date as data_date,
        'hv_connect_days' as indicator_code,
        'application' as object_type,
        a.app_no as object_id,
        c.tg_id,
        a.cons_no,
        a.org_no,
        {{ dbt.datediff('a.apply_date', 'a.power_on_date', 'day') }} as numerator_value,
        1 as denominator_value,
        'APP_BIZ APP_NO=' || a.app_no || ' BUSI_TYPE=' || {{ audit_txt('a.busi_type') }}
            || ' VOLT_CODE=' || {{ audit_txt('a.volt_code') }}
            || ' APPLY_DATE=' || {{ audit_txt('a.apply_date') }}
            || ' POWER_ON_DATE=' || {{ audit_txt('a.power_on_date') }}
            || ' (接电 ' || cast({{ dbt.datediff('a.apply_date', 'a.power_on_date', 'day') }} as {{ dbt.type_string() }})
            || ' 天, STATUS_CODE=' || {{ audit_txt('a.status_code') }} || ')' as detail
    -- the newest archive of the run: a completion is archived some days after POWER_ON_DATE
    from {{ archive_rows('stg_marketing__applications', to_date) }} as a
    left join customers as c
        on c.cons_no = a.cons_no
        and {{ as_of('a.power_on_date', 'c') }}
    where {{ as_of(to_date, 'a') }}
        and a.volt_code = '03'
        and a.power_on_date between {{ event_from }} and {{ to_date }}
        and a.apply_date is not null
        and a.power_on_date >= a.apply_date

),

-- ---------------------------------------------------------------- customers (短信通覆盖率)
sms_contacts as (

    select
        days.detected_date,
        k.cons_no,
        max(case when k.sms_flag = '1' then 1 else 0 end) as is_subscribed,
        {{ dbt.listagg(
            "k.contact_mode || ' SMS_FLAG=' || " ~ audit_txt('k.sms_flag'),
            "'; '",
            "order by k.contact_mode") }} as contact_list
    from days
    inner join {{ archive_rows('stg_marketing__contacts') }} as k
        on {{ as_of('days.detected_date', 'k') }}
    group by days.detected_date, k.cons_no

),

sms_facts as (

    select
        days.detected_date as data_date,
        'urban_sms_coverage_rate' as indicator_code,
        'customer' as object_type,
        c.cons_no as object_id,
        c.tg_id,
        c.cons_no,
        c.org_no,
        coalesce(k.is_subscribed, 0) as numerator_value,
        1 as denominator_value,
        'C_CONS URBAN_RURAL_FLAG=1 ELEC_TYPE_CODE=201; C_CONTACT '
            || coalesce(k.contact_list, '无联系信息') as detail
    from days
    inner join customers as c
        on {{ as_of('days.detected_date', 'c') }}
    left join sms_contacts as k
        on k.detected_date = days.detected_date
        and k.cons_no = c.cons_no
    where c.status_code = '1'
        and c.urban_rural_flag = '1'
        and c.elec_type_code = '201'

),

-- ---------------------------------------------------------------- 营配贯通 (A01 / A02 / A04-A06)
{{ customer_area_archives('customer_areas') }},

{{ area_transformer_mappings('area_mappings') }},

{{ mp_meter_archives('mp_archives') }},

archive_facts as (

    select
        detected_date as data_date,
        'lv_customer_consistency_rate' as indicator_code,
        'customer' as object_type,
        cons_no as object_id,
        mkt_tg_id as tg_id,
        cons_no,
        org_no,
        case
            when mkt_tg_id is not null
                and gis_tg_id = mkt_tg_id
                and acq_tg_id_count = 1
                and acq_tg_id_min = mkt_tg_id then 1
            else 0
        end as numerator_value,
        1 as denominator_value,
        '营销 C_CONS.TG_ID=' || {{ audit_txt('mkt_tg_id') }}
            || ', GIS T_TX_DYYH.SSBYQ=' || {{ audit_txt('gis_transformer_id') }}
            || ' -> ST_TQ_BYQ.YX_TQ_BS=' || {{ audit_txt('gis_tg_id') }}
            || ', 采集 E_DATA_MP.TG_ID=' || {{ audit_txt('acq_tg_id_min') }}
            || case when acq_tg_id_count > 1 then '..' || acq_tg_id_max else '' end as detail
    from customer_areas
    where volt_code in ('01', '02')

    union all

    select
        detected_date,
        'area_mapping_rate',
        'area',
        tg_id,
        tg_id,
        cast(null as {{ dbt.type_string() }}),
        org_no,
        is_mapped,
        1,
        'ST_TQ_BYQ/T_SB_ZNYC_PDBYQ 配变: ' || coalesce(transformer_list, '无对应配变')
    from area_mappings
    where is_in_service = 1

    union all

    select
        detected_date,
        'meter_archive_consistency_rate',
        'meter',
        mp_id,
        tg_id,
        cons_no,
        org_no,
        case
            when acq_count > 0
                and acq_asset_no_min = mkt_asset_no
                and acq_asset_no_max = mkt_asset_no
                and abs(acq_t_factor_min - mkt_t_factor) <= 0.000001
                and abs(acq_t_factor_max - mkt_t_factor) <= 0.000001 then 1
            else 0
        end,
        1,
        '营销 C_METER ASSET_NO=' || {{ audit_txt('mkt_asset_no') }} || ' T_FACTOR=' || {{ audit_num('mkt_t_factor', 4) }}
            || case
                when acq_count = 0 then '; 采集 E_DATA_MP 无此计量点'
                else '; 采集 E_DATA_MP ASSET_NO=' || {{ audit_txt('acq_asset_no_min') }}
                    || ' T_FACTOR=' || {{ audit_num('acq_t_factor_min', 4) }}
            end
    from mp_archives
    where usage_type_code = '01'

),

facts as (

    select * from area_facts
    union all
    select * from meter_facts
    union all
    select * from receivable_facts
    union all
    select * from payment_facts
    union all
    select * from application_facts
    union all
    select * from sms_facts
    union all
    select * from archive_facts

)

select
    cast(f.data_date as date)                                   as data_date,
    cast(f.indicator_code as {{ dbt.type_string() }})           as indicator_code,
    cast(f.object_type as {{ dbt.type_string() }})              as object_type,
    cast(f.object_id as {{ dbt.type_string() }})                as object_id,
    cast(f.tg_id as {{ dbt.type_string() }})                    as tg_id,
    cast(f.cons_no as {{ dbt.type_string() }})                  as cons_no,
    cast(f.org_no as {{ dbt.type_string() }})                   as org_no,
    cast(u.station_no as {{ dbt.type_string() }})               as station_no,
    cast(u.county_no as {{ dbt.type_string() }})                as county_no,
    cast(u.city_no as {{ dbt.type_string() }})                  as city_no,
    cast(f.numerator_value as {{ kpi_quantity_type() }})        as numerator_value,
    cast(f.denominator_value as {{ kpi_quantity_type() }})      as denominator_value,
    -- the evidence of the objects that do not count fully in the numerator (what a
    -- drill-down looks for) and of every application; the others are plain successes
    -- (kept empty: a day of a large utility has hundreds of thousands of facts)
    cast(case
        when f.numerator_value < f.denominator_value or f.indicator_code = 'hv_connect_days'
            then f.detail
    end as {{ dbt.type_string() }})                             as detail
from facts as f
left join org_chain as u
    on u.data_date = f.data_date
    and u.org_no = f.org_no
