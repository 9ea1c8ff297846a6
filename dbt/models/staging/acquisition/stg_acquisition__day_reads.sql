-- 日冻结示值: raw_acquisition."E_MP_DAY_READ" (delta, key DATA_ID, DATA_DATE).
-- The final state of every key: the later _export_date wins; within one file the later COL_TIME,
-- then the later line.

with

source as (

    {{ final_state_rows(
        source('raw_acquisition', 'E_MP_DAY_READ'), ['DATA_ID', 'DATA_DATE'], 'COL_TIME'
    ) }}

),

renamed as (

    select
        data_id,       -- DATA_ID 采集测量点标识
        data_date,     -- DATA_DATE 冻结日期 (register at 24:00 of this day)
        col_time,      -- COL_TIME 采集时间
        pap_r,         -- PAP_R 正向有功总示值
        pap_r1,        -- PAP_R1 正向有功尖
        pap_r2,        -- PAP_R2 正向有功峰
        pap_r3,        -- PAP_R3 正向有功平
        pap_r4,        -- PAP_R4 正向有功谷
        rap_r,         -- RAP_R 反向有功总示值
        mark,          -- MARK 0 正常, 1 补抄

        -- lineage (of the winning delivery)
        _export_date,
        _source_file,
        _line_number
    from source

)

select * from renamed
