-- 电能表: raw_marketing."C_METER" (snapshot, key METER_ID).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'C_METER'), ['METER_ID']) }}

),

renamed as (

    select
        meter_id,      -- METER_ID 电能表标识
        asset_no,      -- ASSET_NO 资产编号
        mp_id,         -- MP_ID 计量点
        t_factor,      -- T_FACTOR 综合倍率
        digits,        -- DIGITS 整数位数 (register rolls over at 10^DIGITS)
        inst_date,     -- INST_DATE 安装日期

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
