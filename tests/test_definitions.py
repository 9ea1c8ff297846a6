"""The Dagster graph: what it contains, and a snapshot so a change to it shows in review.

Regenerate the snapshot after an intended change:
    UPDATE_SNAPSHOTS=1 python3 -m uv run --frozen pytest tests/test_definitions.py
"""

import os
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.cli import prepare_dbt
from dagster_project.lib.landing_contract import TABLES

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


@pytest.fixture(scope="module")
def repo():
    prepare_dbt()
    from dagster_project.definitions import defs

    return defs.get_repository_def()


def graph_lines(repo) -> list[str]:
    graph = repo.asset_graph
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        lines.append(f"{key.to_user_string()} [{node.group_name}] <- {parents}")
    for check in sorted(graph.asset_check_keys, key=lambda c: c.to_user_string()):
        lines.append(f"check {check.to_user_string()}")
    return lines


def test_every_source_table_is_an_asset_of_its_system_group(repo):
    graph = repo.asset_graph
    for table in TABLES:
        node = graph.get(dg.AssetKey([table.schema, table.name]))
        assert node.group_name == table.system
        assert node.partitions_def is not None


def test_dbt_sources_connect_to_the_extract_assets(repo):
    graph = repo.asset_graph
    reads = graph.get(dg.AssetKey(["staging", "stg_acquisition__day_reads"]))
    assert dg.AssetKey(["raw_acquisition", "E_MP_DAY_READ"]) in reads.parent_keys


def test_publish_is_downstream_of_every_mart_and_the_gate_blocks(repo):
    graph = repo.asset_graph
    publish = graph.get(dg.AssetKey(["published", "gridaudit_duckdb"]))
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert marts and marts <= set(publish.parent_keys)
    gate_checks = [c for c in graph.asset_check_keys if c.name == "gx_gate"]
    assert gate_checks
    for check in gate_checks:
        assert graph.get_check_spec(check).blocking


def test_every_raw_table_has_its_own_blocking_check_before_dbt(repo):
    """A raw table's failed expectation shows on that raw table's page, and dbt (hence the
    publish) waits for every raw table's check."""
    from dagster._core.execution.api import create_execution_plan

    graph = repo.asset_graph
    for table in TABLES:
        key = dg.AssetKey([table.schema, table.name])
        checks = [c for c in graph.asset_check_keys if c.asset_key == key]
        assert [c.name for c in checks] == ["gx_gate"], key
        assert graph.get_check_spec(checks[0]).blocking
    plan = create_execution_plan(repo.get_job("daily_pipeline"))
    dbt_step = plan.get_step_by_key("gridaudit_dbt_models")
    waits_for = {key.split(".")[0] for key in dbt_step.get_execution_dependency_keys()}
    assert {f"gx_raw_gate__{t.schema}__{t.name}" for t in TABLES} <= waits_for
    assert "gx_quality_gate" in {
        key.split(".")[0]
        for key in plan.get_step_by_key(
            "published__gridaudit_duckdb"
        ).get_execution_dependency_keys()
    }


def test_daily_job_runs_in_process_and_is_scheduled(repo):
    job = repo.get_job("daily_pipeline")
    assert job.executor_def.name == "in_process"
    assert repo.get_schedule_def("daily_pipeline_schedule").job_name == "daily_pipeline"


def test_asset_graph_snapshot(repo):
    lines = graph_lines(repo)
    if os.environ.get("UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lines == SNAPSHOT.read_text(encoding="utf-8").splitlines(), (
        "the asset graph changed: review it and run with UPDATE_SNAPSHOTS=1"
    )
