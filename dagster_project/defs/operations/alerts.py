"""Failed runs alert people: a run-failure sensor that runs the user's alert command
(GRIDAUDIT_ALERT_COMMAND) and/or posts to a webhook (GRIDAUDIT_ALERT_WEBHOOK, the 企业微信
group robot's JSON) with the run id, the job, the export days, the failed step and the
first line of its error.

The command runs through /bin/sh (so `mail -s ... ops@example.com` or a pipe works), with
the message on stdin and in the variables GRIDAUDIT_ALERT_MESSAGE, _RUN_ID, _JOB,
_PARTITION, _STEP and _ERROR. A command exiting non-zero or a webhook that does not answer
2xx fails the sensor's tick (shown in the UI): the sensor then tries that run again on its
next tick, so the alert is not lost while the channel is down.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import dagster as dg

from dagster_project.lib.settings import alert_command, alert_webhook

COMMAND_TIMEOUT_SECONDS = 60
WEBHOOK_TIMEOUT_SECONDS = 10


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def failure_facts(context: dg.RunFailureSensorContext) -> dict[str, str]:
    run = context.dagster_run
    steps = context.get_step_failure_events()
    failed_steps = [e.step_key for e in steps if e.step_key]
    if steps:
        data = steps[0].step_failure_data
        user = data.user_failure_data
        # a dg.Failure's description (our steps name the file there), else the exception's
        error_line = _first_line(user.description if user and user.description else None)
        error_line = error_line or _first_line(data.error.message if data.error else None)
    else:  # the run failed outside a step (a resource, the launcher)
        error_line = _first_line(context.failure_event.message)
    tags = run.tags
    partition = tags.get("dagster/partition") or (
        f"{tags['dagster/asset_partition_range_start']}..{tags['dagster/asset_partition_range_end']}"
        if "dagster/asset_partition_range_start" in tags
        else ""
    )
    return {
        "RUN_ID": run.run_id,
        "JOB": run.job_name,
        "PARTITION": partition,
        "STEP": ", ".join(dict.fromkeys(failed_steps)),
        "ERROR": error_line,
    }


def alert_message(facts: dict[str, str]) -> str:
    lines = [
        "gridaudit 运行失败 (run failed)",
        f"作业 job: {facts['JOB']}",
        f"导出日 export day: {facts['PARTITION'] or '-'}",
        f"运行 run: {facts['RUN_ID']}",
        f"失败步骤 failed step: {facts['STEP'] or '-'}",
        f"错误 error: {facts['ERROR'] or '-'}",
    ]
    return "\n".join(lines)


def send_alert(facts: dict[str, str], log) -> list[str]:
    """Run the command and post to the webhook that are set; returns what was done."""
    message = alert_message(facts)
    done = []
    command = alert_command()
    if command:
        env = {**os.environ, "GRIDAUDIT_ALERT_MESSAGE": message}
        env.update({f"GRIDAUDIT_ALERT_{name}": value for name, value in facts.items()})
        result = subprocess.run(
            ["/bin/sh", "-c", command],
            input=message,
            text=True,
            env=env,
            capture_output=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"GRIDAUDIT_ALERT_COMMAND exited {result.returncode}: "
                f"{_first_line(result.stderr) or _first_line(result.stdout)}"
            )
        done.append("command")
    webhook = alert_webhook()
    if webhook:
        body = json.dumps({"msgtype": "text", "text": {"content": message}}, ensure_ascii=False)
        request = urllib.request.Request(
            webhook,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            answer = response.read().decode("utf-8", "replace")
        # 企业微信 answers 200 with {"errcode": 0}; another code is a refusal (bad key, ...)
        try:
            errcode = json.loads(answer).get("errcode", 0)
        except (ValueError, AttributeError):
            errcode = 0
        if errcode:
            raise RuntimeError(f"GRIDAUDIT_ALERT_WEBHOOK refused the alert: {answer[:200]}")
        done.append("webhook")
    if done:
        log.info(f"alert for run {facts['RUN_ID']} sent ({' and '.join(done)})")
    else:
        log.info(
            f"run {facts['RUN_ID']} failed; no alert channel is set "
            "(GRIDAUDIT_ALERT_COMMAND / GRIDAUDIT_ALERT_WEBHOOK)"
        )
    return done


@dg.run_failure_sensor(
    name="run_failure_alert",
    minimum_interval_seconds=30,
    # Running by default: it does nothing until a command or webhook is set, and a failed
    # run that nobody hears of is the case it exists for.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="运行失败告警 (a failed run calls GRIDAUDIT_ALERT_COMMAND and/or posts to "
    "GRIDAUDIT_ALERT_WEBHOOK: run, job, export day, failed step, first error line)",
)
def run_failure_alert(context: dg.RunFailureSensorContext):
    send_alert(failure_facts(context), context.log)
