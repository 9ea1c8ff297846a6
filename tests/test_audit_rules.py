"""The audit rules (the whole catalogue, audit-rules.md §2): the dbt unit tests of the audit
models, the rule discovery of findings_daily, and recall / precision per rule code on the
`tiny` and `mini` presets end to end (generator -> extract loader -> dbt), scored by
tests/rule_scoring.py. tiny's 14 days are too short for the rules with a 14-day baseline
(M02, M06, T01); mini's 26 days hold every code.

Every dbt call uses its own DuckDB file, target and log directory under tmp_path, so the
tests never touch dbt/target or the working warehouse.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.settings import DBT_PROJECT_DIR, REPO_ROOT

sys.path.insert(0, str(Path(__file__).parent))
from rule_scoring import score

CODES = [
    "L01",
    "L02",
    "L03",
    "A01",
    "A02",
    "A03",
    "A04",
    "A05",
    "A06",
    "A07",
    "A08",
    "A09",
    "M01",
    "M02",
    "M03",
    "M04",
    "M05",
    "M06",
    "M07",
    "T01",
    "B01",
    "B02",
    "E01",
]
# rules whose window (a 14-day baseline before the day) does not fit in tiny's 14 days
LONG_WINDOW_CODES = {"M02", "M06", "T01"}
AUDIT_SELECTION = ["path:models/audit", "path:models/marts/problems"]
# the dbt unit tests this file runs: the audit models' and those of the models above and
# beside them that no other test file runs (tests/test_dbt_line_loss.py runs line_loss's)
UNIT_TEST_SELECTION = [
    *AUDIT_SELECTION,
    "path:models/marts/kpis",
    "path:models/marts/theft",
    "path:models/intermediate/kpis",
    "path:models/intermediate/billing",
    "path:models/intermediate/archives",
]
DBT = str(Path(sys.executable).parent / "dbt")


def dbt(
    args: list[str], workdir: Path, warehouse: Path, window: tuple[dt.date, dt.date] | None = None
) -> str:
    """Run one dbt command on `warehouse`; returns stdout, fails the test on an error."""
    command = [
        DBT,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
    ]
    if window:
        command += [
            "--vars",
            json.dumps({"start_date": window[0].isoformat(), "end_date": window[1].isoformat()}),
        ]
    env = {
        **os.environ,
        "GRIDAUDIT_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    assert proc.returncode == 0, (
        f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    )
    return proc.stdout


# ------------------------------------------------------------------ dbt unit tests
@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory):
    """Raw tables and every parent of the audit models built empty (dbt unit tests read
    the column types of their inputs from the warehouse)."""
    from dagster_project.lib.warehouse import create_empty_warehouse

    workdir = tmp_path_factory.mktemp("audit_unit")
    warehouse = workdir / "warehouse.duckdb"
    create_empty_warehouse(warehouse)
    dbt(["seed"], workdir, warehouse)
    dbt(["run", "--empty", "--select", *[f"+{s}" for s in UNIT_TEST_SELECTION]], workdir, warehouse)
    return workdir, warehouse


def test_dbt_unit_tests_of_the_audit_models_pass(empty_warehouse):
    workdir, warehouse = empty_warehouse
    out = dbt(
        ["test", "--select", *[f"test_type:unit,{s}" for s in UNIT_TEST_SELECTION]],
        workdir,
        warehouse,
    )
    assert "PASS=" in out and " ERROR=0" in out, out[-3000:]
    # at least one unit test per rule model
    for model in _rule_models(workdir):
        assert f"{model}::" in out, f"no unit test ran for {model}"


def test_work_order_macros_agree_with_the_python_layout(empty_warehouse):
    """SQL cannot import dagster_project/lib/work_order_layout.py, so the loop's macros
    (dbt/macros/work_orders/work_orders.sql) spell its number, code tables and locked
    columns again: evaluated by dbt, they must say what the Python module says."""
    from dagster_project.lib import work_order_layout as layout

    workdir, warehouse = empty_warehouse
    key = "A07|0600002109"
    texts = [*layout.IS_CONFIRMED, *layout.IS_CONFIRMED.values()]
    results = [*layout.RECTIFY_RESULT, *layout.RECTIFY_RESULT.values()]
    inline = " union all ".join(
        [
            "select 'number' as kind, '' as arg, "
            f"{{{{ work_order_no(\"date '2026-09-01'\", \"'A07'\", \"'{key}'\") }}}} as value",
            *(
                f"select 'confirmed', '{t}', cast({{{{ work_order_is_confirmed(\"'{t}'\") }}}}"
                " as varchar)"
                for t in texts
            ),
            *(
                f"select 'rectify_code', '{t}', {{{{ work_order_rectify_code(\"'{t}'\") }}}}"
                for t in results
            ),
            *(
                f"select 'rectify_name', '{c}', {{{{ work_order_rectify_name(\"'{c}'\") }}}}"
                for c in layout.RECTIFY_RESULT.values()
            ),
            *(
                f"select 'open', '{t}', cast('{t}' in {{{{ work_order_open_statuses() }}}}"
                " as varchar)"
                for t in layout.STATUSES
            ),
            "select 'locked', '', '{{ tojson(work_order_locked_columns()) }}'",
        ]
    )
    out = dbt(
        ["--quiet", "show", "--output", "json", "--limit", "-1", "--inline", inline],
        workdir,
        warehouse,
    )
    rows = json.loads(out[out.index("{") :])["show"]
    got = {(r["kind"], r["arg"]): r["value"] for r in rows}
    assert got[("number", "")] == layout.work_order_no(dt.date(2026, 9, 1), "A07", key)
    for text, code in layout.IS_CONFIRMED.items():
        expected = "true" if text == "属实" else "false"
        assert got[("confirmed", text)] == got[("confirmed", code)] == expected
    for text, code in layout.RECTIFY_RESULT.items():
        assert got[("rectify_code", text)] == got[("rectify_code", code)] == code
        assert got[("rectify_name", code)] == text
    open_statuses = tuple(t for t in layout.STATUSES if got[("open", t)] == "true")
    assert open_statuses == ("已派发", "已反馈", "整改中", "待验证")  # docs/work-orders.md §3
    locked = [tuple(c) for c in json.loads(got[("locked", "")])]
    headers = dict((c, h) for h, c in layout.HEADER_COLUMNS)
    assert locked == [
        (column.lower(), headers[column], chr(ord("A") + i))
        for i, column in enumerate(layout.LOCKED_COLUMNS)
    ]


def _manifest(workdir: Path) -> dict:
    return json.loads((workdir / "target" / "manifest.json").read_text())


def _rule_models(workdir: Path) -> list[str]:
    nodes = _manifest(workdir)["nodes"].values()
    return sorted(
        n["name"] for n in nodes if n["resource_type"] == "model" and "audit_rule" in n["tags"]
    )


def test_every_rule_model_feeds_findings_daily_and_has_a_problem_code(empty_warehouse):
    workdir, _ = empty_warehouse
    manifest = _manifest(workdir)
    rules = _rule_models(workdir)
    assert len(rules) >= len(CODES)
    parents = manifest["nodes"]["model.gridaudit.findings_daily"]["depends_on"]["nodes"]
    missing = [r for r in rules if f"model.gridaudit.{r}" not in parents]
    assert not missing, (
        f"add `-- depends_on: {{{{ ref('...') }}}}` lines to "
        f"models/audit/findings_daily.sql for {missing}"
    )
    with open(DBT_PROJECT_DIR / "seeds" / "dim_problem_code.csv", encoding="utf-8") as f:
        known = {row["problem_code"] for row in csv.DictReader(f)}
    for rule in rules:
        code = rule.split("_")[1].upper()  # rule_<code lower>_<short name>
        assert code in known, f"{rule}: {code} has no row in seeds/dim_problem_code.csv"


# ------------------------------------------------------------------ end to end on tiny
def _pieces_exist() -> bool:
    return (
        importlib.util.find_spec("dagster_project.generator") is not None
        and (REPO_ROOT / "dagster_project" / "lib" / "extract.py").exists()
    )


def load_landing(landing: Path, warehouse: Path) -> tuple[dt.date, dt.date]:
    """Every landing file into raw_<system>.<TABLE> with the project's loader."""
    from dagster_project.lib.extract import load_file
    from dagster_project.lib.landing_contract import TABLES
    from dagster_project.lib.settings import encoding_for
    from dagster_project.lib.warehouse import ensure_schema

    days = sorted({dt.date.fromisoformat(p.name.split(".")[0]) for p in landing.glob("*/*/*.csv*")})
    with duckdb.connect(str(warehouse)) as con:
        ensure_schema(con)
        for table in TABLES:
            for day in days:
                load_file(con, landing, table, day, encoding_for(table.system))
    return days[0], days[-1]


def build_audit(landing: Path, workdir: Path) -> dict:
    """Load every landing file and build the audit models and their parents with dbt."""
    warehouse = workdir / "warehouse.duckdb"
    window = load_landing(landing, warehouse)
    dbt(["seed"], workdir, warehouse)
    dbt(
        ["build", "--select", *[f"+{s}" for s in AUDIT_SELECTION], "--exclude", "test_type:unit"],
        workdir,
        warehouse,
        window,
    )
    return {"workdir": workdir, "warehouse": warehouse, "window": window}


@pytest.fixture(scope="module")
def tiny_audit(request, tmp_path_factory):
    if not _pieces_exist():
        pytest.skip("the generator or the extract loader does not exist yet")
    tiny_dir = request.getfixturevalue("tiny_dir")  # conftest: generate('tiny', out, seed=7)
    built = build_audit(tiny_dir / "landing", tmp_path_factory.mktemp("audit_tiny"))
    return {**built, "truth": tiny_dir / "truth"}


@pytest.fixture(scope="module")
def mini_audit(tmp_path_factory):
    if not _pieces_exist():
        pytest.skip("the generator or the extract loader does not exist yet")
    from dagster_project.generator import generate

    mini_dir = tmp_path_factory.mktemp("mini")
    generate("mini", mini_dir, seed=3)
    built = build_audit(mini_dir / "landing", tmp_path_factory.mktemp("audit_mini"))
    return {**built, "truth": mini_dir / "truth"}


@pytest.mark.parametrize("preset", ["tiny", "mini"])
def test_recall_and_precision_of_every_rule(preset, request):
    run = request.getfixturevalue(f"{preset}_audit")
    codes = [c for c in CODES if preset != "tiny" or c not in LONG_WINDOW_CODES]
    table = score(run["warehouse"], run["truth"], codes)
    print(f"\n{preset}\n" + table.to_string(index=False))
    assert set(table["rule_code"]) == set(codes), table
    assert (table["label_days"] > 0).all(), table
    assert (table["recall"] == 1.0).all(), table
    assert (table["precision"] >= 0.95).all(), table


@pytest.fixture(scope="module")
def first_of_month_audit(tmp_path_factory):
    """mini over a window that starts on the 1st and holds a month's issue day (2026-08-01 ..
    09-02): the only setting in which B02 compares kWh (tiny and mini bill August, which
    their September windows cannot measure)."""
    if not _pieces_exist():
        pytest.skip("the generator or the extract loader does not exist yet")
    from dagster_project.generator import generate

    out = tmp_path_factory.mktemp("first_of_month")
    generate("mini", out, seed=3, start=dt.date(2026, 8, 1), days=33)
    built = build_audit(out / "landing", tmp_path_factory.mktemp("audit_first_of_month"))
    return {**built, "truth": out / "truth"}


def test_b02_compares_the_first_month_and_a_month_with_a_missing_day(first_of_month_audit):
    """August is measured from the reading of 08-01 (one day inside the month, 30 of 31 days
    covered); a misread bill fires, also for the meter that missed the reading of 08-15."""
    run = first_of_month_audit
    table = score(run["warehouse"], run["truth"], ["B02"])
    print("\n" + table.to_string(index=False))
    assert table.loc[0, "recall"] == 1.0 and table.loc[0, "precision"] >= 0.95, table
    labels = pd.read_csv(run["truth"] / "anomalies.csv", dtype=str, keep_default_na=False)
    gap = labels[
        (labels["rule_code"] == "B02")
        & labels["description"].str.contains("receivable 202608 misread")
        & labels["description"].str.contains("reading of 2026-08-15 missing")
    ]
    assert len(gap), labels[labels["rule_code"] == "B02"]
    with duckdb.connect(str(run["warehouse"]), read_only=True) as con:
        evidence = con.execute(
            "select evidence from audit.findings_daily where problem_code = 'B02' "
            "and detected_date = date '2026-09-01' and cons_no = ?",
            [gap["cons_no"].iloc[0]],
        ).fetchone()[0]
    assert "抄表差错嫌疑" in evidence and "RCVBL_YM=202608" in evidence, evidence
    assert "(2026-08-01)" in evidence and "(2026-08-31)" in evidence, evidence
    assert "覆盖当月 30/31 天" in evidence and "逐日电量核对" in evidence, evidence


def test_rerunning_a_day_changes_no_finding(tiny_audit):
    def snapshot():
        with duckdb.connect(str(tiny_audit["warehouse"]), read_only=True) as con:
            return con.execute(
                "select * from audit.findings_daily order by detected_date, finding_key"
            ).df()

    before = snapshot()
    day = tiny_audit["window"][1] - dt.timedelta(days=3)
    dbt(
        ["run", "--select", "path:models/audit"],
        tiny_audit["workdir"],
        tiny_audit["warehouse"],
        (day, day),
    )
    after = snapshot()
    assert len(before[before["detected_date"].astype(str) == day.isoformat()]) > 0
    assert before.equals(after)


def test_area_problem_list_has_one_row_per_open_finding(tiny_audit):
    with duckdb.connect(str(tiny_audit["warehouse"]), read_only=True) as con:
        newest = con.execute("select max(detected_date) from marts.problem_history").fetchone()[0]
        open_count = con.execute(
            "select count(*) from marts.problem_history where detected_date = ?", [newest]
        ).fetchone()[0]
        listed = con.execute(
            "select count(*), min(as_of_date), max(as_of_date), "
            "min(consecutive_days), count(problem_name), count(org_no_city) "
            "from marts.area_problem_list"
        ).fetchone()
    assert listed[0] == open_count > 0
    assert listed[1] == listed[2] == newest
    assert listed[3] >= 1 and listed[4] == listed[0] and listed[5] == listed[0]
