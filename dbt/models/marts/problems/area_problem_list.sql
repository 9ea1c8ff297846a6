{#- 一台区一问题清单: one row per open finding as of the newest day of the history (a
    finding is open when it was detected on that day; closed findings stay only in
    marts.problem_history). first_detected_date / consecutive_days describe the current
    unbroken run of consecutive days of the same finding (same problem code and
    application / customer / area: macro audit_finding_key). Names of the area, the
    customer and the units (供电所 / 县公司 / 地市公司 from the O_ORG hierarchy) are those of
    the archives as of as_of_date. -#}
{#- The newest day of the history, looked up once and written as a date literal, so only
    that day's rows are read (problem_history carries each finding's run). -#}
{%- set as_of_date = date_literal(
    '(select max(detected_date) from ' ~ ref('problem_history') ~ ')'
) %}
with open_findings as (
    select *
    from {{ ref('problem_history') }}
    where detected_date = {{ as_of_date }}
),

days as (
    select distinct detected_date from open_findings
),

{{ org_units('org_units', from_date=as_of_date) }},

areas as (
    select d.detected_date, g.tg_id, g.tg_name
    from days as d
    inner join {{ archive_rows('stg_marketing__areas', as_of_date) }} as g
        on {{ as_of('d.detected_date', 'g') }}
),

customers as (
    select d.detected_date, c.cons_no, c.cons_name
    from days as d
    inner join {{ archive_rows('stg_marketing__customers', as_of_date) }} as c
        on {{ as_of('d.detected_date', 'c') }}
)

select
    cast(o.detected_date as date) as as_of_date,
    cast(o.tg_id as {{ dbt.type_string() }}) as tg_id,
    cast(g.tg_name as {{ dbt.type_string() }}) as tg_name,
    cast(o.org_no as {{ dbt.type_string() }}) as org_no,
    cast(u.org_name as {{ dbt.type_string() }}) as org_name,
    cast(u.station_no as {{ dbt.type_string() }}) as org_no_station,
    cast(u.station_name as {{ dbt.type_string() }}) as org_name_station,
    cast(u.county_no as {{ dbt.type_string() }}) as org_no_county,
    cast(u.county_name as {{ dbt.type_string() }}) as org_name_county,
    cast(u.city_no as {{ dbt.type_string() }}) as org_no_city,
    cast(u.city_name as {{ dbt.type_string() }}) as org_name_city,
    cast(o.cons_no as {{ dbt.type_string() }}) as cons_no,
    cast(c.cons_name as {{ dbt.type_string() }}) as cons_name,
    cast(o.app_no as {{ dbt.type_string() }}) as app_no,
    cast(o.problem_code as {{ dbt.type_string() }}) as problem_code,
    cast(p.problem_name as {{ dbt.type_string() }}) as problem_name,
    cast(p.problem_level as {{ dbt.type_string() }}) as problem_level,
    cast(p.category as {{ dbt.type_string() }}) as category,
    cast(p.severity as {{ dbt.type_string() }}) as severity,
    cast(o.first_detected_date as date) as first_detected_date,
    cast(o.consecutive_days as {{ dbt.type_int() }}) as consecutive_days,
    cast(o.evidence as {{ dbt.type_string() }}) as evidence,
    cast(o.metric_value as {{ audit_type_double() }}) as metric_value,
    cast(o.threshold_value as {{ audit_type_double() }}) as threshold_value,
    cast(p.suggested_action as {{ dbt.type_string() }}) as suggested_action,
    cast(o.finding_key as {{ dbt.type_string() }}) as finding_key,
    cast(o.settings_fingerprint as {{ dbt.type_string() }}) as settings_fingerprint
from open_findings as o
left join {{ ref('dim_problem_code') }} as p
    on p.problem_code = o.problem_code
left join org_units as u
    on u.detected_date = o.detected_date
    and u.org_no = o.org_no
left join areas as g
    on g.detected_date = o.detected_date
    and g.tg_id = o.tg_id
left join customers as c
    on c.detected_date = o.detected_date
    and c.cons_no = o.cons_no
