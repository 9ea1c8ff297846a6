"""Suite of marts.theft_suspects (窃电嫌疑排行): one row per active customer with a positive
theft suspicion score (or an open theft work order) as of the newest day of
marts.area_daily_loss.

* one row per customer, all rows as of one day;
* raw_score equals the sum of the signals' points; every signal's points lie between 0 and
  its weight (settings theft_rank_*); no event, no event points; theft_score is raw_score,
  lowered only while the customer's 不属实 answer suppresses it;
* ranks: score_rank is the rank of theft_score over the table, area_rank the rank within
  the area (ties share a rank), area_rank <= score_rank;
* every row says why (signals text, signal_count 0..6: 0 only for a customer kept for its
  open work order);
* the shift: shift_start_date <= as_of_date, shift_days >= 1, a drop between 0 and 100 %,
  the estimated energy not recorded not negative.

The table is small and rebuilt on every run: it is validated as one batch (no window
column), like marts.area_problem_list.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.conditions import Column

from expectations.base import ERROR_KW, WARN_KW, MetricCheck, Settings, TableSuite, suite

TABLE = "marts.theft_suspects"
THEFT_EVENT_CODES = ("ERC9", "ERC10", "ERC37", "ERC38")
SIGNALS = 6
TOLERANCE = 1e-6
NON_EMPTY = r"\S"

# (points column, weight setting) of each signal
POINTS = (
    ("drop_points", "theft_rank_drop_points"),
    ("peer_points", "theft_rank_peer_points"),
    ("comovement_points", "theft_rank_comovement_points"),
    ("event_points", "theft_rank_event_points"),
    ("zero_points", "theft_rank_zero_points"),
    ("valley_points", "theft_rank_valley_points"),
)

# Columns computed by DuckDB when the batch is fetched (whole table, one batch).
DERIVED_COLUMNS = (
    (
        "_check_score_minus_points",
        "abs(raw_score - (" + " + ".join(f"coalesce({c}, 0)" for c, _ in POINTS) + "))",
    ),
    (
        "_check_unsuppressed_score_minus_raw",
        "case when is_suppressed then 0 else abs(theft_score - raw_score) end",
    ),
    ("_check_score_rank_minus_rank", "abs(score_rank - rank() over (order by theft_score desc))"),
    (
        "_check_area_rank_minus_rank",
        "abs(area_rank - rank() over (partition by tg_id order by theft_score desc))",
    ),
)


def build(settings: Settings):
    exps = [
        # keys and the day
        gxe.ExpectColumnValuesToNotBeNull(column="cons_no", **ERROR_KW),
        gxe.ExpectColumnValuesToBeUnique(
            column="cons_no", **ERROR_KW, description="one row per customer"
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="as_of_date", **ERROR_KW),
        gxe.ExpectColumnUniqueValueCountToBeBetween(
            column="as_of_date",
            min_value=0,
            max_value=1,
            **ERROR_KW,
            description="the ranking is as of one day (the newest of marts.area_daily_loss)",
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="tg_id", **WARN_KW),
        gxe.ExpectColumnValuesToNotBeNull(column="org_no", **WARN_KW),
        # score and its points
        gxe.ExpectColumnValuesToNotBeNull(column="theft_score", **ERROR_KW),
        gxe.ExpectColumnValuesToBeBetween(
            column="theft_score",
            min_value=0,
            strict_min=True,
            row_condition=Column("work_order_no").is_null(),
            **ERROR_KW,
            description="without a work order only customers with a positive score are listed",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="_check_score_minus_points",
            min_value=0,
            max_value=TOLERANCE,
            **ERROR_KW,
            description="raw_score = the sum of the signals' points",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="raw_score",
            column_B="theft_score",
            or_equal=True,
            **ERROR_KW,
            description="the 不属实 suppression only lowers a score",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="_check_unsuppressed_score_minus_raw",
            min_value=0,
            max_value=TOLERANCE,
            **ERROR_KW,
            description="no suppression, theft_score = raw_score",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="signal_count", min_value=0, max_value=SIGNALS, **ERROR_KW
        ),
        # why: the signals text
        gxe.ExpectColumnValuesToNotBeNull(column="signals", **ERROR_KW),
        gxe.ExpectColumnValuesToMatchRegex(
            column="signals", regex=NON_EMPTY, **ERROR_KW, description="every suspect says why"
        ),
        # ranks
        gxe.ExpectColumnValuesToBeBetween(column="score_rank", min_value=1, **ERROR_KW),
        gxe.ExpectColumnValuesToBeBetween(column="area_rank", min_value=1, **ERROR_KW),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="score_rank",
            column_B="area_rank",
            or_equal=True,
            **ERROR_KW,
            description="a customer ranks no worse in its area than overall",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="_check_score_rank_minus_rank",
            min_value=0,
            max_value=0,
            **ERROR_KW,
            description="score_rank is the rank of theft_score (1 = highest)",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="_check_area_rank_minus_rank",
            min_value=0,
            max_value=0,
            **ERROR_KW,
            description="area_rank is the rank of theft_score within the area",
        ),
        # events
        gxe.ExpectColumnValuesToBeBetween(column="event_count", min_value=0, **ERROR_KW),
        gxe.ExpectColumnValuesToBeInSet(
            column="latest_event_code",
            value_set=list(THEFT_EVENT_CODES),
            **ERROR_KW,
            description="only the catalogue's theft events (as rule T01)",
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="latest_event_code", row_condition=Column("event_count") > 0, **ERROR_KW
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="latest_event_time", row_condition=Column("event_count") > 0, **ERROR_KW
        ),
        # signal values
        gxe.ExpectColumnValuesToBeBetween(
            column="energy_drop_share",
            max_value=1,
            **ERROR_KW,
            description="a drop is at most 100 % (energies are not negative)",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="zero_energy_days", min_value=0, **ERROR_KW),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="shift_read_days",
            column_B="zero_energy_days",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **ERROR_KW,
            description="zero-energy days are read days of the shift",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="baseline_valley_share", min_value=0, max_value=1, **WARN_KW
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="shift_valley_share", min_value=0, max_value=1, **WARN_KW
        ),
        # the shift and its estimated loss
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="as_of_date",
            column_B="shift_start_date",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **ERROR_KW,
        ),
        gxe.ExpectColumnValuesToBeBetween(column="shift_days", min_value=1, **ERROR_KW),
        gxe.ExpectColumnValuesToBeBetween(
            column="missing_kwh",
            min_value=0,
            **ERROR_KW,
            description="the estimated energy not recorded is never negative",
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="settings_fingerprint", **WARN_KW),
    ]
    for column, weight_setting in POINTS:
        weight = float(settings[weight_setting])
        exps += [
            gxe.ExpectColumnValuesToNotBeNull(column=column, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=0,
                max_value=weight,
                **ERROR_KW,
                description=f"{column} between 0 and {weight_setting}",
            ),
        ]
    exps += [
        gxe.ExpectColumnValuesToBeBetween(
            column="event_points",
            min_value=0,
            max_value=0,
            row_condition=Column("event_count") == 0,
            **ERROR_KW,
            description="no event, no event points",
        ),
    ]
    return suite(TABLE, exps)


SUITE = TableSuite(
    TABLE,
    build,
    window_column=None,
    key_columns=("cons_no", "as_of_date"),
    derived_columns=DERIVED_COLUMNS,
)

METRIC_CHECKS: tuple[MetricCheck, ...] = ()
