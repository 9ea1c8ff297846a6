-- 供电单位: raw_marketing."O_ORG" (snapshot, key ORG_NO).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'O_ORG'), ['ORG_NO']) }}

),

renamed as (

    select
        org_no,       -- ORG_NO 供电单位编号
        org_name,     -- ORG_NAME 单位名称
        p_org_no,     -- P_ORG_NO 上级单位 (empty for the root)
        org_type,     -- ORG_TYPE 02 地市公司, 03 县公司, 04 供电所

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
