-- 用电客户: raw_marketing."C_CONS" (snapshot, key CONS_NO).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_marketing', 'C_CONS'), ['CONS_NO']) }}

),

renamed as (

    select
        cons_no,              -- CONS_NO 用户编号
        cons_name,            -- CONS_NAME 用户名称
        org_no,               -- ORG_NO 供电单位
        tg_id,                -- TG_ID 台区
        elec_addr,            -- ELEC_ADDR 用电地址
        elec_type_code,       -- ELEC_TYPE_CODE 用电类别
        trade_code,           -- TRADE_CODE 行业分类
        volt_code,            -- VOLT_CODE 01 220 V, 02 380 V, 03 10 kV
        contract_cap,         -- CONTRACT_CAP 合同容量 kVA
        prc_code,             -- PRC_CODE 电价码
        urban_rural_flag,     -- URBAN_RURAL_FLAG 1 城镇, 2 农村
        gen_flag,             -- GEN_FLAG 1 分布式光伏上网用户
        status_code,          -- STATUS_CODE 1 正常, 9 销户
        build_date,           -- BUILD_DATE 立户日期
        cancel_date,          -- CANCEL_DATE 销户日期

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
