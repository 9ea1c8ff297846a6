"""A run that `gridaudit run` started is a run of the code location's `daily_pipeline` job,
as the Dagster UI sees it: listed on the job's Runs tab, re-executable from its page.

The UI is driven through its GraphQL API on a workspace loaded from workspace.yaml, the
way the webserver loads it (a code server process): the queries the job's Runs tab and
the run page's "Re-execute all" button send."""

from __future__ import annotations

from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, REPOSITORY_LABEL_TAG
from dagster._core.workspace.load import load_workspace_process_context_from_yaml_paths
from dagster_graphql.client.query import LAUNCH_PIPELINE_REEXECUTION_MUTATION
from dagster_graphql.test.utils import execute_dagster_graphql

from dagster_project.lib.settings import REPO_ROOT

JOB_RUNS_QUERY = """
query JobRuns($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status pipelineName } }
  }
}
"""


def _the_cli_run(instance):
    (run,) = instance.get_runs(RunsFilter(job_name="daily_pipeline"))
    return run


def test_the_cli_run_has_the_ui_code_location_as_origin(tiny_run):
    run = _the_cli_run(tiny_run["instance"])
    assert run.status == DagsterRunStatus.SUCCESS
    origin = run.remote_job_origin
    assert origin is not None, "an execute_in_process run: the UI cannot re-execute it"
    assert origin.job_name == "daily_pipeline"
    # the name workspace.yaml gives the location (the UI looks the location up by it)
    assert origin.repository_origin.code_location_origin.location_name == (
        "dagster_project.definitions"
    )
    # stored with the repository label the UI filters a job's runs by
    label = "__repository__@dagster_project.definitions"
    assert origin.repository_origin.get_label() == label
    tagged = tiny_run["instance"].get_runs(RunsFilter(tags={REPOSITORY_LABEL_TAG: label}))
    assert [r.run_id for r in tagged] == [run.run_id]


def test_the_ui_lists_the_cli_run_under_its_job_and_re_executes_it(tiny_run):
    instance = tiny_run["instance"]
    parent = _the_cli_run(instance)
    label = parent.remote_job_origin.repository_origin.get_label()
    with load_workspace_process_context_from_yaml_paths(
        instance, [str(REPO_ROOT / "workspace.yaml")]
    ) as workspace:
        context = workspace.create_request_context()
        listed = execute_dagster_graphql(
            context,
            JOB_RUNS_QUERY,
            {
                "filter": {
                    "pipelineName": "daily_pipeline",
                    "tags": [{"key": REPOSITORY_LABEL_TAG, "value": label}],
                }
            },
        )
        assert not listed.errors, listed.errors
        runs = listed.data["runsOrError"]["results"]
        assert [r["runId"] for r in runs] == [parent.run_id]

        reexecuted = execute_dagster_graphql(
            context,
            LAUNCH_PIPELINE_REEXECUTION_MUTATION,
            {"reexecutionParams": {"parentRunId": parent.run_id, "strategy": "ALL_STEPS"}},
        )
        assert not reexecuted.errors, reexecuted.errors
        launched = reexecuted.data["launchPipelineReexecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
    child = instance.get_run_by_id(launched["run"]["runId"])
    try:
        assert child.tags[PARENT_RUN_ID_TAG] == parent.run_id
        assert child.job_name == "daily_pipeline"
        # the same export days as the parent: a re-execution re-runs the same partitions
        for key in ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end"):
            assert child.tags[key] == parent.tags[key]
        # queued for the daemon (the instance's run queue), as a click in the UI does
        assert child.status == DagsterRunStatus.QUEUED
    finally:
        instance.delete_run(child.run_id)  # no daemon here; later tests count the runs
