{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='as_of_date',
        on_schema_change='append_new_columns',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where as_of_date between {{ window_start_date() }} and {{ window_end_date() }}{% else %}select 1 as nothing_to_clear{% endif %}"
    )
}}

-- 未结清应收按日 (the open receivables as of day D): one row per day D and receivable whose
-- latest delivery on or before D (int_receivable_deliveries, later delivery wins) has
-- SETTLE_FLAG <> '03' (01 未结清 or 02 部分结清), with that delivery's values. A backfill
-- therefore sees each day's state, not the final one. Input of B01 (逾期未结清).
--   full refresh      every delivery; days from the first delivery to end_date
--   incremental run   carried state + the run's deliveries only: the open set of the last
--                     day built before start_date (normally start_date - 1; one day of this
--                     table, as many rows as receivables then open) and the deliveries
--                     after that day up to end_date (a daily run: one export day). The
--                     versions are ordered per receivable (a later delivery ends the one
--                     before: valid_to_date = next delivery - 1) and expanded over the days
--                     carried day + 1 .. end_date. A daily run never reads the history.
-- A receivable settled before the carried day drops out of the carried set; a later
-- delivery of it (e.g. a reversal back to 02) brings it back from that day on.

{%- set version_columns = ['rcvbl_id', 'cons_no', 'org_no', 'billing_month', 'billed_kwh',
                           'read_source_code', 'receivable_amount', 'received_amount',
                           'penalty_amount', 'issue_date', 'due_date', 'settle_flag',
                           '_source_file', '_line_number'] %}

{%- if is_incremental() %}
    {%- set carried_expression = "(select max(built.as_of_date) from " ~ this
        ~ " as built where built.as_of_date < " ~ window_start_date() ~ ")" %}
    {#- a date literal (looked up once) so the filters below prune by day; inside a unit
        test the expression itself (the mocked `this`) -#}
    {%- set carried_date = carried_expression if in_unit_test()
        else date_literal(carried_expression) %}
{%- endif %}

with

deliveries as (

    select *
    from {{ ref('int_receivable_deliveries') }}
    where delivery_date <= {{ window_end_date() }}
    {%- if is_incremental() %}
        and delivery_date > coalesce({{ carried_date }}, cast('1900-01-01' as date))
    {%- endif %}

),

version_rows as (

    select
        delivery_date as version_date,
        {%- for column in version_columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from deliveries
    {%- if is_incremental() %}

    union all

    -- the carried state: the receivables open on the carried day, with the delivery
    -- (version_date) that was in effect then
    select
        version_date,
        {%- for column in version_columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }}
    where as_of_date = {{ carried_date }}
    {%- endif %}

),

versions as (

    select
        version_rows.*,
        coalesce(
            {{ add_days(-1, 'lead(version_rows.version_date) over ('
                ~ 'partition by version_rows.rcvbl_id order by version_rows.version_date)') }},
            cast('9999-12-31' as date)
        ) as valid_to_date
    from version_rows

),

days as (

    {%- if is_incremental() %}
    {{ day_spine(
        'coalesce(' ~ add_days(1, carried_date) ~ ', (select min(delivery_date) from deliveries))',
        window_end_date()
    ) }}
    {%- else %}
    {{ day_spine('(select min(delivery_date) from deliveries)', window_end_date()) }}
    {%- endif %}

)

select
    days.data_date as as_of_date,
    versions.version_date,
    {%- for column in version_columns %}
    versions.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from days
inner join versions
    on days.data_date between versions.version_date and versions.valid_to_date
-- an empty SETTLE_FLAG is not a settlement
where coalesce(versions.settle_flag, '01') <> '03'
