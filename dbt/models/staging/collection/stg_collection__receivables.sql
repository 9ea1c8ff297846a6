-- 应收电费: raw_collection."A_RCVBL_FLOW" (delta, key RCVBL_ID).
-- The final state of every key: the later _export_date wins; within one file the later line.

with

source as (

    {{ final_state_rows(source('raw_collection', 'A_RCVBL_FLOW'), ['RCVBL_ID']) }}

),

renamed as (

    select
        rcvbl_id,          -- RCVBL_ID 应收标识
        cons_no,           -- CONS_NO 用户编号
        org_no,            -- ORG_NO 供电单位
        rcvbl_ym,          -- RCVBL_YM 电费年月
        t_pq,              -- T_PQ 结算电量 kWh
        read_src,          -- READ_SRC 01 采集自动抄表, 02 人工抄表, 03 估抄
        rcvbl_amt,         -- RCVBL_AMT 应收金额
        rcved_amt,         -- RCVED_AMT 实收金额
        rcvbl_penalty,     -- RCVBL_PENALTY 违约金
        issue_date,        -- ISSUE_DATE 出账日期
        due_date,          -- DUE_DATE 缴费截止日
        settle_flag,       -- SETTLE_FLAG 01 未结清, 02 部分结清, 03 结清

        -- lineage (of the winning delivery)
        _export_date,
        _source_file,
        _line_number
    from source

)

select * from renamed
