{{ config(**audit_daily_config('detected_date', recompute_late_data=false)) }}
{#- 台区营配对应按日: per day D of the audit window (audit_days()) and marketing area (every
    G_TG row as of D; is_in_service for RUN_STATUS_CODE '01'), its PMS transformers through
    ST_TQ_BYQ (YX_TQ_BS = TG_ID) and T_SB_ZNYC_PDBYQ as of D.
      link_count            ST_TQ_BYQ rows naming the area
      missing_count         links to a transformer OBJ_ID absent from T_SB_ZNYC_PDBYQ
      retired_count         links to a transformer with YXZT '30' (退役)
      in_service_link_count links to an existing transformer that is not retired
      capacity_diff_count   links to an existing transformer whose EDRL <> G_TG.TG_CAP
      edrl_min/max          EDRL of the existing linked transformers
      is_mapped             1 when in_service_link_count > 0 (营配对应: the area maps to an
                            in-service PMS transformer)
      pms_available         1 when both PMS archives exist as of D
    Read by rules A02, A03 and the KPI objects of 台区营配对应率 (kpi_objects__archives).
    Each archive is read once and joined to the days on its snapshot_date
    (archive_snapshot_days, whose days are also the days the archive exists). -#}

with

days as (

    {{ audit_days() }}

),

area_rows as (

    select g.tg_id, g.org_no, g.tg_cap, g.run_status_code, g.snapshot_date, g.valid_to_date
    from {{ archive_rows('stg_marketing__areas') }} as g

),

-- every row, also those without an area: the archive exists on the days of link_days
link_rows as (

    select l.pms_byq_bs, l.yx_tq_bs, l.snapshot_date, l.valid_to_date
    from {{ archive_rows('stg_pms__area_transformer_links') }} as l

),

transformer_rows as (

    select t.obj_id, t.edrl, t.yxzt, t.snapshot_date, t.valid_to_date
    from {{ archive_rows('stg_pms__transformers') }} as t

),

area_days as (

    {{ archive_snapshot_days('area_rows') }}

),

link_days as (

    {{ archive_snapshot_days('link_rows') }}

),

transformer_days as (

    {{ archive_snapshot_days('transformer_rows') }}

),

-- the days on which both PMS archives exist (A02 / A03 compare only then)
pms_days as (

    select link_days.detected_date
    from link_days
    inner join transformer_days
        on transformer_days.detected_date = link_days.detected_date

),

transformers as (

    select transformer_days.detected_date, transformer_rows.obj_id, transformer_rows.edrl,
        transformer_rows.yxzt
    from transformer_days
    inner join transformer_rows
        on transformer_rows.snapshot_date = transformer_days.snapshot_date

),

links as (

    select
        link_days.detected_date,
        link_rows.yx_tq_bs                                      as tg_id,
        link_rows.pms_byq_bs                                    as transformer_id,
        case when transformers.obj_id is null then 1 else 0 end as is_missing,
        case when transformers.yxzt = '30' then 1 else 0 end    as is_retired,
        transformers.edrl,
        transformers.yxzt
    from link_days
    inner join link_rows
        on link_rows.snapshot_date = link_days.snapshot_date
    left join transformers
        on transformers.detected_date = link_days.detected_date
        and transformers.obj_id = link_rows.pms_byq_bs
    where link_rows.yx_tq_bs is not null

),

mappings as (

    select
        area_days.detected_date,
        area_rows.tg_id,
        area_rows.org_no,
        area_rows.tg_cap,
        area_rows.run_status_code,
        count(links.transformer_id) as link_count,
        coalesce(sum(links.is_missing), 0) as missing_count,
        coalesce(sum(links.is_retired), 0) as retired_count,
        coalesce(sum(case when links.is_missing = 0 and links.is_retired = 0 then 1 else 0 end), 0)
            as in_service_link_count,
        coalesce(sum(
            case
                when links.is_missing = 0 and abs(links.edrl - area_rows.tg_cap) > 0.001 then 1
                else 0
            end
        ), 0) as capacity_diff_count,
        min(links.edrl) as edrl_min,
        max(links.edrl) as edrl_max,
        {{ dbt.listagg(
            "links.transformer_id || '('"
            ~ " || case when links.is_missing = 1 then '不存在' when links.is_retired = 1 then '退役'"
            ~ " else coalesce(links.yxzt, '空') end"
            ~ " || ', EDRL=' || " ~ audit_num('links.edrl') ~ " || ')'",
            "'; '",
            "order by links.transformer_id") }} as transformer_list
    from area_days
    inner join area_rows
        on area_rows.snapshot_date = area_days.snapshot_date
    left join links
        on links.detected_date = area_days.detected_date
        and links.tg_id = area_rows.tg_id
    group by
        area_days.detected_date,
        area_rows.tg_id,
        area_rows.org_no,
        area_rows.tg_cap,
        area_rows.run_status_code

)

select
    cast(mappings.detected_date as date)                            as detected_date,
    cast(mappings.tg_id as {{ dbt.type_string() }})                 as tg_id,
    cast(mappings.org_no as {{ dbt.type_string() }})                as org_no,
    mappings.tg_cap,
    cast(mappings.run_status_code as {{ dbt.type_string() }})       as run_status_code,
    case when mappings.run_status_code = '01' then 1 else 0 end     as is_in_service,
    cast(mappings.link_count as {{ dbt.type_int() }})               as link_count,
    cast(mappings.missing_count as {{ dbt.type_int() }})            as missing_count,
    cast(mappings.retired_count as {{ dbt.type_int() }})            as retired_count,
    cast(mappings.in_service_link_count as {{ dbt.type_int() }})    as in_service_link_count,
    cast(mappings.capacity_diff_count as {{ dbt.type_int() }})      as capacity_diff_count,
    mappings.edrl_min,
    mappings.edrl_max,
    cast(mappings.transformer_list as {{ dbt.type_string() }})      as transformer_list,
    case when mappings.in_service_link_count > 0 then 1 else 0 end  as is_mapped,
    case when pms_days.detected_date is not null then 1 else 0 end  as pms_available
from mappings
left join pms_days
    on pms_days.detected_date = mappings.detected_date
