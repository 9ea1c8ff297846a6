"""Writes landing files exactly per source-extracts.md.

Every file goes through `LandingWriter.write`, which records it in `manifest` (system,
table, day, path, rows). A later corruption step for bad-input tests can post-process
the files listed in the manifest (rewrite given lines, re-encode, drop a column, truncate)
without touching the generator.
"""

from __future__ import annotations

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

    def write(
        self, system: str, table: str, day: dt.date, df: pd.DataFrame, gz: bool = False
    ) -> Path:
        cols = column_order(table)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{table}: missing columns {missing}")
        frame = df[cols]
        quote = [c.name for c in TABLES_BY_NAME[table].columns if c.type in ("text", "timestamp")]
        text = csv_text(frame, LINE_ENDS[system], quote)
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
            {
                "system": system,
                "table": table,
                "day": day.isoformat(),
                "path": str(path.relative_to(self.root)),
                "rows": len(frame),
            }
        )
        return path


SD = np.dtypes.StringDType()
FRAC = np.array([f"{k:02d}" for k in range(100)], dtype=SD)


def _field_list(col: pd.Series, quote: bool) -> list[str]:
    """A column as CSV field strings: floats with 2 decimals (all decimals of the generator
    are whole hundredths), NaN/None as the empty field, RFC 4180 quoting where needed."""
    if pd.api.types.is_float_dtype(col.dtype):
        v = col.to_numpy(dtype=np.float64)
        nan = np.isnan(v)
        h = np.rint(np.where(nan, 0, v) * 100).astype(np.int64)
        a = np.abs(h)
        out = np.strings.add(np.strings.add((a // 100).astype(SD), "."), FRAC[a % 100])
        out = np.where(h < 0, np.strings.add("-", out), out)
        out[nan] = ""
        return out.tolist()
    if pd.api.types.is_integer_dtype(col.dtype):
        return list(map(str, col.tolist()))
    lst = col.to_numpy(dtype=object, na_value="").tolist()
    if pd.api.types.infer_dtype(lst, skipna=False) != "string":
        lst = [x if type(x) is str else ("" if x is None or pd.isna(x) else str(x)) for x in lst]
    if quote:
        lst = [
            ('"' + x.replace('"', '""') + '"')
            if ("," in x or '"' in x or "\n" in x or "\r" in x)
            else x
            for x in lst
        ]
    return lst


def csv_text(frame: pd.DataFrame, eol: str, quote_cols=None) -> str:
    """CSV text; only `quote_cols` (default all) are checked for characters that need quoting."""
    cols = list(frame.columns)
    qc = set(cols) if quote_cols is None else set(quote_cols)
    head = ",".join(cols) + eol
    if len(frame) == 0:
        return head
    lists = [_field_list(frame[c], c in qc) for c in cols]
    return head + eol.join(map(",".join, zip(*lists))) + eol


def hundredths(a) -> np.ndarray:
    """int hundredths -> float kWh (exactly representable to 2 decimals with %.2f)."""
    return np.asarray(a, dtype=np.float64) / 100.0
