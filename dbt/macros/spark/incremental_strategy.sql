{#- The incremental strategy of a day-keyed model, per engine (docs/spark.md).
      duckdb (default)  the strategy as written: delete+insert of the run's days, or append
                        after the model's pre_hook deleted them
      spark             full builds only: the tables are plain Parquet, which has no row
                        delete, so neither delete+insert nor the pre_hooks' `delete from` can
                        run. A first build (or --full-refresh) creates the table as any
                        strategy does ('append' is the one dbt-spark accepts on Parquet); an
                        incremental run stops here with the reason, instead of appending the
                        window's days a second time. -#}
{% macro incremental_strategy_for(strategy) -%}
    {{ return(adapter.dispatch('incremental_strategy_for', 'gridaudit')(strategy)) }}
{%- endmacro %}

{% macro default__incremental_strategy_for(strategy) -%}
    {{ return(strategy) }}
{%- endmacro %}

{% macro spark__incremental_strategy_for(strategy) -%}
    {%- if execute and model is defined and model.resource_type == 'model' and is_incremental() -%}
        {%- do exceptions.raise_compiler_error(
            model.name ~ ": on Spark this project builds in full only (`dbt build --full-refresh`);"
            ~ " its incremental strategy " ~ strategy ~ " deletes the run's days, which Parquet"
            ~ " tables cannot (docs/spark.md)") -%}
    {%- endif -%}
    {{ return('append') }}
{%- endmacro %}
