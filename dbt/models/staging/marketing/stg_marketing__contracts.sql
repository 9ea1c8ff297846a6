-- 供用电合同: raw_marketing."C_CONTRACT" (snapshot, key AGRT_NO).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'C_CONTRACT'), ['AGRT_NO']) }}

),

renamed as (

    select
        agrt_no,          -- AGRT_NO 合同编号
        cons_no,          -- CONS_NO 用户编号
        sign_date,        -- SIGN_DATE 签订日期
        valid_date,       -- VALID_DATE 生效日期
        invalid_date,     -- INVALID_DATE 失效日期

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
