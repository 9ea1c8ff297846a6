"""The layout of a work-order list (稽查工单) and of its returned answers: one place for the
headers, the column names they load under, and the code tables (docs/work-orders.md).

Written by the dispatch step (lib/dispatch_lists.py), read back by the feedback extract
(lib/feedback.py), and written as answers by the generator (generator/work_orders.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib

SHEET = "稽查工单"
CODE_SHEET = "代码表"

# (header as the crew sees it, column name in raw_feedback.WORKBOOK_FEEDBACK)
HEADER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("工单编号", "WORK_ORDER_NO"),
    ("派发日期", "DISPATCH_DATE"),
    ("反馈期限", "ANSWER_DEADLINE"),
    ("供电所", "STATION_NAME"),
    ("台区编号", "TG_ID"),
    ("台区名称", "TG_NAME"),
    ("客户编号", "CONS_NO"),
    ("客户名称", "CONS_NAME"),
    ("用电地址", "ELEC_ADDR"),
    ("问题代码", "PROBLEM_CODE"),
    ("问题名称", "PROBLEM_NAME"),
    ("疑似问题描述", "PROBLEM_DESC"),
    ("建议措施", "SUGGESTED_ACTION"),
    ("首次发现日期", "FIRST_DETECTED_DATE"),
    ("连续天数", "CONSECUTIVE_DAYS"),
    # the answer: unlocked
    ("现场核查情况", "CHECK_RESULT"),
    ("是否属实", "IS_CONFIRMED"),
    ("是否发现疑似问题以外的情况", "OTHER_FINDINGS"),
    ("整改流程发起时间", "RECTIFY_START_TIME"),
    ("整改结果", "RECTIFY_RESULT"),
    ("营销系统整改工单编号", "RECTIFY_APP_NO"),
    ("现场核查人", "CHECKER"),
    ("反馈日期", "FEEDBACK_DATE"),
)
HEADERS: tuple[str, ...] = tuple(h for h, _ in HEADER_COLUMNS)
COLUMNS: tuple[str, ...] = tuple(c for _, c in HEADER_COLUMNS)
LOCKED_COUNT = 15  # the first fifteen are the order (locked, filled); the rest the answer
LOCKED_COLUMNS = COLUMNS[:LOCKED_COUNT]
ANSWER_COLUMNS = COLUMNS[LOCKED_COUNT:]

# Code tables: the workbook's dropdown text -> the platform export's code
IS_CONFIRMED = {"属实": "1", "不属实": "0"}
RECTIFY_RESULT = {"已整改": "01", "整改中": "02", "无法整改": "03"}
# a confirmed (属实) answer must carry all four
CONFIRMED_REQUIRES = ("RECTIFY_START_TIME", "RECTIFY_RESULT", "RECTIFY_APP_NO", "CHECKER")

STATUSES = ("已派发", "已反馈", "整改中", "待验证", "已归档", "整改无效")

# The platform export R_AUDIT_FEEDBACK's columns, in order
PLATFORM_COLUMNS = (
    "WORK_ORDER_NO",
    "CHECK_RESULT",
    "IS_CONFIRMED",
    "OTHER_FINDINGS",
    "RECTIFY_START_TIME",
    "RECTIFY_RESULT",
    "RECTIFY_APP_NO",
    "CHECKER",
    "FEEDBACK_DATE",
)


def work_order_no(dispatch_date: dt.date, problem_code: str, finding_key: str) -> str:
    """JC{yyyymmdd}{code}{8 hex of md5(finding_key)}: the dbt macro work_order_no() agrees."""
    digest = hashlib.md5(finding_key.encode("utf-8")).hexdigest()[:8].upper()
    return f"JC{dispatch_date:%Y%m%d}{problem_code}{digest}"
