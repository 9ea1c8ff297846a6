"""`gridaudit ui` as a service manager or a shell's `&` starts it (SIGINT ignored): it
serves the UI, and one SIGTERM shuts down every process it started (webserver, daemon,
code servers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ui_helpers import free_port, group_alive

GRIDAUDIT = str(Path(sys.executable).parent / "gridaudit")


def test_the_ui_serves_and_one_sigterm_stops_every_process(tiny_dir, tmp_path):
    port = free_port()
    log = open(tmp_path / "ui.log", "w")  # noqa: SIM115 (closed in finally, after the UI)
    ui = subprocess.Popen(
        [GRIDAUDIT, "ui", "--landing", str(tiny_dir / "landing"), "--workdir",
         str(tmp_path / "work"), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: every process it starts is in it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `&` starts it
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                assert ui.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the UI did not answer in 180 s"
                time.sleep(2)
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=60)
        deadline = time.monotonic() + 30
        while group_alive(ui.pid) and time.monotonic() < deadline:
            time.sleep(1)
        assert not group_alive(ui.pid), subprocess.run(
            ["ps", "-o", "pid,args", "-g", str(ui.pid)], capture_output=True, text=True
        ).stdout
    finally:
        if group_alive(ui.pid):
            os.killpg(ui.pid, signal.SIGKILL)
        log.close()
