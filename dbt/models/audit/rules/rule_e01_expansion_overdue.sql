{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- E01 业扩超时限: an in-flight application (APP_BIZ as of D, STATUS_CODE '01' 在途) whose
    age D - APPLY_DATE in calendar days exceeds its limit:
    expansion_limit_days_low_voltage for BUSI_TYPE 102 (低压新装),
    expansion_limit_days_high_voltage for 101 (高压新装) and 111 (增容); other business types
    have no limit in the catalogue and are not judged.
    An application finding: app_no = APP_NO, org_no = APP_BIZ.ORG_NO (受理单位), cons_no
    empty (the application is the finding's identity; CONS_NO may not exist yet and is
    quoted in the evidence), tg_id = C_CONS.TG_ID as of D when the application names a
    customer known to C_CONS (any status), else empty.
    Evidence: the age against the limit and the last completed step (勘查 SURVEY_DATE ..
    竣工检验 COMPLETE_CHECK_DATE) with its date.
    Bounded: one snapshot of APP_BIZ per day of the window (as-of join). -#}
with days as (
    {{ audit_days() }}
),

applications as (
    select
        d.detected_date,
        a.app_no,
        a.cons_no,
        a.org_no,
        a.busi_type,
        a.apply_date,
        a.survey_date,
        a.plan_reply_date,
        a.design_review_date,
        a.mid_check_date,
        a.complete_check_date,
        {{ dbt.datediff('a.apply_date', 'd.detected_date', 'day') }} as elapsed_days,  -- noqa: LT05
        case
            when a.busi_type = '102' then {{ setting('expansion_limit_days_low_voltage') }}
            when a.busi_type in ('101', '111')
                then {{ setting('expansion_limit_days_high_voltage') }}
        end as limit_days
    from days as d
    inner join {{ archive_rows('stg_marketing__applications') }} as a
        on {{ as_of('d.detected_date', 'a') }}
    where a.status_code = '01'
        and a.apply_date is not null
),

overdue as (
    select
        applications.*,
        -- the last step of the process (in process order) that has a date
        case
            when complete_check_date is not null then '竣工检验 COMPLETE_CHECK_DATE='
                || {{ audit_txt('complete_check_date') }}
            when mid_check_date is not null then '中间检查 MID_CHECK_DATE='
                || {{ audit_txt('mid_check_date') }}
            when design_review_date is not null then '设计审查 DESIGN_REVIEW_DATE='
                || {{ audit_txt('design_review_date') }}
            when plan_reply_date is not null then '答复供电方案 PLAN_REPLY_DATE='
                || {{ audit_txt('plan_reply_date') }}
            when survey_date is not null then '勘查 SURVEY_DATE=' || {{ audit_txt('survey_date') }}
            else '无 (仅受理)'
        end as last_step
    from applications
    where elapsed_days > limit_days
)

select
    o.detected_date,
    c.tg_id,
    o.org_no,
    cast(null as {{ dbt.type_string() }}) as cons_no,
    o.app_no,
    'E01' as problem_code,
    '业扩申请 APP_BIZ APP_NO=' || o.app_no || ' (业务类型 BUSI_TYPE=' || {{ audit_txt('o.busi_type') }}
    || case o.busi_type
        when '101' then ' 高压新装' when '102' then ' 低压新装' when '111' then ' 增容' else ''
    end
    || ', 用户 CONS_NO=' || coalesce(nullif(o.cons_no, ''), '未立户') || ') 受理 APPLY_DATE='
    || {{ audit_txt('o.apply_date') }} || ', 在途 STATUS_CODE=01 已用 '
    || cast(o.elapsed_days as {{ dbt.type_string() }}) || ' 天 > 时限 '
    || cast(cast(o.limit_days as {{ dbt.type_int() }}) as {{ dbt.type_string() }}) || ' 天; 最后完成环节: '
    || o.last_step as evidence,
    cast(o.elapsed_days as {{ audit_type_double() }}) as metric_value,
    cast(o.limit_days as {{ audit_type_double() }}) as threshold_value
from overdue as o
left join {{ archive_rows('stg_marketing__customers') }} as c
    on {{ as_of('o.detected_date', 'c') }}
    and c.cons_no = o.cons_no
