"""gridaudit source data generator: a landing tree per source-extracts.md plus its truth.

    from dagster_project.generator import generate, PRESETS
    summary = generate("tiny", pathlib.Path("data"), seed=42)

writes `<out>/landing/<system>/<TABLE>/<YYYY-MM-DD>.csv[.gz]` and `<out>/truth/`
(area_daily_loss.csv, anomalies.csv, summary.json, README.md).
"""

from __future__ import annotations

from .core import generate
from .presets import PRESETS

__all__ = ["PRESETS", "generate"]
