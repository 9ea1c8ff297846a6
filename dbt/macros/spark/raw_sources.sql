{#- The raw layer as dbt sources on every engine (docs/spark.md), run on-run-start.
      duckdb (default)  nothing: the extract writes raw_<system>.<TABLE> into the warehouse
      spark             every raw_* source declared as a view over the Parquet files of
                        GRIDAUDIT_SPARK_RAW_PATH/<schema>/<TABLE> (dagster_project/lib/
                        spark_raw.py writes it, partitioned by _export_date), re-declared on
                        every run so a new export (new days, new partitions) is what is read.
    Returns the hook's SQL: empty where there is nothing to do. -#}
{% macro declare_raw_sources() -%}
    {{ return(adapter.dispatch('declare_raw_sources', 'gridaudit')()) }}
{%- endmacro %}

{% macro default__declare_raw_sources() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__declare_raw_sources() -%}
    {%- if execute -%}
        {%- set raw_path = env_var('GRIDAUDIT_SPARK_RAW_PATH', '')
            or env_var('GRIDAUDIT_SPARK_DIR', '../data/work/spark') ~ '/raw' -%}
        {%- set schemas = [] -%}
        {%- for source in graph.sources.values() if source.schema.startswith('raw_') -%}
            {%- if source.schema not in schemas -%}
                {%- do run_query('create database if not exists ' ~ source.schema) -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
            {#- a view over the directory, not a metastore-partitioned table: Spark finds the
                _export_date partitions in the file listing (and prunes them there); the Hive
                metastore's partition filter fails on DATE partitions (derby, Spark 4.0) -#}
            {%- do run_query('create or replace view ' ~ source.schema ~ '.' ~ source.identifier
                ~ ' as select * from parquet.`' ~ raw_path ~ '/' ~ source.schema ~ '/'
                ~ source.identifier ~ '`') -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
