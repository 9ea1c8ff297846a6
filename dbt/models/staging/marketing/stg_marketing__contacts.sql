-- 联系信息: raw_marketing."C_CONTACT" (snapshot, key CONS_NO, CONTACT_MODE).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'C_CONTACT'), ['CONS_NO', 'CONTACT_MODE']) }}

),

renamed as (

    select
        cons_no,          -- CONS_NO 用户编号
        contact_mode,     -- CONTACT_MODE 01 电气联系人, 02 账务联系人
        contact_name,     -- CONTACT_NAME 联系人
        mobile,           -- MOBILE 移动电话
        sms_flag,         -- SMS_FLAG 1 已订阅电费短信

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
