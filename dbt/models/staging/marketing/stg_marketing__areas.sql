-- 台区: raw_marketing."G_TG" (snapshot, key TG_ID).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'G_TG'), ['TG_ID']) }}

),

renamed as (

    select
        tg_id,               -- TG_ID 台区标识
        tg_no,               -- TG_NO 台区编号
        tg_name,             -- TG_NAME 台区名称
        org_no,              -- ORG_NO 供电所
        tg_cap,              -- TG_CAP 台区容量 kVA
        pub_priv_flag,       -- PUB_PRIV_FLAG 01 公变, 02 专变
        line_id,             -- LINE_ID 10 kV 线路 (PMS OBJ_ID)
        run_status_code,     -- RUN_STATUS_CODE 01 运行, 02 停运, 03 拆除

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
