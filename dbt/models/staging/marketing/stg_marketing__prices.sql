-- 电价码: raw_marketing."K_PRC" (snapshot, key PRC_CODE).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'K_PRC'), ['PRC_CODE']) }}

),

renamed as (

    select
        prc_code,           -- PRC_CODE 电价码
        prc_name,           -- PRC_NAME 电价名称
        elec_type_code,     -- ELEC_TYPE_CODE 用电类别
        unit_price,         -- UNIT_PRICE 电度电价 元/kWh

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
