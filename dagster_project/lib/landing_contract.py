"""The landing contract (shared/reference/source-extracts.md, v1) as data.

One place that says, for every source table, which system it belongs to, whether it is
a snapshot or a delta, its key and the type of every column. The extractor validates
landing files against it, the generator writes files from it, and the dbt sources and
GX raw suites are checked against it in the tests. Dagster-free on purpose.

Column types (how a text field from the CSV is validated; an empty field is NULL):
  code       string that must keep leading zeros; if `codes` is given, one of them
  text       free text
  date       YYYY-MM-DD, a real calendar date
  timestamp  YYYY-MM-DD HH:MM:SS
  datetime   YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM or YYYY-MM-DD (midnight), as TIMESTAMP
  decimal    a number with '.' as decimal separator, stored exactly as DECIMAL(18,6)
             (more decimals are rounded half away from zero; |value| >= 10^12 is rejected;
             docs/architecture.md "Numeric types")
  integer    a whole number
  yyyymm     a month YYYYMM (kept as a string)
`required` columns must be non-empty in every row (keys are always required);
`required_when` lists columns a row must carry when another column has a given value.

The four systems of source-extracts.md are `TABLES`. The fifth, `feedback` (the field's
answers to the work orders, docs/work-orders.md section 6), is `FEEDBACK_TABLES`: it is not
an export of a source system but the returned workbooks and the platform's export, loaded
by lib/feedback.py; the generator's source writers, the GX raw suites and the bad-input
corruptions cover `TABLES` only. `ALL_TABLES` is every raw table of the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_project.lib import work_order_layout

SYSTEMS: dict[str, str] = {
    "marketing": "营销业务应用系统",
    "collection": "电费收费与账务",
    "pms": "PMS2.0 / GIS",
    "acquisition": "用电信息采集系统",
    "feedback": "稽查工单反馈 (returned workbooks, 移动作业平台 export)",
}

# Default encodings per system (the contract's declared encodings); overridable by the
# GRIDAUDIT_ENCODING_<SYSTEM> environment variables (see dagster_project/lib/settings.py).
DEFAULT_ENCODINGS: dict[str, str] = {
    "marketing": "gbk",
    "collection": "gbk",
    "pms": "utf-8-sig",
    "acquisition": "utf-8",
    # the platform export is UTF-8 or GBK: lib/feedback.py tells them apart per file
    # unless GRIDAUDIT_ENCODING_FEEDBACK is set
    "feedback": "utf-8",
}

# Every `decimal` column is exact (registers, multipliers, capacities, kWh, 元, prices): a
# double would make sums depend on the order DuckDB's threads add them in. Six decimals
# hold every real export (DL/T 698.45 registers have 4, tariffs up to 6); twelve integer
# digits hold any register (10^DIGITS), amount or capacity.
DECIMAL_TYPE = "DECIMAL(18,6)"

DUCKDB_TYPES: dict[str, str] = {
    "code": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "datetime": "TIMESTAMP",
    "decimal": DECIMAL_TYPE,
    "integer": "BIGINT",
    "yyyymm": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "code"
    required: bool = False
    codes: tuple[str, ...] | None = None
    comment: str = ""


@dataclass(frozen=True)
class Table:
    system: str
    name: str
    kind: str  # "snapshot" | "delta"
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    comment: str = ""
    # Delta tables only: within one file, the later value of this column wins for a key.
    order_by: str | None = None
    extra: dict = field(default_factory=dict)
    # (column, value, columns a row with that value must carry): a cross-field check of
    # the loader, e.g. a confirmed (属实) answer must carry the four rectification fields.
    required_when: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def schema(self) -> str:
        return f"raw_{self.system}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def C(name, type="code", required=False, codes=None, comment=""):
    return Column(name, type, required, tuple(codes) if codes else None, comment)


TABLES: tuple[Table, ...] = (
    # ---------------------------------------------------------------- marketing
    Table(
        "marketing",
        "O_ORG",
        "snapshot",
        ("ORG_NO",),
        (
            C("ORG_NO", required=True, comment="供电单位编号"),
            C("ORG_NAME", "text", comment="单位名称"),
            C("P_ORG_NO", comment="上级单位 (empty for the root)"),
            C(
                "ORG_TYPE",
                required=True,
                codes=("02", "03", "04"),
                comment="02 地市公司, 03 县公司, 04 供电所",
            ),
        ),
        comment="供电单位",
    ),
    Table(
        "marketing",
        "G_TG",
        "snapshot",
        ("TG_ID",),
        (
            C("TG_ID", required=True, comment="台区标识"),
            C("TG_NO", required=True, comment="台区编号"),
            C("TG_NAME", "text", comment="台区名称"),
            C("ORG_NO", required=True, comment="供电所"),
            C("TG_CAP", "decimal", comment="台区容量 kVA"),
            C("PUB_PRIV_FLAG", codes=("01", "02"), comment="01 公变, 02 专变"),
            C("LINE_ID", comment="10 kV 线路 (PMS OBJ_ID)"),
            C(
                "RUN_STATUS_CODE",
                required=True,
                codes=("01", "02", "03"),
                comment="01 运行, 02 停运, 03 拆除",
            ),
        ),
        comment="台区",
    ),
    Table(
        "marketing",
        "C_CONS",
        "snapshot",
        ("CONS_NO",),
        (
            C("CONS_NO", required=True, comment="用户编号"),
            C("CONS_NAME", "text", comment="用户名称"),
            C("ORG_NO", required=True, comment="供电单位"),
            C("TG_ID", comment="台区"),
            C("ELEC_ADDR", "text", comment="用电地址"),
            C("ELEC_TYPE_CODE", codes=("201", "202", "301", "302", "401"), comment="用电类别"),
            C("TRADE_CODE", comment="行业分类"),
            C("VOLT_CODE", codes=("01", "02", "03"), comment="01 220 V, 02 380 V, 03 10 kV"),
            C("CONTRACT_CAP", "decimal", comment="合同容量 kVA"),
            C("PRC_CODE", comment="电价码"),
            C("URBAN_RURAL_FLAG", codes=("1", "2"), comment="1 城镇, 2 农村"),
            C("GEN_FLAG", codes=("0", "1"), comment="1 分布式光伏上网用户"),
            C("STATUS_CODE", required=True, codes=("1", "9"), comment="1 正常, 9 销户"),
            C("BUILD_DATE", "date", comment="立户日期"),
            C("CANCEL_DATE", "date", comment="销户日期"),
        ),
        comment="用电客户",
    ),
    Table(
        "marketing",
        "C_CONTACT",
        "snapshot",
        ("CONS_NO", "CONTACT_MODE"),
        (
            C("CONS_NO", required=True, comment="用户编号"),
            C(
                "CONTACT_MODE",
                required=True,
                codes=("01", "02"),
                comment="01 电气联系人, 02 账务联系人",
            ),
            C("CONTACT_NAME", "text", comment="联系人"),
            C("MOBILE", comment="移动电话"),
            C("SMS_FLAG", codes=("0", "1"), comment="1 已订阅电费短信"),
        ),
        comment="联系信息",
    ),
    Table(
        "marketing",
        "C_MP",
        "snapshot",
        ("MP_ID",),
        (
            C("MP_ID", required=True, comment="计量点标识"),
            C("CONS_NO", required=True, comment="用户编号 (T||TG_NO for the area check meter)"),
            C("TG_ID", comment="台区"),
            C(
                "USAGE_TYPE_CODE",
                required=True,
                codes=("01", "02"),
                comment="01 售电结算, 02 台区考核总表",
            ),
            C("STATUS_CODE", required=True, codes=("1", "9"), comment="1 在用, 9 撤销"),
        ),
        comment="计量点",
    ),
    Table(
        "marketing",
        "C_METER",
        "snapshot",
        ("METER_ID",),
        (
            C("METER_ID", required=True, comment="电能表标识"),
            C("ASSET_NO", required=True, comment="资产编号"),
            C("MP_ID", required=True, comment="计量点"),
            C("T_FACTOR", "decimal", required=True, comment="综合倍率"),
            C("DIGITS", "integer", comment="整数位数 (register rolls over at 10^DIGITS)"),
            C("INST_DATE", "date", comment="安装日期"),
        ),
        comment="电能表",
    ),
    Table(
        "marketing",
        "C_METER_CHG",
        "delta",
        ("CHG_ID",),
        (
            C("CHG_ID", required=True, comment="换表/换倍率标识"),
            C("MP_ID", required=True, comment="计量点"),
            C("CHG_DATE", "date", required=True, comment="换表日期"),
            C("OLD_ASSET_NO", comment="旧表资产号"),
            C("NEW_ASSET_NO", comment="新表资产号"),
            C("OLD_END_READ", "decimal", comment="旧表止码"),
            C("NEW_START_READ", "decimal", comment="新表起码"),
            C("OLD_T_FACTOR", "decimal", comment="旧倍率"),
            C("NEW_T_FACTOR", "decimal", comment="新倍率"),
        ),
        comment="换表/换倍率",
    ),
    Table(
        "marketing",
        "K_PRC",
        "snapshot",
        ("PRC_CODE",),
        (
            C("PRC_CODE", required=True, comment="电价码"),
            C("PRC_NAME", "text", comment="电价名称"),
            C("ELEC_TYPE_CODE", codes=("201", "202", "301", "302", "401"), comment="用电类别"),
            C("UNIT_PRICE", "decimal", comment="电度电价 元/kWh"),
        ),
        comment="电价码",
    ),
    Table(
        "marketing",
        "C_CONTRACT",
        "snapshot",
        ("AGRT_NO",),
        (
            C("AGRT_NO", required=True, comment="合同编号"),
            C("CONS_NO", required=True, comment="用户编号"),
            C("SIGN_DATE", "date", comment="签订日期"),
            C("VALID_DATE", "date", comment="生效日期"),
            C("INVALID_DATE", "date", comment="失效日期"),
        ),
        comment="供用电合同",
    ),
    Table(
        "marketing",
        "APP_BIZ",
        "snapshot",
        ("APP_NO",),
        (
            C("APP_NO", required=True, comment="申请编号"),
            C("CONS_NO", comment="用户编号 (empty until the account exists)"),
            C("ORG_NO", required=True, comment="受理单位"),
            C(
                "BUSI_TYPE",
                required=True,
                codes=("101", "102", "111"),
                comment="101 高压新装, 102 低压新装, 111 增容",
            ),
            C("VOLT_CODE", codes=("01", "02", "03"), comment="电压等级"),
            C("APPLY_DATE", "date", required=True, comment="受理日期"),
            C("SURVEY_DATE", "date", comment="勘查日期"),
            C("PLAN_REPLY_DATE", "date", comment="答复供电方案日期"),
            C("DESIGN_REVIEW_DATE", "date", comment="设计审查日期"),
            C("MID_CHECK_DATE", "date", comment="中间检查日期"),
            C("COMPLETE_CHECK_DATE", "date", comment="竣工检验日期"),
            C("POWER_ON_DATE", "date", comment="装表接电日期"),
            C("STATUS_CODE", required=True, codes=("01", "02"), comment="01 在途, 02 归档"),
        ),
        comment="业扩报装",
    ),
    # --------------------------------------------------------------- collection
    Table(
        "collection",
        "A_RCVBL_FLOW",
        "delta",
        ("RCVBL_ID",),
        (
            C("RCVBL_ID", required=True, comment="应收标识"),
            C("CONS_NO", required=True, comment="用户编号"),
            C("ORG_NO", comment="供电单位"),
            C("RCVBL_YM", "yyyymm", required=True, comment="电费年月"),
            C("T_PQ", "decimal", comment="结算电量 kWh"),
            C(
                "READ_SRC",
                codes=("01", "02", "03"),
                comment="01 采集自动抄表, 02 人工抄表, 03 估抄",
            ),
            C("RCVBL_AMT", "decimal", comment="应收金额"),
            C("RCVED_AMT", "decimal", comment="实收金额"),
            C("RCVBL_PENALTY", "decimal", comment="违约金"),
            C("ISSUE_DATE", "date", comment="出账日期"),
            C("DUE_DATE", "date", comment="缴费截止日"),
            C("SETTLE_FLAG", codes=("01", "02", "03"), comment="01 未结清, 02 部分结清, 03 结清"),
        ),
        comment="应收电费",
    ),
    Table(
        "collection",
        "A_PAY_FLOW",
        "delta",
        ("PAY_ID",),
        (
            C("PAY_ID", required=True, comment="收费标识"),
            C("CONS_NO", required=True, comment="用户编号"),
            C("RCVBL_ID", comment="应收标识"),
            C("PAY_AMT", "decimal", comment="收费金额"),
            C(
                "PAY_MODE",
                codes=("01", "02", "03", "04"),
                comment="01 坐收, 02 走收, 03 银行代扣, 04 网上/手机",
            ),
            C("CHARGE_TIME", "timestamp", comment="收费时间"),
            C("DEPOSIT_DATE", "date", comment="解款入行日期"),
            C("ARRIVE_DATE", "date", comment="到账日期"),
        ),
        comment="实收/缴费",
    ),
    # ---------------------------------------------------------------------- pms
    Table(
        "pms",
        "T_SB_ZWYC_XL",
        "snapshot",
        ("OBJ_ID",),
        (
            C("OBJ_ID", required=True, comment="线路标识"),
            C("SBMC", "text", comment="线路名称"),
            C("YWDW", comment="运维单位 (县公司 ORG_NO)"),
            C("DYDJ", comment="电压等级"),
            C("YXZT", codes=("20", "30"), comment="20 在运, 30 退役"),
        ),
        comment="10 kV 线路",
    ),
    Table(
        "pms",
        "T_SB_ZNYC_PDBYQ",
        "snapshot",
        ("OBJ_ID",),
        (
            C("OBJ_ID", required=True, comment="变压器标识"),
            C("SBBM", comment="设备编码"),
            C("SBMC", "text", comment="设备名称"),
            C("SSXL", comment="所属线路"),
            C("EDRL", "decimal", comment="额定容量 kVA"),
            C("SYXZ", codes=("01", "02"), comment="01 公用, 02 专用"),
            C("YXZT", codes=("20", "30"), comment="20 在运, 30 退役"),
            C("YWDW", comment="运维单位"),
            C("TYRQ", "date", comment="投运日期"),
        ),
        comment="配电变压器",
    ),
    Table(
        "pms",
        "ST_TQ_BYQ",
        "snapshot",
        ("PMS_BYQ_BS",),
        (
            C("PMS_BYQ_BS", required=True, comment="PMS 变压器标识"),
            C("YX_TQ_BS", comment="营销台区标识 TG_ID"),
        ),
        comment="营配台区对应",
    ),
    Table(
        "pms",
        "T_TX_DYYH",
        "snapshot",
        ("YHBH",),
        (
            C("YHBH", required=True, comment="用户编号 CONS_NO"),
            C("SSBYQ", comment="所属变压器 OBJ_ID"),
            C("JRD", comment="接入点"),
        ),
        comment="GIS 低压用户接入",
    ),
    # -------------------------------------------------------------- acquisition
    Table(
        "acquisition",
        "R_TMNL_RUN",
        "snapshot",
        ("TERMINAL_ID",),
        (
            C("TERMINAL_ID", required=True, comment="终端标识"),
            C("TMNL_ASSET_NO", comment="终端资产号"),
            C("TG_ID", comment="台区"),
            C("STATUS_CODE", codes=("01", "02"), comment="01 运行, 02 停运"),
            C("PROTOCOL_CODE", codes=("376.1", "698.45"), comment="通信规约"),
        ),
        comment="终端",
    ),
    Table(
        "acquisition",
        "E_DATA_MP",
        "snapshot",
        ("DATA_ID",),
        (
            C("DATA_ID", required=True, comment="采集测量点标识"),
            C("MP_ID", comment="营销计量点 MP_ID"),
            C("ASSET_NO", comment="电能表资产号 (采集档案)"),
            C("TMNL_ASSET_NO", comment="终端资产号"),
            C("CONS_NO", comment="用户编号"),
            C("TG_ID", comment="台区 (采集档案)"),
            C("T_FACTOR", "decimal", comment="倍率 (采集档案)"),
        ),
        comment="采集测量点档案",
    ),
    Table(
        "acquisition",
        "E_MP_DAY_READ",
        "delta",
        ("DATA_ID", "DATA_DATE"),
        (
            C("DATA_ID", required=True, comment="采集测量点标识"),
            C(
                "DATA_DATE",
                "date",
                required=True,
                comment="冻结日期 (register at 24:00 of this day)",
            ),
            C("COL_TIME", "timestamp", comment="采集时间"),
            C("PAP_R", "decimal", comment="正向有功总示值"),
            C("PAP_R1", "decimal", comment="正向有功尖"),
            C("PAP_R2", "decimal", comment="正向有功峰"),
            C("PAP_R3", "decimal", comment="正向有功平"),
            C("PAP_R4", "decimal", comment="正向有功谷"),
            C("RAP_R", "decimal", comment="反向有功总示值"),
            C("MARK", codes=("0", "1"), comment="0 正常, 1 补抄"),
        ),
        comment="日冻结示值",
        order_by="COL_TIME",
    ),
    Table(
        "acquisition",
        "E_EVENT",
        "delta",
        ("EVENT_ID",),
        (
            C("EVENT_ID", required=True, comment="事件标识"),
            C("DATA_ID", comment="采集测量点 (empty for terminal events)"),
            C("TMNL_ASSET_NO", comment="终端资产号"),
            C("EVENT_CODE", required=True, comment="ERC 事件代码"),
            C("START_TIME", "timestamp", comment="发生时间"),
            C("END_TIME", "timestamp", comment="恢复时间 (empty while open)"),
            C("EVENT_DESC", "text", comment="事件描述"),
        ),
        comment="终端/电能表事件",
    ),
)

# ------------------------------------------------------------------ feedback (5th system)
# docs/work-orders.md section 6. The workbook's columns are text as delivered (trimmed; a
# date cell as YYYY-MM-DD, a datetime cell as YYYY-MM-DD HH:MM:SS): its checks are made by
# lib/feedback.py, which reads the sheet, not by the CSV loader. Only answered lines of a
# returned list are loaded (a line with every answer cell empty is skipped).
_HEADER_OF = dict((c, h) for h, c in work_order_layout.HEADER_COLUMNS)

WORKBOOK_FEEDBACK = Table(
    "feedback",
    "WORKBOOK_FEEDBACK",
    "delta",
    ("WORK_ORDER_NO",),
    (
        *(
            C(
                column,
                "text",
                required=column == "WORK_ORDER_NO",
                comment=_HEADER_OF[column]
                + (
                    " (locked: the order as dispatched)"
                    if column in work_order_layout.LOCKED_COLUMNS
                    else " (the answer)"
                ),
            )
            for column in work_order_layout.COLUMNS
        ),
        C("SHEET_NAME", "text", comment="the sheet the row was read from (稽查工单)"),
    ),
    comment="稽查工单反馈 (returned workbooks: <landing>/feedback/<day>/*.xlsx, sheet 稽查工单)",
)

R_AUDIT_FEEDBACK = Table(
    "feedback",
    "R_AUDIT_FEEDBACK",
    "delta",
    ("WORK_ORDER_NO",),
    (
        C("WORK_ORDER_NO", required=True, comment="工单编号"),
        C("CHECK_RESULT", "text", comment="现场核查情况"),
        C(
            "IS_CONFIRMED",
            required=True,
            codes=tuple(work_order_layout.IS_CONFIRMED.values()),
            comment="是否属实: 1 属实, 0 不属实",
        ),
        C("OTHER_FINDINGS", "text", comment="是否发现疑似问题以外的情况"),
        C("RECTIFY_START_TIME", "datetime", comment="整改流程发起时间"),
        C(
            "RECTIFY_RESULT",
            codes=tuple(work_order_layout.RECTIFY_RESULT.values()),
            comment="整改结果: 01 已整改, 02 整改中, 03 无法整改",
        ),
        C("RECTIFY_APP_NO", comment="营销系统整改工单编号"),
        C("CHECKER", "text", comment="现场核查人"),
        C("FEEDBACK_DATE", "date", comment="反馈日期"),
    ),
    comment="稽查工单反馈 (移动作业平台 export: <landing>/feedback/R_AUDIT_FEEDBACK/<day>.csv)",
    required_when=(
        (
            "IS_CONFIRMED",
            work_order_layout.IS_CONFIRMED["属实"],
            work_order_layout.CONFIRMED_REQUIRES,
        ),
    ),
)

FEEDBACK_TABLES: tuple[Table, ...] = (WORKBOOK_FEEDBACK, R_AUDIT_FEEDBACK)
ALL_TABLES: tuple[Table, ...] = (*TABLES, *FEEDBACK_TABLES)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in ALL_TABLES}


def tables_of(system: str) -> list[Table]:
    return [t for t in ALL_TABLES if t.system == system]


# Keys that must point somewhere: a row whose value is known to no delivered snapshot of
# the referenced table is quarantined ("a customer on an area that does not exist", "a
# reading for an unknown DATA_ID"). The referenced table is extracted first.
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("C_CONS", "TG_ID"): ("G_TG", "TG_ID"),
    ("C_MP", "TG_ID"): ("G_TG", "TG_ID"),
    ("E_MP_DAY_READ", "DATA_ID"): ("E_DATA_MP", "DATA_ID"),
}


def references_of(table: Table) -> list[tuple[str, Table, str]]:
    """(column, referenced table, referenced column) for the table's checked keys."""
    return [
        (col, TABLES_BY_NAME[ref_table], ref_col)
        for (name, col), (ref_table, ref_col) in REFERENCES.items()
        if name == table.name
    ]
