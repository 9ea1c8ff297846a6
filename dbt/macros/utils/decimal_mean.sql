{#- The mean of a DECIMAL expression (kWh), as a DOUBLE: what DuckDB's avg() of a DECIMAL
    returns. Spark's avg() of a DECIMAL(18,4) is a DECIMAL(22,8), rounded at eight
    decimals, which moved a ratio of two means (theft_suspects.energy_drop_share) by
    4e-10 against DuckDB; there the mean is the DOUBLE quotient of the exact sum.
    Used as a call block: {% call decimal_mean() %}expression{% endcall %}. -#}
{% macro decimal_mean() -%}
    {{ return(adapter.dispatch('decimal_mean', 'gridaudit')(caller())) }}
{%- endmacro %}

{% macro default__decimal_mean(expression) -%}
    avg({{ expression }})
{%- endmacro %}

{% macro spark__decimal_mean(expression) -%}
    (cast(sum({{ expression }}) as double) / count({{ expression }}))
{%- endmacro %}
