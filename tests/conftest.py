"""Shared fixtures: the `tiny` preset generated once, and the whole pipeline run once on it."""

import shutil
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.cli import prepare_dbt, run_pipeline
from dagster_project.lib.workdir_lock import ensure_instance_config


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    """`gridaudit generate --preset tiny` into a temporary directory (landing/, truth/)."""
    from dagster_project.generator import generate

    out = tmp_path_factory.mktemp("tiny")
    generate("tiny", out, seed=7)
    return out


def landing_window(landing: Path):
    import datetime as dt

    days = sorted({p.name.split(".")[0] for p in landing.glob("*/*/*.csv*")})
    return dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])


@pytest.fixture(scope="session")
def tiny_run(tiny_dir, tmp_path_factory):
    """The whole graph materialized over the tiny window into a temporary work directory."""
    prepare_dbt()
    workdir = tmp_path_factory.mktemp("work")
    start, end = landing_window(tiny_dir / "landing")
    # A DAGSTER_HOME as the commands make one (the run queue's dagster.yaml), kept so that a
    # test reads the run as the Dagster UI shows it, or opens the UI on it.
    dagster_home = tmp_path_factory.mktemp("dagster_home")
    ensure_instance_config(dagster_home)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    ok = run_pipeline(start, end, tiny_dir / "landing", workdir, instance=instance)
    assert ok, "the pipeline failed on the tiny preset"
    return {
        "landing": tiny_dir / "landing",
        "truth": tiny_dir / "truth",
        "workdir": workdir,
        "start": start,
        "end": end,
        "instance": instance,
        "dagster_home": dagster_home,
    }


@pytest.fixture
def landing_copy(tiny_dir, tmp_path) -> Path:
    """A private copy of the tiny landing tree that a test may corrupt."""
    target = tmp_path / "landing"
    shutil.copytree(tiny_dir / "landing", target)
    return target
