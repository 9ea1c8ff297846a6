-- 终端: raw_acquisition."R_TMNL_RUN" (snapshot, key TERMINAL_ID).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_acquisition', 'R_TMNL_RUN'), ['TERMINAL_ID']) }}

),

renamed as (

    select
        terminal_id,       -- TERMINAL_ID 终端标识
        tmnl_asset_no,     -- TMNL_ASSET_NO 终端资产号
        tg_id,             -- TG_ID 台区
        status_code,       -- STATUS_CODE 01 运行, 02 停运
        protocol_code,     -- PROTOCOL_CODE 通信规约

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
