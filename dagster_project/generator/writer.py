"""Writes landing files exactly per source-extracts.md.

Every file goes through `LandingWriter.write`, which records it in `manifest` (system,
table, day, path, rows). A later corruption step for bad-input tests can post-process
the files listed in the manifest (rewrite given lines, re-encode, drop a column, truncate)
without touching the generator.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.lib.landing_contract import DEFAULT_ENCODINGS, TABLES_BY_NAME

# line ends per system (both styles are allowed by the contract)
LINE_ENDS = {"marketing": "\r\n", "collection": "\r\n", "pms": "\n", "acquisition": "\n"}


def column_order(table: str) -> list[str]:
    """The column order of a table's files: a fixed permutation of the contract order for
    most tables (never alphabetical), the contract order for a few (any order is allowed)."""
    cols = TABLES_BY_NAME[table].column_names
    h = int(hashlib.sha256(table.encode()).hexdigest(), 16)
    if table in ("O_ORG", "K_PRC") or len(cols) < 3:
        return cols
    rng = np.random.default_rng(h % (2**32))
    for _ in range(20):
        perm = [cols[i] for i in rng.permutation(len(cols))]
        if perm != cols and perm != sorted(cols):
            return perm
    return cols[1:] + cols[:1]


@dataclass
class LandingWriter:
    root: Path  # <out>/landing
    manifest: list[dict] = field(default_factory=list)

    def write(self, system: str, table: str, day: dt.date, df: pd.DataFrame, gz: bool = False) -> Path:
        cols = column_order(table)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{table}: missing columns {missing}")
        frame = df[cols]
        text = frame.to_csv(
            index=False,
            lineterminator=LINE_ENDS[system],
            quoting=csv.QUOTE_MINIMAL,
            float_format="%.2f",
            na_rep="",
        )
        data = text.encode(DEFAULT_ENCODINGS[system])
        d = self.root / system / table
        d.mkdir(parents=True, exist_ok=True)
        name = f"{day.isoformat()}.csv"
        if gz:
            path = d / (name + ".gz")
            buf = io.BytesIO()
            with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=5) as g:
                g.write(data)
            path.write_bytes(buf.getvalue())
        else:
            path = d / name
            path.write_bytes(data)
        self.manifest.append(
            {"system": system, "table": table, "day": day.isoformat(), "path": str(path.relative_to(self.root)), "rows": len(frame)}
        )
        return path


def hundredths(a) -> np.ndarray:
    """int hundredths -> float kWh (exactly representable to 2 decimals with %.2f)."""
    return np.asarray(a, dtype=np.float64) / 100.0
