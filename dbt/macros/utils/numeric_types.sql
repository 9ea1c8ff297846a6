{#- The exact numeric types (docs/architecture.md "Numeric types"): one macro per kind of
    quantity, so a scale is decided in one place. The raw `decimal` columns are already
    DECIMAL(18,6) (dagster_project/lib/landing_contract.py), so every sum above them is
    exact and its result does not depend on the order DuckDB's threads add the rows in;
    these casts fix the scale of what a model stores and publishes.

    Beware DuckDB's DECIMAL arithmetic: a product adds the scales (a register difference
    times a multiplier is DECIMAL(37,12)), sum() widens to DECIMAL(38,s), a division gives a
    DOUBLE, and a DECIMAL compared with a DOUBLE is compared as DOUBLE. Cast a stored
    column to its type explicitly. -#}

{#- kWh: energies of a meter, an area, a customer or a window (forward / reverse energy,
    supply, sales, loss, plausible maximum, window sums and means). Four decimals: a
    DL/T 698.45 register has four, a two-decimal register times any multiplier with at
    most two decimals is exact; 10^14 kWh is more than a province uses in a month. -#}
{% macro kwh_type() -%}decimal(18, 4){%- endmacro %}

{#- 元: amounts of money, at 分. -#}
{% macro yuan_type() -%}decimal(18, 2){%- endmacro %}

{#- A KPI numerator or denominator (marts.unit_kpi_facts, marts.unit_kpis): a count, a
    number of days or an amount in 元, summed exactly over a unit and a month. -#}
{% macro kpi_quantity_type() -%}decimal(18, 4){%- endmacro %}

{#- DOUBLE ratios (loss rates, shares) are averaged in this type: an average of doubles
    depends on the order they are added in, an average of decimals does not. Twelve
    decimals are far below any displayed precision; 26 integer digits hold any ratio. -#}
{% macro ratio_sum_type() -%}decimal(38, 12){%- endmacro %}
