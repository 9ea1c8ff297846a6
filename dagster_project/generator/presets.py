"""Size presets of the generated data set."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    n_areas: int  # transformer areas (公变 + 专变)
    n_customers: int  # customers at the start of the window (approximate)
    days: int  # default window length
    n_counties: int
    stations_per_county: int
    hv_share: float  # share of areas that are 专变 (one 10 kV customer each)
    per_code: int  # injected instances per rule code (customer/area level)
    start: dt.date = dt.date(2026, 9, 1)


PRESETS: dict[str, Preset] = {
    # tiny: ~30 areas / 3,000 customers / 14 days (fast tests, quick demos)
    "tiny": Preset("tiny", 30, 3000, 14, 2, 2, 0.2, 3),
    # demo: ~1,000 areas / 100,000 customers / 62 days = two whole billing months + 1 day
    "demo": Preset("demo", 1000, 100_000, 62, 5, 5, 0.08, 12),
    # mini: smaller than tiny but long enough for every rule (used by the tests)
    "mini": Preset("mini", 14, 1000, 26, 1, 2, 0.3, 3),
}
