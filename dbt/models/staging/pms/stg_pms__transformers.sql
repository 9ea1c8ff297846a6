-- 配电变压器: raw_pms."T_SB_ZNYC_PDBYQ" (snapshot, key OBJ_ID).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_pms', 'T_SB_ZNYC_PDBYQ'), ['OBJ_ID']) }}

),

renamed as (

    select
        obj_id,     -- OBJ_ID 变压器标识
        sbbm,       -- SBBM 设备编码
        sbmc,       -- SBMC 设备名称
        ssxl,       -- SSXL 所属线路
        edrl,       -- EDRL 额定容量 kVA
        syxz,       -- SYXZ 01 公用, 02 专用
        yxzt,       -- YXZT 20 在运, 30 退役
        ywdw,       -- YWDW 运维单位
        tyrq,       -- TYRQ 投运日期

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
