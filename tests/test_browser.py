"""What a user sees in a real browser (Debian's Chromium, headless, through Playwright) after
the tiny run: the Dagster UI's asset catalogue, the GX gate's check and the loss-status
metadata of marts.area_daily_loss equal to the published file, and the run's HTML report
opened offline from disk with its charts drawn and no script error.

Playwright drives the system browser (CHROMIUM): `playwright install` is never run, so
nothing is downloaded. .ci/run installs Debian's chromium and fonts-noto-cjk when missing.
Screenshots (full page) go to each test's tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from ui_helpers import free_port, stop_process_group

from dagster_project.defs.dbt import ui_metadata
from dagster_project.defs.partitions import daily_partitions
from dagster_project.lib import report
from expectations import MART_TABLES

CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium (/usr/bin/chromium or `chromium` on PATH): .ci/run installs Debian's "
    "chromium and fonts-noto-cjk",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIN = Path(sys.executable).parent
# The Dagster UI is a React app that loads its data with GraphQL after the page: on 2 busy
# cores a page takes seconds to tens of seconds to show it.
UI_TIMEOUT_MS = 60_000
UI_START_SECONDS = 180
PUBLISHED = "published/gridaudit.duckdb"
# The report's sections with charts and the SVGs each has: (section id, CSS selector)
REPORT_CHARTS = [
    ("loss-status", "svg#loss-status-today"),
    ("loss-status", "svg#loss-status-trend"),
    ("worst-areas", "svg.spark"),
    ("findings", "svg#findings-by-code"),
    ("findings", "svg#findings-by-station"),
    ("work-orders", "svg#work-orders-by-status"),
]
DATA_MARKS = "rect, path, circle, polyline"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def published(tiny_run):
    with duckdb.connect(str(tiny_run["workdir"] / PUBLISHED), read_only=True) as con:
        yield con


def _instance_home_with_the_run(tiny_run, home: Path) -> None:
    """A Dagster home whose instance is tiny_run's: a copy of its DAGSTER_HOME (SQLite run
    and event databases and the commands' dagster.yaml), so the UI's daemon writes its
    ticks into the copy and not into the instance other tests read."""
    shutil.copytree(tiny_run["dagster_home"], home, dirs_exist_ok=True)
    source = tiny_run["instance"]
    with dg.DagsterInstance.from_config(str(home)) as copy:
        runs = [run.run_id for run in source.get_runs()]
        assert [run.run_id for run in copy.get_runs()] == runs
        assert len(copy.all_logs(runs[0])) == len(source.all_logs(runs[0]))
    # What the UI's "Skip" on its community dialog records (dagster/_core/nux.py): the
    # dialog would otherwise cover the screenshots.
    (home / ".nux").mkdir()
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")


@pytest.fixture(scope="module")
def ui_url(tiny_run, tmp_path_factory):
    """`gridaudit ui` on the tiny run's landing and work directory, its Dagster home holding
    the run; the base URL once it serves. One SIGTERM to its process group stops it."""
    home = tmp_path_factory.mktemp("dagster_home")
    _instance_home_with_the_run(tiny_run, home)
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "GRIDAUDIT_REPORTS_URL": f"http://127.0.0.1:{free_port()}",
        # the partitions the run had (this process's), not re-derived from the landing
        "GRIDAUDIT_FIRST_DAY": daily_partitions.start.date().isoformat(),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster, dbt
    }
    log_path = home / "ui.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed in finally, after the UI)
    ui = subprocess.Popen(
        [BIN / "gridaudit", "ui", "--landing", str(tiny_run["landing"]), "--workdir",
         str(tiny_run["workdir"]), "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: webserver, daemon, code servers
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    try:
        deadline = began + UI_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                    break
            except OSError:
                assert ui.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, f"the UI did not answer in {UI_START_SECONDS} s"
                time.sleep(2)
        print(f"gridaudit ui served after {time.monotonic() - began:.0f} s")
        yield url
    finally:
        stop_process_group(ui)
        log.close()


def _catalogue_partitions(page, keys: list[str]) -> dict[str, dict[str, str]]:
    """Per listed asset of the catalogue, the partition counts its Status column shows by
    icon (partition_success: materialized, partition_failure: failed), once every row shows
    numbers. A row is found by its (styled, hidden) checkbox, which is named by the key."""
    counts = r"""keys => {
        const shown = {};
        for (const key of keys) {
            const box = document.querySelector(`[data-testid="checkbox-${key}"]`);
            let row = box;
            while (row && !row.querySelector('[aria-label=partition_success]'))
                row = row.parentElement;
            if (!row) return null;
            shown[key] = {};
            for (const name of ['partition_success', 'partition_failure']) {
                const count = row.querySelector(`[aria-label=${name}]`).parentElement.innerText;
                if (!/^\d+$/.test(count.trim())) return null;  // "—" while it loads
                shown[key][name] = count.trim();
            }
        }
        return shown;
    }"""
    return page.wait_for_function(counts, arg=keys, timeout=UI_TIMEOUT_MS).json_value()


def _metadata_value(page, key: str) -> str:
    """The Value cell of the asset page's metadata row whose Key cell is exactly `key`,
    once the UI shows it (the description names the keys too: a text search would match
    there)."""
    row_value = """key => {
        for (const row of document.querySelectorAll('tr')) {
            const cells = row.cells;
            if (cells.length === 3 && cells[0].innerText.trim() === key)
                return cells[2].innerText.trim() || null;
        }
        return null;
    }"""
    return page.wait_for_function(row_value, arg=key, timeout=UI_TIMEOUT_MS).json_value()


def test_the_dagster_ui_lists_the_assets_and_shows_the_published_loss_status(
    tiny_run, published, ui_url, browser, tmp_path
):
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    try:
        # the catalogue, filtered to the publish asset and the marts the GX gate checks
        keys = ["published/gridaudit_duckdb", *(t.replace(".", "/") for t in MART_TABLES)]
        selection = " or ".join(f'key:"{key}"' for key in keys)
        page.goto(f"{ui_url}/assets?asset-selection={urllib.parse.quote(selection)}")
        page.get_by_text("published / gridaudit_duckdb").first.wait_for(timeout=UI_TIMEOUT_MS)
        run_days = (tiny_run["end"] - tiny_run["start"]).days + 1
        assert _catalogue_partitions(page, keys) == {
            key: {"partition_success": str(run_days), "partition_failure": "0"} for key in keys
        }
        page.screenshot(path=tmp_path / "catalogue.png", full_page=True)

        # the GX gate's blocking check on the mart, passed on the run
        page.goto(f"{ui_url}/assets/marts/area_daily_loss?view=checks&checkDetail=gx_gate")
        page.get_by_text("This is a blocking asset check").wait_for(timeout=UI_TIMEOUT_MS)
        assert _metadata_value_of_check(page, "gate") == "marts"
        assert _metadata_value_of_check(page, "failed_errors") == "0"
        page.get_by_text("all expectations met", exact=True).wait_for(timeout=UI_TIMEOUT_MS)
        page.get_by_text("Passed", exact=True).first.wait_for(timeout=UI_TIMEOUT_MS)
        page.screenshot(path=tmp_path / "gx_gate.png", full_page=True)

        # the asset page of the mart: the loss-status metadata of the newest day
        newest = published.execute("select max(data_date) from marts.area_daily_loss").fetchone()[0]
        expected = dict(
            published.execute(
                "select loss_status, count(*) from marts.area_daily_loss"
                " where data_date = ? group by all",
                [newest],
            ).fetchall()
        )
        assert set(expected) == set(ui_metadata.LOSS_STATUSES), "tiny has every status"
        page.goto(f"{ui_url}/assets/marts/area_daily_loss")
        shown = {key: _metadata_value(page, key) for key, _ in ui_metadata.LOSS_STATUSES.values()}
        assert shown == {
            key: str(expected[status]) for status, (key, _) in ui_metadata.LOSS_STATUSES.items()
        }
        assert _metadata_value(page, "areas_total") == str(sum(expected.values()))
        assert _metadata_value(page, "status_day") == newest.isoformat()
        table = page.locator("tr", has=page.locator("td", has_text="loss_status"))
        rows = table.locator(".dagster-markdown table tbody tr")
        shown_table = {
            row.locator("td").nth(0).inner_text(): row.locator("td").nth(1).inner_text()
            for row in rows.all()
        }
        assert shown_table == {
            **{
                f"{name} ({status})": str(expected[status])
                for status, (_, name) in ui_metadata.LOSS_STATUSES.items()
            },
            "合计": str(sum(expected.values())),
        }
        table.first.scroll_into_view_if_needed()
        page.screenshot(path=tmp_path / "area_daily_loss.png", full_page=True)
    finally:
        page.close()


def _metadata_value_of_check(page, key: str) -> str:
    """The value next to `key` in the check's metadata (a two-column table)."""
    value = """key => {
        for (const row of document.querySelectorAll('tr')) {
            const cells = row.cells;
            if (cells.length === 2 && cells[0].innerText.trim() === key)
                return cells[1].innerText.trim() || null;
        }
        return null;
    }"""
    return page.wait_for_function(value, arg=key, timeout=UI_TIMEOUT_MS).json_value()


def test_the_html_report_renders_offline_with_its_charts_and_no_error(tiny_run, browser, tmp_path):
    latest = tiny_run["workdir"] / "reports" / "latest.html"
    assert latest.exists(), "the tiny run wrote no report"
    url = latest.as_uri()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(url, wait_until="load")
        page.screenshot(path=tmp_path / "report.png", full_page=True)
        assert page.locator("h2", has_text="线损").first.is_visible()
        assert page.title().startswith("稽查日报")
        for section, selector in REPORT_CHARTS:
            charts = page.locator(f"section#{section} {selector}")
            assert charts.count() > 0, f"{section}: no {selector}"
            for chart in charts.all():
                box = chart.bounding_box()
                assert box and box["width"] > 0 and box["height"] > 0, (section, selector, box)
                marks = chart.locator(DATA_MARKS)
                assert marks.count() > 0, f"{section} {selector}: no data marks"
                drawn = [m.bounding_box() for m in marks.all()]
                assert any(b and b["width"] > 0 and b["height"] > 0 for b in drawn), (
                    f"{section} {selector}: every mark has an empty box"
                )
        # the bars are drawn to scale: each as tall as the tallest times its share of it
        bars = [
            (int(bar.get_attribute("data-value")), bar.bounding_box()["height"])
            for bar in page.locator("svg#loss-status-today rect.bar").all()
        ]
        assert len(bars) == len(report.LOSS_STATUSES), bars
        top_value, top_height = max(bars)
        assert top_height > 50, bars
        for value, height in bars:
            assert height == pytest.approx(top_height * value / top_value, abs=1), bars
    finally:
        page.close()
    assert errors == []
    assert requests == [url], "the report fetched something besides itself"
