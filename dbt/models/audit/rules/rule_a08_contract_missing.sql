{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A08 供用电合同缺失或超期: an active customer of VOLT_CODE contract_volt_code (10 kV)
    with no C_CONTRACT row as of D, or whose newest contract (latest SIGN_DATE, then
    VALID_DATE, then AGRT_NO) has INVALID_DATE < D. An empty INVALID_DATE never expires.
    Only on days the contract archive exists. -#}
with days as (
    {{ audit_days() }}
),

contract_days as (
    {{ archive_days('stg_marketing__contracts') }}
),

customers as (
    select d.detected_date, c.cons_no, c.org_no, c.tg_id, c.volt_code
    from days as d
    inner join contract_days as cd
        on cd.detected_date = d.detected_date
    inner join {{ archive_rows('stg_marketing__customers') }} as c
        on {{ as_of('d.detected_date', 'c') }}
    where c.status_code = '1'
        and c.volt_code = {{ setting('contract_volt_code', dbt.type_string()) }}
),

ranked as (
    select
        c.detected_date,
        c.cons_no,
        k.agrt_no,
        k.sign_date,
        k.invalid_date,
        row_number() over (
            partition by c.detected_date, c.cons_no
            order by
                coalesce(k.sign_date, k.valid_date, cast('1900-01-01' as date)) desc,
                coalesce(k.valid_date, cast('1900-01-01' as date)) desc,
                k.agrt_no desc
        ) as contract_rank,
        count(*) over (partition by c.detected_date, c.cons_no) as contract_count
    from customers as c
    inner join {{ archive_rows('stg_marketing__contracts') }} as k
        on {{ as_of('c.detected_date', 'k') }}
        and k.cons_no = c.cons_no
)

select
    c.detected_date,
    c.tg_id,
    c.org_no,
    c.cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A08' as problem_code,
    case
        when r.cons_no is null
            then 'VOLT_CODE=' || c.volt_code || ' 客户无供用电合同 (C_CONTRACT 无记录)'
        else 'VOLT_CODE=' || c.volt_code || ' 客户最新合同 AGRT_NO=' || r.agrt_no
            || ' (SIGN_DATE=' || {{ audit_txt('r.sign_date') }} || ') INVALID_DATE='
            || {{ audit_txt('r.invalid_date') }} || ' 早于 ' || {{ audit_txt('c.detected_date') }}
            || ', 已超期 '
            || cast(
                {{ dbt.datediff('r.invalid_date', 'c.detected_date', 'day') }}
                as {{ dbt.type_string() }}
            )
            || ' 天; 合同数 ' || cast(r.contract_count as {{ dbt.type_string() }})
    end as evidence,
    cast(
        case when r.cons_no is not null
            then {{ dbt.datediff('r.invalid_date', 'c.detected_date', 'day') }} end  -- noqa: LT05
        as {{ audit_type_double() }}
    ) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
from customers as c
left join ranked as r
    on r.detected_date = c.detected_date
    and r.cons_no = c.cons_no
    and r.contract_rank = 1
where r.cons_no is null
    or r.invalid_date < c.detected_date
