-- 计量点: raw_marketing."C_MP" (snapshot, key MP_ID).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'C_MP'), ['MP_ID']) }}

),

renamed as (

    select
        mp_id,               -- MP_ID 计量点标识
        cons_no,             -- CONS_NO 用户编号 (T||TG_NO for the area check meter)
        tg_id,               -- TG_ID 台区
        usage_type_code,     -- USAGE_TYPE_CODE 01 售电结算, 02 台区考核总表
        status_code,         -- STATUS_CODE 1 在用, 9 撤销

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
