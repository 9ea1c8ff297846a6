"""Suites of the KPI drill-down marts: marts.unit_kpi_facts (one row per indicator, day
and object behind every figure of marts.unit_kpis) and marts.dim_kpi_indicator (the
indicator code table).

* facts: keys present and unique per day, indicator and object; the indicator is in the
  code table; numerator and denominator are not negative, and for a rate the object
  counts at most fully (numerator <= denominator); every fact names its 供电所 (warn: a
  unit missing from O_ORG is in no roll-up);
* code table: one row per code, each with its Chinese name and value unit.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.conditions import Column

from expectations.base import ERROR_KW, WARN_KW, Settings, TableSuite, suite
from expectations.marts.problems import kpi_indicators

UNIT_KPI_FACTS = "marts.unit_kpi_facts"
DIM_KPI_INDICATOR = "marts.dim_kpi_indicator"
OBJECT_TYPES = ("area", "meter", "customer", "receivable", "payment", "application")


def build_unit_kpi_facts(settings: Settings):
    indicators = kpi_indicators()
    shares = [code for code, unit in indicators.items() if unit == "share"]
    return suite(
        UNIT_KPI_FACTS,
        [
            gxe.ExpectColumnValuesToNotBeNull(column="data_date", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="object_id", **ERROR_KW),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["data_date", "indicator_code", "object_id"],
                **ERROR_KW,
                description="one fact per indicator, day and object",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="indicator_code", value_set=list(indicators), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="object_type", value_set=list(OBJECT_TYPES), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeBetween(column="numerator_value", min_value=0, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(column="denominator_value", min_value=0, **ERROR_KW),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="denominator_value",
                column_B="numerator_value",
                or_equal=True,
                row_condition=Column("indicator_code").is_in(shares),
                **ERROR_KW,
                description="an object counts at most fully in a rate",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="station_no", **WARN_KW),
        ],
    )


def build_dim_kpi_indicator(settings: Settings):
    return suite(
        DIM_KPI_INDICATOR,
        [
            gxe.ExpectTableRowCountToBeBetween(min_value=1, **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="indicator_code", **ERROR_KW),
            gxe.ExpectColumnValuesToBeUnique(column="indicator_code", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="indicator_name", **ERROR_KW),
            gxe.ExpectColumnValuesToBeInSet(
                column="value_unit", value_set=["share", "days"], **ERROR_KW
            ),
        ],
    )


SUITES: tuple[TableSuite, ...] = (
    # ~450,000 facts per day on demo: validated in batches of whole days (bounded memory;
    # a 61-day backfill in one batch ran out of 24 GB)
    TableSuite(
        UNIT_KPI_FACTS,
        build_unit_kpi_facts,
        window_column="data_date",
        key_columns=("data_date", "indicator_code", "object_id"),
        batch_per_day=True,
    ),
    TableSuite(
        DIM_KPI_INDICATOR,
        build_dim_kpi_indicator,
        window_column=None,
        key_columns=("indicator_code",),
    ),
)
