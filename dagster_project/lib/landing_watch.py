"""What the landing tree holds for an export day: its files, whether the day is complete,
and a fingerprint that changes when a file of the day arrives late or is replaced.

Dagster-free; the landing sensor (defs/operations/landing_sensor.py) decides with it. Only
`stat` is used, never the files' contents: a city's day is gigabytes, and the sensor looks
every 30 seconds. The layout is the loader's (lib/extract.py landing_file):
<landing>/<system>/<TABLE>/<YYYY-MM-DD>.csv[.gz], and the returned workbooks of
<landing>/feedback/<YYYY-MM-DD>/*.xlsx (lib/feedback.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from dagster_project.lib.landing_contract import ALL_TABLES, Table

_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.csv(\.gz)?$")


@dataclass(frozen=True)
class LandedFile:
    path: str  # relative to the landing directory, '/'-separated
    table: str  # the contract table (WORKBOOK_FEEDBACK for a returned workbook)
    system: str
    size: int
    mtime_ns: int

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


@dataclass(frozen=True)
class LandingDay:
    day: dt.date
    files: tuple[LandedFile, ...]

    @property
    def tables(self) -> set[str]:
        return {f.table for f in self.files}

    @property
    def systems(self) -> set[str]:
        return {f.system for f in self.files}

    def missing(self, every_day_tables: tuple[str, ...]) -> list[str]:
        """The tables due every day that have no file of this day, in the given order."""
        return [t for t in every_day_tables if t not in self.tables]

    @property
    def fingerprint(self) -> str:
        """A short hash of every file's path, size and modification time: equal for the
        same files, different once one is added, replaced or rewritten."""
        text = "\n".join(f"{f.path}\t{f.size}\t{f.mtime_ns}" for f in self._sorted())
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    @property
    def newest_mtime(self) -> float:
        return max(f.mtime for f in self.files)

    def _sorted(self):
        return sorted(self.files, key=lambda f: f.path)


def _stat(landing: Path, path: Path, table: Table) -> LandedFile | None:
    try:
        st = path.stat()
    except FileNotFoundError:  # removed between listing and stat
        return None
    return LandedFile(
        path.relative_to(landing).as_posix(), table.name, table.system, st.st_size, st.st_mtime_ns
    )


def scan(landing: Path, first: dt.date, last: dt.date) -> dict[dt.date, LandingDay]:
    """Every export day from `first` to `last` (inclusive) that has at least one file, with
    its files: one directory listing per table, whatever the number of days."""
    files: dict[dt.date, list[LandedFile]] = {}

    def add(day_text: str, path: Path, table: Table) -> None:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            return
        if first <= day <= last and (landed := _stat(landing, path, table)):
            files.setdefault(day, []).append(landed)

    for table in ALL_TABLES:
        if table.name == "WORKBOOK_FEEDBACK":
            folder = landing / "feedback"
            if folder.is_dir():
                for day_dir in folder.iterdir():
                    if day_dir.is_dir() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day_dir.name):
                        for workbook in day_dir.glob("*.xlsx"):
                            if not workbook.name.startswith("~$"):  # Excel's lock file
                                add(day_dir.name, workbook, table)
            continue
        folder = landing / table.system / table.name
        if folder.is_dir():
            for path in folder.iterdir():
                if match := _DAY_FILE.match(path.name):
                    add(match.group(1), path, table)
    return {day: LandingDay(day, tuple(fs)) for day, fs in sorted(files.items())}
