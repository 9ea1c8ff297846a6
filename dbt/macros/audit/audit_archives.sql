{#- Shared comparisons of the archives as of each day D of the window, used by the rule
    models and by marts.unit_kpis so a rule and its indicator can never disagree.
    Each macro emits CTE definitions (for a WITH list) over a CTE `days(detected_date)`;
    the ref()s inside count as the calling model's parents (unit tests mock them). -#}

{#- Text helpers for evidence strings. -#}
{% macro audit_txt(expr) -%}
    coalesce(cast({{ expr }} as {{ dbt.type_string() }}), '空')
{%- endmacro %}

{% macro audit_num(expr, digits=2) -%}
    coalesce(cast(round(cast({{ expr }} as {{ audit_type_double() }}), {{ digits }}) as {{ dbt.type_string() }}), '空')
{%- endmacro %}

{#- Per day D and active customer (C_CONS.STATUS_CODE = '1' as of D): the area in the
    three archives.
      mkt_tg_id            C_CONS.TG_ID
      gis_transformer_id   T_TX_DYYH.SSBYQ (YHBH = CONS_NO)
      gis_tg_id            ST_TQ_BYQ.YX_TQ_BS of that transformer (null: GIS gives no area)
      acq_tg_id_min/max    E_DATA_MP.TG_ID of the customer's active settlement MP(s)
                           (C_MP USAGE_TYPE_CODE '01', STATUS_CODE '1', matched on MP_ID)
      acq_tg_id_count      distinct acquisition areas (normally 0 or 1) -#}
{% macro customer_area_archives(name='customer_areas', days='days') -%}
{{ name }}__acq as (
    select
        d.detected_date,
        p.cons_no,
        min(e.tg_id) as acq_tg_id_min,
        max(e.tg_id) as acq_tg_id_max,
        count(distinct e.tg_id) as acq_tg_id_count
    from {{ days }} as d
    inner join {{ archive_rows('stg_marketing__metering_points') }} as p
        on {{ as_of('d.detected_date', 'p') }}
    inner join {{ archive_rows('stg_acquisition__data_points') }} as e
        on {{ as_of('d.detected_date', 'e') }}
        and e.mp_id = p.mp_id
    where p.usage_type_code = '01'
        and p.status_code = '1'
        and e.tg_id is not null
    group by d.detected_date, p.cons_no
),

{{ name }} as (
    select
        d.detected_date,
        c.cons_no,
        c.org_no,
        c.volt_code,
        c.tg_id as mkt_tg_id,
        g.ssbyq as gis_transformer_id,
        l.yx_tq_bs as gis_tg_id,
        a.acq_tg_id_min,
        a.acq_tg_id_max,
        coalesce(a.acq_tg_id_count, 0) as acq_tg_id_count
    from {{ days }} as d
    inner join {{ archive_rows('stg_marketing__customers') }} as c
        on {{ as_of('d.detected_date', 'c') }}
    left join {{ archive_rows('stg_pms__customer_connections') }} as g
        on {{ as_of('d.detected_date', 'g') }}
        and g.yhbh = c.cons_no
    left join {{ archive_rows('stg_pms__area_transformer_links') }} as l
        on {{ as_of('d.detected_date', 'l') }}
        and l.pms_byq_bs = g.ssbyq
    left join {{ name }}__acq as a
        on a.detected_date = d.detected_date
        and a.cons_no = c.cons_no
    where c.status_code = '1'
)
{%- endmacro %}

{#- Per day D and marketing area (every G_TG row as of D; is_in_service for
    RUN_STATUS_CODE '01'): its PMS transformers through ST_TQ_BYQ (YX_TQ_BS = TG_ID) and
    T_SB_ZNYC_PDBYQ as of D.
      link_count            ST_TQ_BYQ rows naming the area
      missing_count         links to a transformer OBJ_ID absent from T_SB_ZNYC_PDBYQ
      retired_count         links to a transformer with YXZT '30' (退役)
      in_service_link_count links to an existing transformer that is not retired
      capacity_diff_count   links to an existing transformer whose EDRL <> G_TG.TG_CAP
      edrl_list_min/max     EDRL of the existing linked transformers
      is_mapped             1 when in_service_link_count > 0 (营配对应: the area maps to an
                            in-service PMS transformer)
      pms_available         1 when both PMS archives exist as of D -#}
{% macro area_transformer_mappings(name='area_mappings', days='days') -%}
{{ name }}__links as (
    select
        d.detected_date,
        l.yx_tq_bs as tg_id,
        l.pms_byq_bs as transformer_id,
        case when t.obj_id is null then 1 else 0 end as is_missing,
        case when t.yxzt = '30' then 1 else 0 end as is_retired,
        t.edrl,
        t.yxzt
    from {{ days }} as d
    inner join {{ archive_rows('stg_pms__area_transformer_links') }} as l
        on {{ as_of('d.detected_date', 'l') }}
    left join {{ archive_rows('stg_pms__transformers') }} as t
        on {{ as_of('d.detected_date', 't') }}
        and t.obj_id = l.pms_byq_bs
    where l.yx_tq_bs is not null
),

{{ name }}__link_days as (
    {{ archive_days('stg_pms__area_transformer_links', days) }}
),

{{ name }}__transformer_days as (
    {{ archive_days('stg_pms__transformers', days) }}
),

{{ name }} as (
    select
        d.detected_date,
        g.tg_id,
        g.org_no,
        g.tg_cap,
        g.run_status_code,
        case when g.run_status_code = '01' then 1 else 0 end as is_in_service,
        count(k.transformer_id) as link_count,
        coalesce(sum(k.is_missing), 0) as missing_count,
        coalesce(sum(k.is_retired), 0) as retired_count,
        coalesce(sum(case when k.is_missing = 0 and k.is_retired = 0 then 1 else 0 end), 0)
            as in_service_link_count,
        coalesce(sum(case when k.is_missing = 0 and abs(k.edrl - g.tg_cap) > 0.001 then 1 else 0 end), 0)
            as capacity_diff_count,
        min(k.edrl) as edrl_min,
        max(k.edrl) as edrl_max,
        {{ dbt.listagg(
            "k.transformer_id || '(' || case when k.is_missing = 1 then '不存在' when k.is_retired = 1 then '退役' else coalesce(k.yxzt, '空') end || ', EDRL=' || " ~ audit_num('k.edrl') ~ " || ')'",
            "'; '",
            "order by k.transformer_id") }} as transformer_list,
        case
            when coalesce(sum(case when k.is_missing = 0 and k.is_retired = 0 then 1 else 0 end), 0) > 0 then 1
            else 0
        end as is_mapped,
        max(case when ld.detected_date is not null and td.detected_date is not null then 1 else 0 end)
            as pms_available
    from {{ days }} as d
    inner join {{ archive_rows('stg_marketing__areas') }} as g
        on {{ as_of('d.detected_date', 'g') }}
    left join {{ name }}__links as k
        on k.detected_date = d.detected_date
        and k.tg_id = g.tg_id
    left join {{ name }}__link_days as ld
        on ld.detected_date = d.detected_date
    left join {{ name }}__transformer_days as td
        on td.detected_date = d.detected_date
    group by d.detected_date, g.tg_id, g.org_no, g.tg_cap, g.run_status_code
)
{%- endmacro %}

{#- Per day D and active metering point (C_MP.STATUS_CODE '1' as of D): settlement MPs
    ('01') of active customers and area check meters ('02'), with the marketing meter
    (C_METER on the MP as of D; the newest INST_DATE when the archive still lists an old
    one) and the acquisition archive rows (E_DATA_MP, matched on MP_ID).
      tg_id / org_no    the customer's marketing area and unit (C_CONS); for a check
                        meter C_MP.TG_ID and the area's unit
      acq_count         E_DATA_MP rows for the MP (0: not covered)
      acq_available     1 when the E_DATA_MP archive exists as of D -#}
{% macro mp_meter_archives(name='mp_archives', days='days') -%}
{{ name }}__meters as (
    select
        d.detected_date,
        m.mp_id,
        m.meter_id,
        m.asset_no,
        m.t_factor,
        row_number() over (
            partition by d.detected_date, m.mp_id
            order by m.inst_date desc, m.meter_id desc
        ) as meter_rank
    from {{ days }} as d
    inner join {{ archive_rows('stg_marketing__meters') }} as m
        on {{ as_of('d.detected_date', 'm') }}
),

{{ name }}__acq as (
    select
        d.detected_date,
        e.mp_id,
        count(*) as acq_count,
        min(e.asset_no) as acq_asset_no_min,
        max(e.asset_no) as acq_asset_no_max,
        min(e.t_factor) as acq_t_factor_min,
        max(e.t_factor) as acq_t_factor_max,
        min(e.data_id) as acq_data_id
    from {{ days }} as d
    inner join {{ archive_rows('stg_acquisition__data_points') }} as e
        on {{ as_of('d.detected_date', 'e') }}
    where e.mp_id is not null
    group by d.detected_date, e.mp_id
),

{{ name }}__acq_days as (
    {{ archive_days('stg_acquisition__data_points', days) }}
),

{{ name }} as (
    select
        d.detected_date,
        p.mp_id,
        p.usage_type_code,
        p.cons_no as mp_cons_no,
        c.cons_no,
        coalesce(c.tg_id, p.tg_id) as tg_id,
        coalesce(c.org_no, g.org_no) as org_no,
        m.meter_id,
        m.asset_no as mkt_asset_no,
        m.t_factor as mkt_t_factor,
        coalesce(a.acq_count, 0) as acq_count,
        a.acq_data_id,
        a.acq_asset_no_min,
        a.acq_asset_no_max,
        a.acq_t_factor_min,
        a.acq_t_factor_max,
        case when ad.detected_date is not null then 1 else 0 end as acq_available
    from {{ days }} as d
    inner join {{ archive_rows('stg_marketing__metering_points') }} as p
        on {{ as_of('d.detected_date', 'p') }}
    left join {{ archive_rows('stg_marketing__customers') }} as c
        on {{ as_of('d.detected_date', 'c') }}
        and c.cons_no = p.cons_no
        and c.status_code = '1'
    left join {{ archive_rows('stg_marketing__areas') }} as g
        on {{ as_of('d.detected_date', 'g') }}
        and g.tg_id = p.tg_id
    left join {{ name }}__meters as m
        on m.detected_date = d.detected_date
        and m.mp_id = p.mp_id
        and m.meter_rank = 1
    left join {{ name }}__acq as a
        on a.detected_date = d.detected_date
        and a.mp_id = p.mp_id
    left join {{ name }}__acq_days as ad
        on ad.detected_date = d.detected_date
    where p.status_code = '1'
        and (
            (p.usage_type_code = '01' and c.cons_no is not null)
            or p.usage_type_code = '02'
        )
)
{%- endmacro %}
