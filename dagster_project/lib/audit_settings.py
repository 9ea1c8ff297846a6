"""Reads dbt/seeds/audit_settings.csv, the one documented threshold file, for Python code
(gates, extract). dbt reads the same file as a seed through the setting() macro."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from dagster_project.lib.settings import DBT_PROJECT_DIR

SETTINGS_FILE = DBT_PROJECT_DIR / "seeds" / "audit_settings.csv"


def load(path: Path = SETTINGS_FILE) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as f:
        return {row["setting_name"]: row["setting_value"] for row in csv.DictReader(f)}


def number(name: str, path: Path = SETTINGS_FILE) -> float:
    settings = load(path)
    if name not in settings:
        raise KeyError(f"setting {name!r} is not in {path}")
    return float(settings[name])


def fingerprint(path: Path = SETTINGS_FILE) -> str:
    """A short hash of the settings (name=value rows ordered by name, joined by ';'),
    recorded with what they produced. The dbt macro audit_settings_fingerprint() computes
    the same value in SQL, so a published finding and the published settings agree."""
    rows = ";".join(f"{name}={value}" for name, value in sorted(load(path).items()))
    return hashlib.md5(rows.encode("utf-8")).hexdigest()[:12]
