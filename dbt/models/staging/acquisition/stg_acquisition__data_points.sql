-- 采集测量点档案: raw_acquisition."E_DATA_MP" (snapshot, key DATA_ID).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_acquisition', 'E_DATA_MP'), ['DATA_ID']) }}

),

renamed as (

    select
        data_id,           -- DATA_ID 采集测量点标识
        mp_id,             -- MP_ID 营销计量点 MP_ID
        asset_no,          -- ASSET_NO 电能表资产号 (采集档案)
        tmnl_asset_no,     -- TMNL_ASSET_NO 终端资产号
        cons_no,           -- CONS_NO 用户编号
        tg_id,             -- TG_ID 台区 (采集档案)
        t_factor,          -- T_FACTOR 倍率 (采集档案)

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
