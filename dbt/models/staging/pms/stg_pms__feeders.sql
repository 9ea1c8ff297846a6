-- 10 kV 线路: raw_pms."T_SB_ZWYC_XL" (snapshot, key OBJ_ID).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_pms', 'T_SB_ZWYC_XL'), ['OBJ_ID']) }}

),

renamed as (

    select
        obj_id,     -- OBJ_ID 线路标识
        sbmc,       -- SBMC 线路名称
        ywdw,       -- YWDW 运维单位 (县公司 ORG_NO)
        dydj,       -- DYDJ 电压等级
        yxzt,       -- YXZT 20 在运, 30 退役

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
