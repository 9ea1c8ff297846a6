"""What the tests that start `gridaudit ui` share: a free port, whether the UI's process
group still has a process, and stopping that group as an operator does (one SIGTERM, then
SIGKILL for what is left after a grace period)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_process_group(process: subprocess.Popen, grace_seconds: float = 30) -> None:
    """SIGTERM to the process group a test started with start_new_session=True; SIGKILL
    what is still alive `grace_seconds` after its leader ended."""
    if group_alive(process.pid):
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):  # then SIGKILL below
            process.wait(timeout=60)
    deadline = time.monotonic() + grace_seconds
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(1)
    if group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
