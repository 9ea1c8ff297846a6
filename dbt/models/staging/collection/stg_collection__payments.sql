-- 实收/缴费: raw_collection."A_PAY_FLOW" (delta, key PAY_ID).
-- The final state of every key: the later _export_date wins; within one file the later line.

with

source as (

    {{ final_state_rows(source('raw_collection', 'A_PAY_FLOW'), ['PAY_ID']) }}

),

renamed as (

    select
        pay_id,           -- PAY_ID 收费标识
        cons_no,          -- CONS_NO 用户编号
        rcvbl_id,         -- RCVBL_ID 应收标识
        pay_amt,          -- PAY_AMT 收费金额
        pay_mode,         -- PAY_MODE 01 坐收, 02 走收, 03 银行代扣, 04 网上/手机
        charge_time,      -- CHARGE_TIME 收费时间
        deposit_date,     -- DEPOSIT_DATE 解款入行日期
        arrive_date,      -- ARRIVE_DATE 到账日期

        -- lineage (of the winning delivery)
        _export_date,
        _source_file,
        _line_number
    from source

)

select * from renamed
