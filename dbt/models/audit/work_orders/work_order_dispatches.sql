{{ config(**audit_daily_config('dispatch_date')) }}
{#- 工单派发: one row per work order, on its dispatch day (audit.work_order_states
    dispatched_no), with the finding it was dispatched for and everything its list line
    carries (docs/work-orders.md §5): the finding's unit and area, the real (unmasked) names
    of the 供电所, the area and the customer and the customer's address (the crew must find
    the customer; this audit table is not published), the finding's evidence
    (疑似问题描述), the catalogue's suggested action, the run of consecutive days. Names are
    the archives' as of the dispatch day. Incremental by dispatch_date. -#}
{%- set first_day = date_literal(audit_start_date()) %}

with

dispatched as (

    select
        s.state_date as dispatch_date,
        s.dispatched_no as work_order_no,
        s.finding_key,
        s.problem_code,
        s.dispatched_org_no as receiving_org_no,
        s.closed_no as ineffective_work_order_no
    from {{ ref('work_order_states') }} as s
    where s.state_date between {{ audit_start_date() }} and {{ audit_end_date() }}
        and s.dispatched_no is not null

),

days as (

    select distinct dispatch_date as detected_date from dispatched

),

{{ org_units('org_units', days='days', from_date=first_day) }},

findings as (

    select h.*
    from {{ ref('problem_history') }} as h
    where h.detected_date between {{ audit_start_date() }} and {{ audit_end_date() }}

),

areas as (

    select d.detected_date, g.tg_id, g.tg_name
    from days as d
    inner join {{ archive_rows('stg_marketing__areas', first_day) }} as g
        on {{ as_of('d.detected_date', 'g') }}

),

customers as (

    select d.detected_date, c.cons_no, c.cons_name, c.elec_addr
    from days as d
    inner join {{ archive_rows('stg_marketing__customers', first_day) }} as c
        on {{ as_of('d.detected_date', 'c') }}

)

select
    cast(w.dispatch_date as date)                                   as dispatch_date,
    cast(w.work_order_no as {{ dbt.type_string() }})                as work_order_no,
    cast(w.finding_key as {{ dbt.type_string() }})                  as finding_key,
    cast(w.problem_code as {{ dbt.type_string() }})                 as problem_code,
    cast(pc.problem_name as {{ dbt.type_string() }})                as problem_name,
    cast(f.tg_id as {{ dbt.type_string() }})                        as tg_id,
    cast(g.tg_name as {{ dbt.type_string() }})                      as tg_name,
    cast(f.cons_no as {{ dbt.type_string() }})                      as cons_no,
    cast(c.cons_name as {{ dbt.type_string() }})                    as cons_name,
    cast(c.elec_addr as {{ dbt.type_string() }})                    as elec_addr,
    cast(f.app_no as {{ dbt.type_string() }})                       as app_no,
    cast(f.org_no as {{ dbt.type_string() }})                       as finding_org_no,
    cast(fu.station_no as {{ dbt.type_string() }})                  as finding_station_no,
    cast(coalesce(fu.station_name, fu.org_name) as {{ dbt.type_string() }}) as station_name,
    cast(w.receiving_org_no as {{ dbt.type_string() }})             as receiving_org_no,
    cast(ru.org_name as {{ dbt.type_string() }})                    as receiving_org_name,
    cast(p.receiving_level as {{ dbt.type_string() }})              as receiving_level,
    cast(ru.station_no as {{ dbt.type_string() }})                  as station_no,
    cast(ru.county_no as {{ dbt.type_string() }})                   as county_no,
    cast(ru.city_no as {{ dbt.type_string() }})                     as city_no,
    cast({{ add_days('p.answer_limit_days', 'w.dispatch_date') }} as date) as answer_deadline,
    cast(f.evidence as {{ dbt.type_string() }})                     as problem_desc,
    cast(pc.suggested_action as {{ dbt.type_string() }})            as suggested_action,
    cast(f.first_detected_date as date)                             as first_detected_date,
    cast(f.consecutive_days as {{ dbt.type_int() }})                as consecutive_days,
    cast(w.ineffective_work_order_no as {{ dbt.type_string() }})    as ineffective_work_order_no
from dispatched as w
inner join {{ ref('dispatch_policy') }} as p
    on p.problem_code = w.problem_code
left join {{ ref('dim_problem_code') }} as pc
    on pc.problem_code = w.problem_code
left join findings as f
    on f.detected_date = w.dispatch_date
    and f.finding_key = w.finding_key
left join org_units as fu
    on fu.detected_date = w.dispatch_date
    and fu.org_no = f.org_no
left join org_units as ru
    on ru.detected_date = w.dispatch_date
    and ru.org_no = w.receiving_org_no
left join areas as g
    on g.detected_date = w.dispatch_date
    and g.tg_id = f.tg_id
left join customers as c
    on c.detected_date = w.dispatch_date
    and c.cons_no = f.cons_no
