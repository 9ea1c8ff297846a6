"""Suites of the work-order marts (docs/work-orders.md §3, §7): marts.work_orders (one row
per order) and marts.work_order_events (every transition).

* keys unique: one row per order (work_order_no), one event per order, day and sequence;
* statuses exactly the contract's names (work_order_layout.STATUSES), sources and archive
  reasons from their lists; the number has the contract's form (JC + day + code + 8 hex);
* dates in order: deadline after dispatch, answers, archiving and 整改无效 not before the
  dispatch; an archived order has its day and reason, a 整改无效 one its day, a verified
  one its verified_date; a feedback event names its file and row;
* metric checks in DuckDB: every order of marts.work_orders has its dispatch event, and
  every event's order is in marts.work_orders; at most one open order per finding key.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.conditions import Column

from dagster_project.lib.work_order_layout import STATUSES
from expectations.base import ERROR, ERROR_KW, WARN_KW, MetricCheck, Settings, TableSuite, suite

WORK_ORDERS = "marts.work_orders"
WORK_ORDER_EVENTS = "marts.work_order_events"

# 'JC' + yyyymmdd + problem code (a letter and two digits) + 8 upper-case hex digits
WORK_ORDER_NO = r"^JC[0-9]{8}[A-Z][0-9]{2}[0-9A-F]{8}$"
OPEN_STATUSES = ("已派发", "已反馈", "整改中", "待验证")
SOURCES = ("dispatch", "feedback", "verification")
ARCHIVE_REASONS = ("false_positive", "verified")
RECEIVING_LEVELS = ("station", "county")


def build_work_orders(settings: Settings):
    return suite(
        WORK_ORDERS,
        [
            gxe.ExpectColumnValuesToNotBeNull(column="work_order_no", **ERROR_KW),
            gxe.ExpectColumnValuesToBeUnique(
                column="work_order_no", **ERROR_KW, description="one row per work order"
            ),
            gxe.ExpectColumnValuesToMatchRegex(
                column="work_order_no",
                regex=WORK_ORDER_NO,
                **ERROR_KW,
                description="JC + dispatch day + problem code + 8 hex of md5(finding_key)",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="finding_key", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="problem_code", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(
                column="org_no", **ERROR_KW, description="every order has a receiving unit"
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="receiving_level", value_set=list(RECEIVING_LEVELS), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="status", **ERROR_KW),
            gxe.ExpectColumnValuesToBeInSet(
                column="status",
                value_set=list(STATUSES),
                **ERROR_KW,
                description="exactly the contract's status names",
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="answer_deadline",
                column_B="dispatch_date",
                or_equal=True,
                **ERROR_KW,
                description="反馈期限 on or after the dispatch day",
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="first_answer_date",
                column_B="dispatch_date",
                ignore_row_if="either_value_is_missing",
                **ERROR_KW,
                description="an order is answered after the day it was dispatched",
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="archived_date",
                column_B="dispatch_date",
                ignore_row_if="either_value_is_missing",
                **ERROR_KW,
                description="archived after the dispatch day",
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="archived_date",
                row_condition=Column("status") == "已归档",
                **ERROR_KW,
                description="an archived order has its archiving day",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="archive_reason",
                value_set=list(ARCHIVE_REASONS),
                row_condition=Column("status") == "已归档",
                **ERROR_KW,
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="ineffective_date",
                row_condition=Column("status") == "整改无效",
                **ERROR_KW,
                description="an order closed 整改无效 has its day",
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="verified_date",
                row_condition=Column("archive_reason") == "verified",
                **ERROR_KW,
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="first_answer_date",
                row_condition=Column("status").is_in(["整改中", "待验证", "已归档", "整改无效"]),
                **ERROR_KW,
                description="only an answer moves an order on from 已派发",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="is_overdue", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(
                column="station_no", **WARN_KW, row_condition=Column("receiving_level") == "station"
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="city_no", **WARN_KW),
        ],
    )


def build_work_order_events(settings: Settings):
    return suite(
        WORK_ORDER_EVENTS,
        [
            gxe.ExpectColumnValuesToNotBeNull(column="event_date", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="work_order_no", **ERROR_KW),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["work_order_no", "event_date", "event_seq"],
                **ERROR_KW,
                description="one event per order, day and sequence",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="to_status", value_set=list(STATUSES), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="from_status", value_set=list(STATUSES), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeInSet(column="source", value_set=list(SOURCES), **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(
                column="source_file",
                row_condition=Column("source") == "feedback",
                **ERROR_KW,
                description="a feedback event names its file",
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="line_number",
                row_condition=Column("source") == "feedback",
                **ERROR_KW,
                description="a feedback event names its row",
            ),
            gxe.ExpectColumnValuesToBeNull(
                column="from_status",
                row_condition=Column("source") == "dispatch",
                **ERROR_KW,
                description="a dispatch starts an order",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="to_status",
                value_set=["已归档", "整改无效"],
                row_condition=Column("source") == "verification",
                **ERROR_KW,
            ),
        ],
    )


SUITES: tuple[TableSuite, ...] = (
    TableSuite(WORK_ORDERS, build_work_orders, window_column=None, key_columns=("work_order_no",)),
    TableSuite(
        WORK_ORDER_EVENTS,
        build_work_order_events,
        window_column="event_date",
        key_columns=("work_order_no", "event_date", "event_seq"),
    ),
)

METRIC_CHECKS: tuple[MetricCheck, ...] = (
    MetricCheck(
        name="work_orders_match_their_events",
        table=WORK_ORDERS,
        severity=ERROR,
        description="every order has its dispatch event and every event's order is an order",
        sql=f"""
with dispatched as (
    select work_order_no from {WORK_ORDER_EVENTS} where source = 'dispatch'
),
evented as (
    select distinct work_order_no from {WORK_ORDER_EVENTS}
)
select
    coalesce(o.work_order_no, e.work_order_no) as work_order_no,
    o.work_order_no is not null as is_order,
    d.work_order_no is not null as has_dispatch_event,
    o.work_order_no is null or d.work_order_no is null as failed
from {WORK_ORDERS} as o
full join evented as e using (work_order_no)
left join dispatched as d on d.work_order_no = coalesce(o.work_order_no, e.work_order_no)
order by work_order_no
""",
        key_columns=("work_order_no",),
        requires=(WORK_ORDERS, WORK_ORDER_EVENTS),
    ),
    MetricCheck(
        name="work_orders_one_open_order_per_finding",
        table=WORK_ORDERS,
        severity=ERROR,
        description="at most one open order (已派发, 已反馈, 整改中, 待验证) per finding key",
        sql=f"""
select
    finding_key,
    count(*) as open_orders,
    count(*) > 1 as failed
from {WORK_ORDERS}
where status in ({", ".join(f"'{s}'" for s in OPEN_STATUSES)})
group by finding_key
order by finding_key
""",
        key_columns=("finding_key",),
        requires=(WORK_ORDERS,),
    ),
)
