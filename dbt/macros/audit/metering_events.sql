{#- Acquisition events (E_EVENT) for the event rules.

    The event codes live here and nowhere else: the ERC numbers of Q/GDW 376.1 that
    source-extracts.md names, with their Chinese names, and the codes each rule reads
    (audit-rules.md §2). A rule model asks for its list by problem code and never spells a
    code itself. They are a macro, not a seed, because they are part of the rule definition
    (changing the list changes what the rule means), not a threshold a utility tunes; if a
    utility ever needs its own list, this dictionary becomes a code-table seed. -#}

{% macro erc_event_names() -%}
    {{ return({
        'ERC9': '电流回路异常',
        'ERC10': '电压回路异常',
        'ERC12': '电能表时间超差',
        'ERC27': '电能表示度下降',
        'ERC29': '电能表飞走',
        'ERC30': '电能表停走',
        'ERC37': '电能表开表盖',
        'ERC38': '电能表开端钮盒',
    }) }}
{%- endmacro %}

{#- The EVENT_CODEs a rule reads: M07 计量异常事件, T01 窃电嫌疑 (its event part). -#}
{% macro rule_event_codes(problem_code) -%}
    {{ return({
        'M07': ['ERC12', 'ERC27', 'ERC29', 'ERC30'],
        'T01': ['ERC9', 'ERC10', 'ERC37', 'ERC38'],
    }[problem_code]) }}
{%- endmacro %}

{#- SQL: the Chinese name of an EVENT_CODE expression ('未知事件' for a code not listed). -#}
{% macro erc_event_name(code_expr) -%}
    case {{ code_expr }}
    {%- for code, name in erc_event_names().items() %}
        when '{{ code }}' then '{{ name }}'
    {%- endfor %}
        else '未知事件'
    end
{%- endmacro %}

{#- CTEs `name__delivered` and `name`: per day D of the CTE `days(detected_date)` the
    events with EVENT_CODE in rule_event_codes(problem_code), a DATA_ID (terminal-level
    events have none) and a START_TIME on D-(n-1) .. D, n = the setting `window_setting`;
    each in its state as known on D (the latest delivery exported on or before D, then the
    later line: an END_TIME delivered after D is not known on D, so a daily run and a
    rebuild of the same day agree).

    Bounded: only the deliveries exported on first_day-(n-1) .. last_day are read
    (filtered on _export_date before any ranking, from the raw table; see delivered_rows).
    An event is never delivered before it starts, so an event started on D-(n-1) .. D has
    all its deliveries up to D in that range, and its latest delivery up to D is among
    them. first_day/last_day are the window's first and last day, as date literals on an
    incremental run (the scan then skips whole blocks of the event table).

    Columns of `name`: detected_date, event_id, data_id, tmnl_asset_no, event_code,
    start_time, end_time, event_desc, start_date, _export_date. -#}
{% macro events_started_in_window(name, problem_code, window_setting, first_day, last_day, days='days') -%}
{%- set read_from = add_days('1 - ' ~ setting(window_setting, 'integer'), first_day) -%}
{%- if is_incremental() -%}
    {%- set read_from = date_literal(read_from) -%}
{%- endif -%}
{{ name }}__delivered as (
    select
        e.event_id,
        e.data_id,
        e.tmnl_asset_no,
        e.event_code,
        e.start_time,
        e.end_time,
        e.event_desc,
        e._export_date,
        e._line_number
    from {{ delivered_rows('stg_acquisition__events', 'raw_acquisition', 'E_EVENT') }} as e
    where e._export_date between {{ read_from }} and {{ last_day }}
),

{{ name }}__known as (
    select
        d.detected_date,
        x.*,
        row_number() over (
            partition by d.detected_date, x.event_id
            order by x._export_date desc, x._line_number desc
        ) as delivery_rank
    from {{ days }} as d
    inner join {{ name }}__delivered as x
        on x._export_date <= d.detected_date
),

{{ name }} as (
    select
        k.detected_date,
        k.event_id,
        k.data_id,
        k.tmnl_asset_no,
        k.event_code,
        k.start_time,
        k.end_time,
        k.event_desc,
        cast(k.start_time as date) as start_date,
        k._export_date
    from {{ name }}__known as k
    where k.delivery_rank = 1
        and k.data_id is not null
        and k.event_code in (
            {%- for code in rule_event_codes(problem_code) %}'{{ code }}'{{ ', ' if not loop.last }}{% endfor -%}
        )
        and cast(k.start_time as date) between
            {{ add_days('1 - ' ~ setting(window_setting, 'integer'), 'k.detected_date') }}
            and k.detected_date
)
{%- endmacro %}
