"""Serve <workdir>/reports/ over HTTP for the Dagster UI's links (`gridaudit ui` starts it).

The checks' and the publish's metadata link their HTML reports by GRIDAUDIT_REPORTS_URL
(lib/settings.report_link): a browser refuses file:// links from the UI's http:// page.
Read-only, the standard library's file server, bound to the URL's host (localhost unless
set otherwise); its directory listing doubles as the index of every run's reports.

    python -m dagster_project.lib.reports_server DIR
"""

from __future__ import annotations

import functools
import http.server
import sys
from pathlib import Path
from urllib.parse import urlsplit

from dagster_project.lib.settings import reports_url


class _ReportsHandler(http.server.SimpleHTTPRequestHandler):
    # the reports are UTF-8 (Chinese headings); say so, whatever the browser guesses
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".csv": "text/csv; charset=utf-8",
        ".json": "application/json",
    }

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass  # the UI's terminal is for Dagster's log, not one line per request


def serve(directory: Path) -> None:
    url = urlsplit(reports_url())
    host = url.hostname or "localhost"
    port = url.port or 80
    directory.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_ReportsHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"gridaudit: reports of {directory} at {reports_url()}/", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
