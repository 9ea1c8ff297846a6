-- 营配台区对应: raw_pms."ST_TQ_BYQ" (snapshot, key PMS_BYQ_BS).
-- Every delivered snapshot row; within one snapshot file a duplicated key keeps the last line.
-- The archive as of day D: where D between snapshot_date and valid_to_date.

with

source as (

    {{ snapshot_rows(source('raw_pms', 'ST_TQ_BYQ'), ['PMS_BYQ_BS']) }}

),

renamed as (

    select
        pms_byq_bs,     -- PMS_BYQ_BS PMS 变压器标识
        yx_tq_bs,       -- YX_TQ_BS 营销台区标识 TG_ID

        -- snapshot validity
        snapshot_date,                -- _export_date of the snapshot file
        valid_to_date,                -- day before the next snapshot, or 9999-12-31

        -- lineage
        _source_file,
        _line_number
    from source

)

select * from renamed
