-- GIS 低压用户接入: raw_pms."T_TX_DYYH" (snapshot, key YHBH).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_pms', 'T_TX_DYYH'), ['YHBH']) }}

),

renamed as (

    select
        yhbh,      -- YHBH 用户编号 CONS_NO
        ssbyq,     -- SSBYQ 所属变压器 OBJ_ID
        jrd,       -- JRD 接入点

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
