-- 终端/电能表事件: raw_acquisition."E_EVENT" (delta, key EVENT_ID).
-- The final state of every key: the later _export_date wins; within one file the later line.

with

source as (

    {{ final_state_rows(source('raw_acquisition', 'E_EVENT'), ['EVENT_ID']) }}

),

renamed as (

    select
        event_id,          -- EVENT_ID 事件标识
        data_id,           -- DATA_ID 采集测量点 (empty for terminal events)
        tmnl_asset_no,     -- TMNL_ASSET_NO 终端资产号
        event_code,        -- EVENT_CODE ERC 事件代码
        start_time,        -- START_TIME 发生时间
        end_time,          -- END_TIME 恢复时间 (empty while open)
        event_desc,        -- EVENT_DESC 事件描述

        -- lineage (of the winning delivery)
        _export_date,
        _source_file,
        _line_number
    from source

)

select * from renamed
