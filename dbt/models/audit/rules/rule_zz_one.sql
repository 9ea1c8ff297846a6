{{ config(tags=['audit_rule'], materialized='table') }}
select 1 as x
