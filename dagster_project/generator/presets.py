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
    # labels (anomalies.csv) of every area when 0; else of every area with an injection plus
    # this many others drawn at random (the catalogue evaluated on their rows only)
    label_sample_areas: int = 0


PRESETS: dict[str, Preset] = {
    # tiny: ~30 areas / 3,000 customers / 14 days (fast tests, quick demos)
    "tiny": Preset("tiny", 30, 3000, 14, 2, 2, 0.2, 3),
    # demo: ~1,000 areas / 100,000 customers / 62 days = two whole billing months + 1 day
    "demo": Preset("demo", 1000, 100_000, 62, 5, 5, 0.08, 12),
    # mini: smaller than tiny but long enough for every rule (used by the tests)
    "mini": Preset("mini", 14, 1000, 26, 1, 2, 0.3, 3),
    # city: ~20,000 areas / 2,000,000 customers / 23 days: long enough for every rule (T01
    # needs 14 days before the event and 7 after it: 23 days); labels of a sample of areas
    "city": Preset("city", 20_000, 2_000_000, 23, 6, 30, 0.08, 30, label_sample_areas=500),
    # province: ~250,000 areas / 25,000,000 customers / 3 days: volume, not every rule (M02,
    # M06, T01 need longer windows); labels of a sample of areas
    "province": Preset(
        "province", 250_000, 25_000_000, 3, 60, 40, 0.08, 40, label_sample_areas=500
    ),
}
