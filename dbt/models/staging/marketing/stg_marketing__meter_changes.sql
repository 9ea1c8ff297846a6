-- 换表/换倍率: raw_marketing."C_METER_CHG" (delta, key CHG_ID).
-- The final state of every key: the later _export_date wins; within one file the later line.

with

source as (

    {{ final_state_rows(source('raw_marketing', 'C_METER_CHG'), ['CHG_ID']) }}

),

renamed as (

    select
        chg_id,             -- CHG_ID 换表/换倍率标识
        mp_id,              -- MP_ID 计量点
        chg_date,           -- CHG_DATE 换表日期
        old_asset_no,       -- OLD_ASSET_NO 旧表资产号
        new_asset_no,       -- NEW_ASSET_NO 新表资产号
        old_end_read,       -- OLD_END_READ 旧表止码
        new_start_read,     -- NEW_START_READ 新表起码
        old_t_factor,       -- OLD_T_FACTOR 旧倍率
        new_t_factor,       -- NEW_T_FACTOR 新倍率

        -- lineage (of the winning delivery)
        _export_date,
        _source_file,
        _line_number
    from source

)

select * from renamed
