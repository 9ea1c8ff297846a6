"""Suites of the KPI fact marts behind marts.unit_kpis: marts.unit_kpi_daily (the counts
and sums per indicator, day and unit), marts.unit_kpi_facts (the objects that count
against an indicator: the drill-down) and marts.dim_kpi_indicator (the code table).

* daily counts: keys present and unique per day, indicator and unit; the indicator is in
  the code table; numerator, denominator and counts not negative; for a rate the
  numerator is at most the denominator; the drill-down objects are some of the objects
  (drill_down_count <= object_count), and a rate whose numerator falls short of its
  denominator has at least one object in the drill-down (a shortfall without evidence
  cannot be drilled into); every unit names its 供电所 (warn: a unit missing from O_ORG
  is in no roll-up);
* drill-down facts: keys present and unique per day, indicator and object; the indicator
  is in the code table; numerator and denominator not negative; for a rate every object
  counts against it (numerator < denominator: the objects that count fully are only in
  the daily counts); every fact names its 供电所 (warn);
* code table: one row per code, each with its Chinese name and value unit.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.conditions import Column

from expectations.base import ERROR_KW, WARN_KW, Settings, TableSuite, suite
from expectations.marts.problems import VALUE_UNITS, kpi_indicators

UNIT_KPI_DAILY = "marts.unit_kpi_daily"
UNIT_KPI_FACTS = "marts.unit_kpi_facts"
DIM_KPI_INDICATOR = "marts.dim_kpi_indicator"
# 1 when a fact's unit has its 供电所, or is a 县公司 itself (a work order of E01 is received
# by the 县公司: no 供电所 above it)
STATION_CHECK = (
    "_check_has_station",
    "case when station_no is not null or org_no = county_no then 1 else 0 end",
)
OBJECT_TYPES = (
    "area",
    "meter",
    "customer",
    "receivable",
    "payment",
    "application",
    "work_order",
)


def build_unit_kpi_daily(settings: Settings):
    indicators = kpi_indicators()
    shares = [code for code, unit in indicators.items() if unit == "share"]
    return suite(
        UNIT_KPI_DAILY,
        [
            gxe.ExpectColumnValuesToNotBeNull(column="data_date", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="indicator_code", **ERROR_KW),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["data_date", "indicator_code", "org_no"],
                **ERROR_KW,
                description="one row per indicator, day and unit",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="indicator_code", value_set=list(indicators), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeBetween(column="numerator_value", min_value=0, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(column="denominator_value", min_value=0, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(column="object_count", min_value=1, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(column="drill_down_count", min_value=0, **ERROR_KW),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="denominator_value",
                column_B="numerator_value",
                or_equal=True,
                row_condition=Column("indicator_code").is_in(shares),
                **ERROR_KW,
                description="a unit's rate is at most 1",
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="object_count",
                column_B="drill_down_count",
                or_equal=True,
                **ERROR_KW,
                description="the drill-down objects are some of the unit's objects",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="drill_down_count",
                min_value=1,
                row_condition=Column("_check_falls_short") == 1,
                **ERROR_KW,
                description="a rate that falls short of its denominator has its objects "
                "in the drill-down",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column=STATION_CHECK[0],
                value_set=[1],
                **WARN_KW,
                description="a unit below its 县公司 has its 供电所 (not a 县公司 work order)",
            ),
        ],
    )


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
                or_equal=False,
                row_condition=Column("indicator_code").is_in(shares),
                **ERROR_KW,
                description="an object of a rate's drill-down counts against it",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column=STATION_CHECK[0],
                value_set=[1],
                **WARN_KW,
                description="a unit below its 县公司 has its 供电所 (not a 县公司 work order)",
            ),
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
                column="value_unit", value_set=list(VALUE_UNITS), **ERROR_KW
            ),
        ],
    )


SUITES: tuple[TableSuite, ...] = (
    # units x indicators per day: small, one batch for the window
    TableSuite(
        UNIT_KPI_DAILY,
        build_unit_kpi_daily,
        window_column="data_date",
        key_columns=("data_date", "indicator_code", "org_no"),
        derived_columns=(
            (
                "_check_falls_short",
                "case when numerator_value < denominator_value"
                " and indicator_code in (select indicator_code from marts.dim_kpi_indicator"
                " where value_unit = 'share') then 1 else 0 end",
            ),
            STATION_CHECK,
        ),
    ),
    # the objects that count against an indicator: validated in batches of whole days
    # (bounded memory whatever their number)
    TableSuite(
        UNIT_KPI_FACTS,
        build_unit_kpi_facts,
        window_column="data_date",
        key_columns=("data_date", "indicator_code", "object_id"),
        batch_per_day=True,
        derived_columns=(STATION_CHECK,),
    ),
    TableSuite(
        DIM_KPI_INDICATOR,
        build_dim_kpi_indicator,
        window_column=None,
        key_columns=("indicator_code",),
    ),
)
