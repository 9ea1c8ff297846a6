"""One run at a time per work directory. Dagster-free.

Two runs on one work directory corrupt each other: the second one's extract rewrites the
days' raw rows under the first, and dbt then fails on DuckDB's own file lock
("Could not set lock on file .../warehouse.duckdb"). So every command that writes into a
work directory (`gridaudit run`, `demo`, `rollback`) and every Dagster run (through the
GridauditPaths resource, defs/resources.py) first takes an exclusive `fcntl.flock` on
`<workdir>/.gridaudit.lock`:

* The kernel releases a flock when its process dies (also on SIGKILL or an out-of-memory
  kill), so a lock is never stale and there is nothing to clean up.
* The holder writes who it is into the lock file (PID, host, start time, command, days,
  Dagster run id), so that a refused run can say whom it waits for. The content is only
  read while the lock is held by someone; it is emptied on release.
* Re-entrant within one process: `gridaudit run` holds the lock and then executes the
  Dagster job in-process, whose GridauditPaths resource takes the same lock again. A flock
  taken twice by one process through two file descriptors would block itself, so the
  process keeps one descriptor per work directory and counts.

The Dagster side also queues: `instance_config_yaml` is the dagster.yaml the CLI writes
into a DAGSTER_HOME that has none, with a run-queue limit of one run per value of the tag
RUN_QUEUE_TAG, which every run of the daily_pipeline job carries (defs/schedules.py). A
schedule or sensor firing during a backfill then waits QUEUED instead of failing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOCK_NAME = ".gridaudit.lock"
# The tag whose value (the work directory) the run queue limits to one run at a time.
RUN_QUEUE_TAG = "gridaudit/workdir"
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Holder:
    """Who holds a work directory."""

    pid: int
    host: str
    started_at: str  # ISO 8601, UTC, seconds
    command: str
    days: str | None = None  # "2026-09-01 .. 2026-09-14"
    run_id: str | None = None  # the Dagster run, when one runs

    def describe(self) -> str:
        """PID 20854 on host, started 2026-12-01 21:40:02 UTC: gridaudit run ...
        (days 2026-09-01 .. 2026-09-14, Dagster run 50c4a4d6-...)."""
        extra = [f"days {self.days}"] if self.days else []
        extra += [f"Dagster run {self.run_id}"] if self.run_id else []
        started = self.started_at.replace("T", " ").removesuffix("+00:00") + " UTC"
        return f"PID {self.pid} on {self.host}, started {started}: {self.command}" + (
            f" ({', '.join(extra)})" if extra else ""
        )

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})
        except (ValueError, TypeError):
            return None


class WorkdirBusy(RuntimeError):
    """The work directory is held by another process."""

    def __init__(self, workdir: Path, holder: Holder | None):
        self.workdir, self.holder = workdir, holder
        who = holder.describe() if holder else "a process that has not written its details yet"
        super().__init__(f"the work directory {workdir} is busy: {who}")


def days_text(start: dt.date | str | None, end: dt.date | str | None) -> str | None:
    if not start:
        return None
    return f"{start} .. {end or start}"


@dataclass
class _Held:
    fd: int
    stack: list[Holder]


_held: dict[Path, _Held] = {}  # work directories this process holds
_guard = threading.Lock()


def lock_path(workdir: str | Path) -> Path:
    return Path(workdir).resolve() / LOCK_NAME


def _write(fd: int, holder: Holder | None) -> None:
    os.ftruncate(fd, 0)
    if holder is not None:
        os.pwrite(fd, json.dumps(dataclasses.asdict(holder), ensure_ascii=False).encode(), 0)


def read_holder(workdir: str | Path, attempts: int = 5) -> Holder | None:
    """Who holds the work directory, as its lock file says (None: nobody wrote yet; the
    holder writes right after taking the lock, so a few short retries)."""
    for attempt in range(attempts):
        try:
            holder = Holder.parse(lock_path(workdir).read_text(encoding="utf-8"))
        except FileNotFoundError:
            holder = None
        if holder is not None:
            return holder
        if attempt + 1 < attempts:
            time.sleep(0.1)
    return None


def held_by_this_process(workdir: str | Path) -> Holder | None:
    with _guard:
        held = _held.get(Path(workdir).resolve())
        return held.stack[-1] if held else None


@contextmanager
def hold(
    workdir: str | Path,
    command: str,
    *,
    days: str | None = None,
    run_id: str | None = None,
    wait: bool = False,
    on_wait: Callable[[Holder | None], None] | None = None,
    timeout: float | None = None,
) -> Iterator[Holder]:
    """Hold the work directory for the block (creating the directory if needed).

    Busy: raises WorkdirBusy naming the holder, unless `wait`, then calls `on_wait` with
    the holder once and polls until it is free (or raises WorkdirBusy after `timeout`
    seconds). Already held by this process: re-entered at once; the holder info then
    names the inner run (its days and run id) until the inner block ends.
    """
    workdir = Path(workdir).resolve()
    with _guard:
        held = _held.get(workdir)
        if held is not None:  # re-entered by this process (its own in-process Dagster run)
            outer = held.stack[-1]
            inner = dataclasses.replace(
                outer, days=days or outer.days, run_id=run_id or outer.run_id
            )
            held.stack.append(inner)
            _write(held.fd, inner)
    if held is not None:
        try:
            yield inner
        finally:
            with _guard:
                held.stack.pop()
                _write(held.fd, held.stack[-1])
        return

    workdir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(workdir), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, workdir, wait, on_wait, timeout)
        holder = Holder(
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            command=command,
            days=days,
            run_id=run_id,
        )
        _write(fd, holder)
        with _guard:
            _held[workdir] = _Held(fd=fd, stack=[holder])
        try:
            yield holder
        finally:
            with _guard:
                del _held[workdir]
            _write(fd, None)  # before the unlock: a reader never sees a finished holder
    finally:
        os.close(fd)  # releases the flock


def _acquire(
    fd: int,
    workdir: Path,
    wait: bool,
    on_wait: Callable[[Holder | None], None] | None,
    timeout: float | None,
) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        if not wait or (deadline is not None and time.monotonic() >= deadline):
            raise WorkdirBusy(workdir, read_holder(workdir))
        if not told:
            told = True
            if on_wait is not None:
                on_wait(read_holder(workdir))
        time.sleep(POLL_SECONDS)


# --------------------------------------------------------------------------- Dagster queue

INSTANCE_CONFIG_NAME = "dagster.yaml"


def instance_config_yaml() -> str:
    """The dagster.yaml gridaudit writes into a DAGSTER_HOME without one."""
    return f"""\
# Written by gridaudit (dagster_project/lib/workdir_lock.py) because DAGSTER_HOME had no
# dagster.yaml. One run at a time per work directory: every run of the daily_pipeline job
# (the schedule, backfills, the launchpad) carries the tag {RUN_QUEUE_TAG}=<work directory>,
# and the run queue (QueuedRunCoordinator, the dagster-daemon that `dagster dev` starts)
# launches one run per value at a time; the others wait QUEUED. Other runs (asset
# materializations from the graph) are not queued by it but wait for the work
# directory's lock before their first step.
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "{RUN_QUEUE_TAG}"
        value:
          applyLimitPerUniqueValue: true
        limit: 1
# A utility's audit data stays on its intranet: no usage statistics are sent (Dagster's
# telemetry; set enabled: true to help its developers).
telemetry:
  enabled: false
"""


def ensure_instance_config(dagster_home: str | Path) -> tuple[str, Path]:
    """Write the queue's dagster.yaml into `dagster_home` when it has none; never change an
    existing one. Returns ("written" | "present" | "missing-limit", path): "missing-limit"
    means an existing file without the limit on RUN_QUEUE_TAG (the caller says so)."""
    path = Path(dagster_home) / INSTANCE_CONFIG_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return ("present" if has_queue_limit(path) else "missing-limit"), path
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(instance_config_yaml())
    return "written", path


def has_queue_limit(path: str | Path) -> bool:
    """Does this dagster.yaml limit runs by RUN_QUEUE_TAG (in `concurrency.runs` or the
    older `run_queue` / `run_coordinator` config)?"""
    import yaml

    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return False
    candidates = [
        ((config.get("concurrency") or {}).get("runs") or {}).get("tag_concurrency_limits"),
        (config.get("run_queue") or {}).get("tag_concurrency_limits"),
        ((config.get("run_coordinator") or {}).get("config") or {}).get("tag_concurrency_limits"),
    ]
    return any(
        isinstance(limit, dict) and limit.get("key") == RUN_QUEUE_TAG and limit.get("limit") == 1
        for limits in candidates
        if isinstance(limits, list)
        for limit in limits
    )
