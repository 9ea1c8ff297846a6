-- 业扩报装: raw_marketing."APP_BIZ" (snapshot, key APP_NO).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'APP_BIZ'), ['APP_NO']) }}

),

renamed as (

    select
        app_no,                  -- APP_NO 申请编号
        cons_no,                 -- CONS_NO 用户编号 (empty until the account exists)
        org_no,                  -- ORG_NO 受理单位
        busi_type,               -- BUSI_TYPE 101 高压新装, 102 低压新装, 111 增容
        volt_code,               -- VOLT_CODE 电压等级
        apply_date,              -- APPLY_DATE 受理日期
        survey_date,             -- SURVEY_DATE 勘查日期
        plan_reply_date,         -- PLAN_REPLY_DATE 答复供电方案日期
        design_review_date,      -- DESIGN_REVIEW_DATE 设计审查日期
        mid_check_date,          -- MID_CHECK_DATE 中间检查日期
        complete_check_date,     -- COMPLETE_CHECK_DATE 竣工检验日期
        power_on_date,           -- POWER_ON_DATE 装表接电日期
        status_code,             -- STATUS_CODE 01 在途, 02 归档

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
