"""What the README's first command prints: progress, not library chatter (issue 12 item 6).
dbt's line per node and what libraries print go to the run's output log; the terminal
shows dbt's summary and its errors; the generator's progress does not turn on every
library's INFO logging for the run that follows."""

from __future__ import annotations

import io
import logging
import sys

from dagster_project import cli


def test_the_terminal_shows_dbts_summary_and_errors_and_the_log_keeps_everything(
    tmp_path, monkeypatch
):
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    log = tmp_path / "logs" / "run.log"
    lines = [
        "Running with dbt=1.11.16",
        "1 of 270 START sql incremental model intermediate.int_day_reads_final ... [RUN]",
        "1 of 270 OK created sql incremental model intermediate.int_day_reads_final [OK in 1s]",
        "Loading 'datasources' ->",
        "[]",
        "7 of 270 ERROR creating sql table model marts.area_daily_loss ... [ERROR in 0.2s]",
        "Done. PASS=268 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=270",
    ]
    with cli._terminal_shows_progress(log):
        for line in lines:
            print(line)
        sys.stdout.write("Compilation Error in model x (no newline at the end)")
    shown = terminal.getvalue().splitlines()
    assert shown == [
        f"  dbt's and the libraries' output: {log}",
        lines[5],
        lines[6],
        "Compilation Error in model x (no newline at the end)",
    ]
    assert log.read_text(encoding="utf-8").splitlines()[: len(lines)] == lines


def test_debug_shows_everything(tmp_path, monkeypatch):
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    with cli._terminal_shows_progress(tmp_path / "run.log", everything=True):
        print("1 of 270 START sql model x")
    assert terminal.getvalue() == "1 of 270 START sql model x\n"
    assert not (tmp_path / "run.log").exists()


def test_generating_configures_only_the_generators_progress(tmp_path, monkeypatch):
    root = logging.getLogger()
    # as on a terminal: no handler on the root logger (pytest's own would make basicConfig
    # a no-op and this test unable to fail)
    monkeypatch.setattr(root, "handlers", [])
    before = (list(root.handlers), root.level)
    import dagster_project.generator as generator

    monkeypatch.setattr(generator, "generate", lambda *a, **k: {"days": 1})
    assert cli.main(["generate", "--preset", "tiny", "--out", str(tmp_path / "t")]) == 0
    assert (list(root.handlers), root.level) == before
    progress = logging.getLogger("gridaudit.generator")
    assert progress.level == logging.INFO and not progress.propagate


def test_the_first_partition_is_the_landings_first_day_and_stays(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDAUDIT_FIRST_DAY", raising=False)
    landing, workdir = tmp_path / "landing", tmp_path / "work"
    workdir.mkdir()
    for rel in ("marketing/C_CONS/2026-09-03.csv", "acquisition/E_MP_DAY_READ/2026-09-02.csv"):
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        (landing / rel).write_text("x\n")
    cli._derive_first_partition(landing, workdir)
    assert cli.os.environ["GRIDAUDIT_FIRST_DAY"] == "2026-09-02"
    # the old files cleaned up: the partitions stay; an earlier day arriving moves them back
    (landing / "acquisition/E_MP_DAY_READ/2026-09-02.csv").unlink()
    monkeypatch.delenv("GRIDAUDIT_FIRST_DAY")
    cli._derive_first_partition(landing, workdir)
    assert cli.os.environ["GRIDAUDIT_FIRST_DAY"] == "2026-09-02"
    (landing / "feedback/2026-08-30").mkdir(parents=True)
    monkeypatch.delenv("GRIDAUDIT_FIRST_DAY")
    cli._derive_first_partition(landing, workdir)
    assert cli.os.environ["GRIDAUDIT_FIRST_DAY"] == "2026-08-30"
    # a day set by the user wins
    monkeypatch.setenv("GRIDAUDIT_FIRST_DAY", "2026-01-01")
    cli._derive_first_partition(landing, workdir)
    assert cli.os.environ["GRIDAUDIT_FIRST_DAY"] == "2026-01-01"
