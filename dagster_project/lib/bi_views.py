"""Schema `bi` of the published file: views for a BI user who does not know the pipeline.

Every view reads the `marts` tables of the published file itself (never the warehouse),
so what it shows is what publish wrote there: personal data masked when masking is on.
Codes become Chinese text (线损状态 合格/高损/负损/不可算, 日/月, 供电所/县公司), units carry
their names, and every view and column has a Chinese comment (COMMENT ON), which DBeaver,
DuckDB's own `duckdb_columns().comment` and the DuckDB CLI show.

A column that passes a marts column through gets that column's Chinese name, taken from
its comment in the published file (the dbt yml description, which publish copies): the
leading text before the first explanation, "供电量 kWh (考核表正向电量 + ...)" -> "供电量 kWh".
Only the columns the views compute have their Chinese comment written here.

The Chinese names of codes come from where the rest of the code base keeps them
(report.py: loss statuses, unit levels, which indicators rank smaller first); the names of
the uncomputable reasons, severities, problem levels and answer forms, which nothing else
translates, are here.

`create_views` is called by publish (lib/publish.py) on the incoming file, after its marts
are complete, for both the full copy and the incremental patch. The views are created only
when the file has every marts table they read (a warehouse without them, such as the small
ones of tests/test_publish.py, gets no `bi` schema and a warning); when it has them, a view
that does not bind (a mart lost a column) fails the publish: a published file never carries
a broken view. The SQL is plain DuckDB SQL that DuckDB 1.x binds too: a BI driver on DuckDB
1.4 re-binds the stored view text when it reads a view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dagster_project.lib.report import LOSS_STATUSES, LOWER_IS_BETTER, UNIT_LEVELS, UNRANKED

SCHEMA = "bi"
MARTS = "marts"

# marts.area_daily_loss.uncomputable_reason (accepted values of its yml)
UNCOMPUTABLE_REASONS = {
    "no check meter": "无考核表",
    "check meter reading missing": "考核表示数缺失",
    "check meter register invalid": "考核表示数无效",
    "meter completeness below threshold": "采集完整率低于阈值",
    "no supply": "供电量为零",
}
SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
PROBLEM_LEVELS = {"area": "台区", "customer": "用户", "application": "业扩申请"}
PERIOD_TYPES = {"day": "日", "month": "月"}
VALUE_UNITS = {"share": "比率", "days": "天", "count": "个数"}
ANSWER_FORMS = {"workbook": "返回的清单", "platform": "移动作业平台"}
ARCHIVE_REASONS = {"false_positive": "不属实", "verified": "验证通过"}
YES_NO = ("是", "否")
# replaces PERSONAL_DATA_TOKEN in comments: whether publish masked the personal data
PERSONAL_DATA_TOKEN = "{personal_data}"
PERSONAL_DATA = {True: "已脱敏, 如 张*明", False: "未脱敏 (GRIDAUDIT_MASK_PERSONAL_DATA=0)"}


class ViewError(RuntimeError):
    """A bi view does not bind to the published marts, or lacks a column comment."""


@dataclass(frozen=True)
class Column:
    """A view column's comment: `text` written here, or `mart` ("table.column") whose
    comment's Chinese name it takes (plus `note`, if any)."""

    text: str | None = None
    mart: str | None = None
    note: str | None = None


def same(mart_column: str, note: str | None = None) -> Column:
    return Column(mart=mart_column, note=note)


def says(text: str) -> Column:
    return Column(text=text)


@dataclass(frozen=True)
class View:
    name: str
    comment: str
    sql: str  # the SELECT; marts.<table> and bi.<view> only
    columns: dict[str, Column]  # every column of the SELECT, in its order
    reads: tuple[str, ...]  # the marts tables it needs


def _case(expr: str, names: dict[str, str]) -> str:
    """CASE mapping the codes of `expr` to Chinese names (unknown codes stay as they are,
    so a new code shows up instead of disappearing)."""
    whens = " ".join(f"when {_lit(k)} then {_lit(v)}" for k, v in names.items())
    return f"case {expr} {whens} else {expr} end"


def _yes_no(expr: str, yes: str = YES_NO[0], no: str = YES_NO[1]) -> str:
    return f"case when {expr} then {_lit(yes)} when not {expr} then {_lit(no)} end"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(codes) -> str:
    return ", ".join(_lit(c) for c in sorted(codes))


UNITS_DAILY = View(
    name="units_daily",
    comment=(
        "单位日维表: 每日的供电所 / 县公司 / 地市公司及其名称和上级单位"
        " (营销系统 O_ORG, 取自同业对标日数据)"
    ),
    sql="""
        select distinct
            period_start as day,
            unit_level,
            unit_level_name,
            org_no,
            org_name,
            parent_org_no
        from marts.unit_kpis
        where period_type = 'day'
    """,
    columns={
        "day": says("日期"),
        "unit_level": says("单位层级代码 (station 供电所 / county 县公司 / city 地市公司)"),
        "unit_level_name": says("单位层级 (供电所 / 县公司 / 地市公司)"),
        "org_no": says("单位编号"),
        "org_name": says("单位名称"),
        "parent_org_no": says("上级单位编号"),
    },
    reads=("unit_kpis",),
)

_LOSS_STATUS_NAMES = {code: name for code, (name, _color) in LOSS_STATUSES.items()}

AREA_LOSS_DAILY = View(
    name="area_loss_daily",
    comment=(
        "台区同期线损日报: 每个在运台区每天一行, 供电量、售电量、线损电量、线损率和线损状态"
        " (合格 / 高损 / 负损 / 不可算), 附所属供电所和县公司; 线损率为比率 (0.05 = 5%),"
        " 不可算台区无线损率, 附不可算原因"
    ),
    sql=f"""
        select
            a.data_date as day,
            county.org_no as county_no,
            county.org_name as county_name,
            a.org_no as station_no,
            station.org_name as station_name,
            a.tg_id as area_id,
            a.tg_name as area_name,
            a.supply_kwh,
            a.sales_kwh,
            a.loss_kwh,
            a.loss_rate,
            {_case("a.loss_status", _LOSS_STATUS_NAMES)} as loss_status,
            {_case("a.uncomputable_reason", UNCOMPUTABLE_REASONS)} as uncomputable_reason,
            a.meter_count,
            a.meter_read_count,
            a.completeness_share
        from marts.area_daily_loss as a
        left join bi.units_daily as station
            on station.day = a.data_date
            and station.org_no = a.org_no
            and station.unit_level = 'station'
        left join bi.units_daily as county
            on county.day = a.data_date
            and county.org_no = station.parent_org_no
            and county.unit_level = 'county'
    """,
    columns={
        "day": says("日期"),
        "county_no": says("县公司编号"),
        "county_name": says("县公司名称"),
        "station_no": says("供电所编号"),
        "station_name": says("供电所名称"),
        "area_id": same("area_daily_loss.tg_id"),
        "area_name": same("area_daily_loss.tg_name"),
        "supply_kwh": same("area_daily_loss.supply_kwh"),
        "sales_kwh": same("area_daily_loss.sales_kwh"),
        "loss_kwh": same("area_daily_loss.loss_kwh"),
        "loss_rate": same("area_daily_loss.loss_rate", "比率, 0.05 = 5%; 不可算时为空"),
        "loss_status": says("线损状态: " + " / ".join(_LOSS_STATUS_NAMES.values())),
        "uncomputable_reason": says(
            "不可算原因: " + " / ".join(UNCOMPUTABLE_REASONS.values()) + "; 可算时为空"
        ),
        "meter_count": same("area_daily_loss.meter_count"),
        "meter_read_count": same("area_daily_loss.meter_read_count"),
        "completeness_share": same("area_daily_loss.completeness_share", "比率"),
    },
    reads=("area_daily_loss", "unit_kpis"),
)

OPEN_PROBLEMS = View(
    name="open_problems",
    comment=(
        "一台区一问题清单: 截至清单日期仍在途的每个问题一行, 含问题代码和名称、所属单位、台区、"
        "用户 (户名{personal_data})、问题依据、连续天数、处理建议, "
        "以及该问题最近一张稽查工单及其状态"
    ),
    sql=f"""
        with latest_order as (
            select
                finding_key,
                work_order_no,
                status,
                answer_deadline,
                is_overdue
            from marts.work_orders
            qualify row_number() over (
                partition by finding_key order by dispatch_date desc, work_order_no desc
            ) = 1
        )
        select
            p.as_of_date,
            p.problem_code,
            p.problem_name,
            p.category,
            {_case("p.severity", SEVERITIES)} as severity,
            {_case("p.problem_level", PROBLEM_LEVELS)} as problem_level,
            p.org_name_city as city_name,
            p.org_name_county as county_name,
            p.org_no_station as station_no,
            p.org_name_station as station_name,
            p.org_no,
            p.org_name,
            p.tg_id as area_id,
            p.tg_name as area_name,
            p.cons_no as customer_no,
            p.cons_name as customer_name,
            p.app_no as application_no,
            p.first_detected_date,
            p.consecutive_days,
            p.evidence,
            p.metric_value,
            p.threshold_value,
            p.suggested_action,
            o.work_order_no,
            o.status as work_order_status,
            o.answer_deadline as work_order_deadline,
            {_yes_no("o.is_overdue", "超期", "未超期")} as work_order_overdue,
            p.finding_key
        from marts.area_problem_list as p
        left join latest_order as o using (finding_key)
    """,
    columns={
        "as_of_date": same("area_problem_list.as_of_date"),
        "problem_code": same("area_problem_list.problem_code"),
        "problem_name": same("area_problem_list.problem_name"),
        "category": same("area_problem_list.category"),
        "severity": says("严重程度: " + " / ".join(SEVERITIES.values())),
        "problem_level": says("问题层级: " + " / ".join(PROBLEM_LEVELS.values())),
        "city_name": same("area_problem_list.org_name_city"),
        "county_name": same("area_problem_list.org_name_county"),
        "station_no": same("area_problem_list.org_no_station"),
        "station_name": same("area_problem_list.org_name_station"),
        "org_no": same("area_problem_list.org_no"),
        "org_name": same("area_problem_list.org_name"),
        "area_id": same("area_problem_list.tg_id"),
        "area_name": same("area_problem_list.tg_name"),
        "customer_no": same("area_problem_list.cons_no", "台区问题为空"),
        "customer_name": same("area_problem_list.cons_name", "{personal_data}"),
        "application_no": same("area_problem_list.app_no"),
        "first_detected_date": same("area_problem_list.first_detected_date"),
        "consecutive_days": same("area_problem_list.consecutive_days"),
        "evidence": same("area_problem_list.evidence"),
        "metric_value": same("area_problem_list.metric_value"),
        "threshold_value": same("area_problem_list.threshold_value"),
        "suggested_action": same("area_problem_list.suggested_action"),
        "work_order_no": says("最近一张稽查工单编号 (未派单时为空)"),
        "work_order_status": says("工单状态: 已派发 / 整改中 / 待验证 / 已归档 / 整改无效"),
        "work_order_deadline": says("工单反馈期限"),
        "work_order_overdue": says("工单是否超期: 超期 / 未超期"),
        "finding_key": same("area_problem_list.finding_key"),
    },
    reads=("area_problem_list", "work_orders"),
)

UNIT_KPIS = View(
    name="unit_kpis",
    comment=(
        "同业对标: 每个单位 (供电所 / 县公司 / 地市公司)、周期 (日 / 月) 和指标一行, 分子、分母、"
        "指标值并列, 附同层级单位间的排名 (1 = 最好; 越大越好或越小越好见 rank_direction)"
    ),
    sql=f"""
        select
            {_case("k.period_type", PERIOD_TYPES)} as period_type,
            k.period_start,
            k.period_end,
            k.as_of_date,
            k.unit_level_name as unit_level,
            k.org_no,
            k.org_name,
            k.parent_org_no,
            i.indicator_group,
            k.indicator_code,
            k.indicator_name,
            {_case("k.value_unit", VALUE_UNITS)} as value_unit,
            i.numerator_name,
            k.numerator_value,
            i.denominator_name,
            k.denominator_value,
            k.indicator_value,
            case
                when k.indicator_code in ({_in_list(UNRANKED)}) then '不排名'
                when k.indicator_code in ({_in_list(LOWER_IS_BETTER)}) then '越小越好'
                else '越大越好'
            end as rank_direction,
            case
                when k.indicator_value is not null
                    and k.indicator_code not in ({_in_list(UNRANKED)})
                    then rank() over (
                        partition by
                            k.period_type,
                            k.period_start,
                            k.indicator_code,
                            k.unit_level
                        order by
                            case
                                when k.indicator_code in ({_in_list(LOWER_IS_BETTER)})
                                    then k.indicator_value
                                else -k.indicator_value
                            end
                    )
            end as unit_rank,
            case
                when k.indicator_code not in ({_in_list(UNRANKED)})
                    then count(k.indicator_value) over (
                        partition by k.period_type, k.period_start, k.indicator_code, k.unit_level
                    )
            end as units_ranked,
            k.object_count,
            i.sort_order
        from marts.unit_kpis as k
        left join marts.dim_kpi_indicator as i using (indicator_code)
    """,
    columns={
        "period_type": says("周期类型: " + " / ".join(PERIOD_TYPES.values())),
        "period_start": same("unit_kpis.period_start"),
        "period_end": same("unit_kpis.period_end"),
        "as_of_date": same("unit_kpis.as_of_date", "月指标为当月截至日"),
        "unit_level": says("单位层级: " + " / ".join(UNIT_LEVELS.values())),
        "org_no": same("unit_kpis.org_no"),
        "org_name": same("unit_kpis.org_name"),
        "parent_org_no": same("unit_kpis.parent_org_no"),
        "indicator_group": same("dim_kpi_indicator.indicator_group"),
        "indicator_code": same("unit_kpis.indicator_code"),
        "indicator_name": same("unit_kpis.indicator_name"),
        "value_unit": says("指标单位: " + " / ".join(VALUE_UNITS.values())),
        "numerator_name": same("dim_kpi_indicator.numerator_name"),
        "numerator_value": same("unit_kpis.numerator_value"),
        "denominator_name": same("dim_kpi_indicator.denominator_name"),
        "denominator_value": same("unit_kpis.denominator_value"),
        "indicator_value": same(
            "unit_kpis.indicator_value", "比率为 0-1; 个数类指标为分子; 分母为 0 时为空"
        ),
        "rank_direction": says("排名方向: 越大越好 / 越小越好 / 不排名"),
        "unit_rank": says(
            "排名: 同周期、同指标、同层级单位中的名次 (1 = 最好, 并列同名次);"
            " 无指标值或不排名时为空"
        ),
        "units_ranked": says(
            "参与排名单位数 (同周期、同指标、同层级有指标值的单位数); 不排名时为空"
        ),
        "object_count": same("unit_kpis.object_count"),
        "sort_order": same("dim_kpi_indicator.sort_order"),
    },
    reads=("unit_kpis", "dim_kpi_indicator"),
)

WORK_ORDERS = View(
    name="work_orders",
    comment=(
        "稽查工单: 每张工单一行, 含问题、接收单位、派发日期、反馈期限、工单状态"
        " (已派发 / 整改中 / 待验证 / 已归档 / 整改无效)、是否超期、现场核查和整改结果及各环节日期"
    ),
    sql=f"""
        select
            w.work_order_no,
            w.status,
            {_yes_no("w.is_overdue", "超期", "未超期")} as overdue,
            w.as_of_date,
            w.dispatch_date,
            w.answer_deadline,
            w.problem_code,
            w.problem_name,
            {_case("w.receiving_level", UNIT_LEVELS)} as receiving_level,
            w.org_no,
            w.org_name,
            county.org_name as county_name,
            w.tg_id as area_id,
            w.cons_no as customer_no,
            w.app_no as application_no,
            w.first_answer_date,
            w.answer_date,
            {_case("w.answer_form", ANSWER_FORMS)} as answer_form,
            w.check_result,
            {_yes_no("w.is_confirmed", "属实", "不属实")} as confirmed,
            w.other_findings,
            w.rectify_result_name,
            w.rectify_app_no,
            w.checker,
            w.rectified_date,
            w.verified_date,
            w.archived_date,
            {_case("w.archive_reason", ARCHIVE_REASONS)} as archive_reason,
            w.ineffective_date,
            w.previous_work_order_no,
            {_yes_no("w.is_recurrence")} as recurrence,
            w.finding_key
        from marts.work_orders as w
        left join bi.units_daily as county
            on county.day = w.dispatch_date
            and county.org_no = w.county_no
            and county.unit_level = 'county'
    """,
    columns={
        "work_order_no": same("work_orders.work_order_no"),
        "status": says("工单状态: 已派发 / 整改中 / 待验证 / 已归档 / 整改无效 (截至状态日期)"),
        "overdue": says("是否超期: 超期 / 未超期 (反馈期限前无有效反馈为超期)"),
        "as_of_date": same("work_orders.as_of_date"),
        "dispatch_date": same("work_orders.dispatch_date"),
        "answer_deadline": same("work_orders.answer_deadline"),
        "problem_code": same("work_orders.problem_code"),
        "problem_name": same("work_orders.problem_name"),
        "receiving_level": says("接收单位层级: 供电所 / 县公司"),
        "org_no": same("work_orders.org_no"),
        "org_name": same("work_orders.org_name"),
        "county_name": says("接收单位所属县公司名称"),
        "area_id": same("work_orders.tg_id"),
        "customer_no": same("work_orders.cons_no"),
        "application_no": same("work_orders.app_no"),
        "first_answer_date": same("work_orders.first_answer_date"),
        "answer_date": same("work_orders.answer_date"),
        "answer_form": says("反馈形式: " + " / ".join(ANSWER_FORMS.values())),
        "check_result": same("work_orders.check_result"),
        "confirmed": says("是否属实: 属实 / 不属实 (未反馈时为空)"),
        "other_findings": same("work_orders.other_findings"),
        "rectify_result_name": same("work_orders.rectify_result_name"),
        "rectify_app_no": same("work_orders.rectify_app_no"),
        "checker": same("work_orders.checker"),
        "rectified_date": same("work_orders.rectified_date"),
        "verified_date": same("work_orders.verified_date"),
        "archived_date": same("work_orders.archived_date"),
        "archive_reason": says("归档原因: " + " / ".join(ARCHIVE_REASONS.values())),
        "ineffective_date": same("work_orders.ineffective_date"),
        "previous_work_order_no": same("work_orders.previous_work_order_no"),
        "recurrence": says("是否重复发生: 是 / 否 (验证归档后问题在规定天数内再次出现)"),
        "finding_key": same("work_orders.finding_key"),
    },
    reads=("work_orders", "unit_kpis"),
)

# in creation order: a view is created after the views it reads
VIEWS = (UNITS_DAILY, AREA_LOSS_DAILY, OPEN_PROBLEMS, UNIT_KPIS, WORK_ORDERS)

# The Chinese name of a marts column's comment: the text before the first explanation
# (an opening parenthesis, a colon, a semicolon, or English prose).
_EXPLANATION = re.compile(r"\s*(?:[(:;：（]|\s(?:of|as|for|the|when|in)\s)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_name(comment: str) -> str:
    """'供电量 kWh (考核表正向电量 + 光伏上网电量); NULL when ...' -> '供电量 kWh';
    '首次发现日期 of the finding's run ...' -> '首次发现日期'."""
    return _EXPLANATION.split(comment.strip(), maxsplit=1)[0].strip()


def required_tables() -> set[str]:
    return {t for v in VIEWS for t in v.reads}


def missing_tables(con) -> list[str]:
    """The marts tables the views read that the file `con` (the default database) lacks."""
    present = {
        t
        for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = $schema",
            {"schema": MARTS},
        ).fetchall()
    }
    return sorted(required_tables() - present)


def _mart_comments(con) -> dict[str, str | None]:
    return {
        f"{t}.{c}": comment
        for t, c, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where database_name = current_database() and schema_name = $schema",
            {"schema": MARTS},
        ).fetchall()
    }


def column_comment(column: Column, mart_comments: dict[str, str | None]) -> str:
    if column.text is not None:
        return column.text
    source = mart_comments.get(column.mart)
    name = chinese_name(source) if source else ""
    if not _CJK.search(name):
        raise ViewError(
            f"marts.{column.mart} has no Chinese name in its comment ({source!r}): "
            "the dbt yml description of the column starts with it"
        )
    return f"{name} ({column.note})" if column.note else name


def create_views(con, personal_data_masked: bool) -> list[str]:
    """(Re)create schema `bi` in the default database of `con` (the incoming file), the
    comments saying whether publish masked the personal data. Returns the views created,
    "bi.<name>"; raises ViewError when a view does not bind or its columns are not those
    its comments describe. The caller checks `missing_tables` first."""

    def text(comment: str) -> str:
        return comment.replace(PERSONAL_DATA_TOKEN, PERSONAL_DATA[personal_data_masked])

    con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    con.execute(f"CREATE SCHEMA {SCHEMA}")
    comments = _mart_comments(con)
    created = []
    for view in VIEWS:
        target = f"{SCHEMA}.{view.name}"
        try:
            con.execute(f"CREATE VIEW {target} AS {view.sql}")
        except Exception as exc:  # noqa: BLE001 - named and re-raised with the view
            raise ViewError(f"view {target} does not bind: {type(exc).__name__}: {exc}") from exc
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from duckdb_columns() where database_name = "
                "current_database() and schema_name = $schema and table_name = $view "
                "order by column_index",
                {"schema": SCHEMA, "view": view.name},
            ).fetchall()
        ]
        if columns != list(view.columns):
            raise ViewError(
                f"view {target} has columns {columns}, its comments describe {list(view.columns)}"
            )
        con.execute(f"COMMENT ON VIEW {target} IS {_lit(text(view.comment))}")
        for name, column in view.columns.items():
            con.execute(
                f'COMMENT ON COLUMN {target}."{name}" IS '
                + _lit(text(column_comment(column, comments)))
            )
        created.append(target)
    return created
