{#- Model contracts on Spark (docs/spark.md). The tables are Parquet (dbt_project.yml
    +file_format), which cannot hold a NOT NULL constraint (`alter table ... set not null`
    is Delta-only), and dbt-spark then skips a contract's constraints altogether. Here a
    not_null constraint is checked on the built table instead: a NULL fails the model, as
    the constraint does on DuckDB. Delta keeps dbt-spark's own constraints. -#}
{% macro spark__persist_constraints(relation, model) %}
    {%- set contract_config = config.get('contract') -%}
    {%- if not contract_config.enforced -%}
        {{ return('') }}
    {%- endif -%}
    {%- if config.get('file_format', 'delta') == 'delta' -%}
        {%- do alter_table_add_constraints(relation, model.constraints) -%}
        {%- do alter_column_set_constraints(relation, model.columns) -%}
        {{ return('') }}
    {%- endif -%}
    {%- for column_name, column in model.columns.items() -%}
        {%- for constraint in column.constraints if constraint.type == 'not_null' -%}
            {%- set nulls = run_query('select count(*) from ' ~ relation ~ ' where '
                ~ column_name ~ ' is null').columns[0].values()[0] -%}
            {%- if nulls > 0 -%}
                {%- do exceptions.raise_compiler_error(relation ~ '.' ~ column_name
                    ~ ': ' ~ nulls ~ ' NULL row(s) against its not_null constraint') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}
