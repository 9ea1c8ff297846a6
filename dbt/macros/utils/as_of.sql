{#- Snapshot semantics (docs/architecture.md): the archive as of day D. -#}
{% macro as_of(day_expr, alias) -%}
    {{ day_expr }} between {{ alias }}.snapshot_date and {{ alias }}.valid_to_date
{%- endmacro %}

{#- The rows of a snapshot staging model that can be the archive of a day on or after
    from_date: the snapshots from the newest one dated on or before from_date on. Use it in
    place of ref() wherever a model takes an archive as of a day (with as_of()), so a daily
    run reads the snapshots its days need, not every snapshot ever delivered: the cost of
    a day stays the same after 14 or 600 days of history.
      from_date  SQL date expression of the first day the model computes; default the audit
                 window's first day (audit_start_date()); none = every snapshot (a full
                 rebuild of a day-keyed intermediate model needs them all).
    The lower bound is looked up once, when the model is compiled, on the raw table's
    _export_date (one column, no deduplication) and written into the SQL as a date
    literal, so DuckDB skips the older snapshots' row groups in the raw scan (the filter on
    snapshot_date = _export_date passes through the staging view). Inside dbt unit tests
    it is plain ref(). -#}
{% macro archive_rows(model_name, from_date='audit_start') -%}
    {%- set relation = ref(model_name) -%}
    {%- if from_date is none or not execute or in_unit_test() -%}
        {{ relation }}
    {%- else -%}
        {%- set first_day = audit_start_date() if from_date == 'audit_start' else from_date -%}
        {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ model_name] -%}
        {%- set raw_tables = [] -%}
        {%- for parent in node.depends_on.nodes if parent.startswith('source.') -%}
            {%- set source_node = graph.sources[parent] -%}
            {#- the raw table by name (not source(): this look-up adds no lineage) -#}
            {%- do raw_tables.append(api.Relation.create(database=source_node.database,
                    schema=source_node.schema, identifier=source_node.identifier)) -%}
        {%- endfor -%}
        {%- set horizon = date_literal(
            "coalesce((select max(delivered._export_date) from " ~ raw_tables[0] ~ " as delivered"
            ~ " where delivered._export_date <= " ~ first_day ~ "), cast('1900-01-01' as date))") -%}
        (select * from {{ relation }} where snapshot_date >= {{ horizon }})
    {%- endif -%}
{%- endmacro %}
