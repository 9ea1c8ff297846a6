"""Writes landing files exactly per source-extracts.md.

Every file goes through `LandingWriter.write`, which records it in `manifest` (system,
table, day, path, rows). A later corruption step for bad-input tests can post-process
the files listed in the manifest (rewrite given lines, re-encode, drop a column, truncate)
without touching the generator.

A file is written in chunks (a DataFrame is cut into slices, a generator of column chunks
is consumed one chunk at a time), so the text of one chunk is in memory, never the text of
a whole file. The fields and lines are built by pyarrow's string kernels: per-row Python
string formatting took most of the generator's time at 100,000 customers.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.lib.landing_contract import DEFAULT_ENCODINGS, TABLES_BY_NAME

# line ends per system (both styles are allowed by the contract)
LINE_ENDS = {"marketing": "\r\n", "collection": "\r\n", "pms": "\n", "acquisition": "\n"}
# rows per slice of a DataFrame: the joined text of a slice stays far below pyarrow's 2 GiB
# limit of a string array
SLICE_ROWS = 500_000


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


class Hundredths(np.ndarray):
    """An int64 column of whole hundredths, written with 2 decimals (e.g. 12345 -> 123.45).
    Used where the generator holds exact integers, so no float is rounded on the way."""


def hundredths_col(a) -> Hundredths:
    return np.asarray(a, dtype=np.int64).view(Hundredths)


@dataclass
class LandingWriter:
    root: Path  # <out>/landing
    manifest: list[dict] = field(default_factory=list)

    def write(self, system: str, table: str, day: dt.date, data, gz: bool = False) -> Path:
        """Write one file. `data`: a DataFrame, or an iterable of chunks (mappings of column
        name -> numpy array / pyarrow array / Series, equal lengths), written in order."""
        cols = column_order(table)
        quote = {c.name for c in TABLES_BY_NAME[table].columns if c.type in ("text", "timestamp")}
        eol = LINE_ENDS[system]
        encoding = DEFAULT_ENCODINGS[system]
        d = self.root / system / table
        d.mkdir(parents=True, exist_ok=True)
        name = f"{day.isoformat()}.csv"
        path = d / (name + ".gz" if gz else name)
        rows = 0
        with open(path, "wb") as f:
            out = (
                gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=5)
                if gz
                else f
            )
            # the BOM of utf-8-sig once, at the start of the file
            out.write((",".join(cols) + eol).encode(encoding))
            body_encoding = (
                "utf-8" if encoding.replace("_", "-").lower() == "utf-8-sig" else encoding
            )
            for chunk in _chunks(data):
                missing = [c for c in cols if c not in chunk]
                if missing:
                    raise ValueError(f"{table}: missing columns {missing}")
                n, blob = lines_bytes([chunk[c] for c in cols], eol, [c in quote for c in cols])
                if n:
                    out.write(_encode(blob, body_encoding))
                rows += n
            if gz:
                out.close()
        self.manifest.append(
            {
                "system": system,
                "table": table,
                "day": day.isoformat(),
                "path": str(path.relative_to(self.root)),
                "rows": rows,
            }
        )
        return path


def _chunks(data) -> Iterable[Mapping]:
    if isinstance(data, pd.DataFrame):
        if len(data) == 0:
            return
        for k in range(0, len(data), SLICE_ROWS):
            part = data.iloc[k : k + SLICE_ROWS]
            yield {c: part[c] for c in part.columns}
        return
    yield from data


def _encode(blob: memoryview, encoding: str) -> bytes | memoryview:
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        return blob
    # GBK: Python's codec over the whole chunk (a C loop), not per field
    return str(blob, "utf-8").encode(encoding)


SD = np.dtypes.StringDType()
FRAC = pa.array([f"{k:02d}" for k in range(100)], type=pa.string())
_SPECIAL = r'[,"\r\n]'


def field_strings(col, quote: bool) -> pa.Array:
    """A column as CSV field strings: floats with 2 decimals (all decimals of the generator
    are whole hundredths), `Hundredths` the same from exact integers, NaN/None as the empty
    field, RFC 4180 quoting (only checked where `quote`, the text and timestamp columns)."""
    if isinstance(col, Hundredths):
        out = _two_decimals(np.asarray(col, dtype=np.int64), None)
    elif isinstance(col, (pa.Array, pa.ChunkedArray)):
        out = col
    else:
        if isinstance(col, pd.Series) and pd.api.types.is_float_dtype(col.dtype):
            col = col.to_numpy(dtype=np.float64, na_value=np.nan)
        if isinstance(col, np.ndarray) and col.dtype.kind == "f":
            v = col.astype(np.float64, copy=False)
            nan = np.isnan(v)
            out = _two_decimals(np.rint(np.where(nan, 0, v) * 100).astype(np.int64), nan)
        elif isinstance(col, pd.Series) and pd.api.types.is_integer_dtype(col.dtype):
            out = pc.cast(pa.array(col.to_numpy()), pa.string())
        elif isinstance(col, np.ndarray) and col.dtype.kind in "iu":
            out = pc.cast(pa.array(col), pa.string())
        else:
            out = _object_strings(col)
    if isinstance(out, pa.ChunkedArray):
        out = out.combine_chunks()
    if out.type != pa.string():
        out = pc.cast(out, pa.string())
    if out.null_count:
        out = pc.fill_null(out, "")
    if quote:
        special = pc.match_substring_regex(out, _SPECIAL)
        if pc.any(special).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(out, '"', '""'), '"', "")
            out = pc.if_else(special, quoted, out)
    return out


def _two_decimals(h: np.ndarray, nan) -> pa.Array:
    a = np.abs(h)
    s = pc.binary_join_element_wise(
        pc.cast(pa.array(a // 100), pa.string()), FRAC.take(pa.array(a % 100)), "."
    )
    neg = h < 0
    if neg.any():
        s = pc.if_else(pa.array(neg), pc.binary_join_element_wise("-", s, ""), s)
    if nan is not None and nan.any():
        s = pc.if_else(pa.array(nan), pa.scalar("", pa.string()), s)
    return s


def _object_strings(col) -> pa.Array:
    """Strings as they are; None/NaN as empty; any other object as str(x)."""
    if isinstance(col, pd.Series):
        if isinstance(col.dtype, pd.StringDtype) or col.dtype == object:
            lst = col.to_numpy(dtype=object, na_value="").tolist()
        else:
            lst = col.astype(object).tolist()
    elif isinstance(col, np.ndarray) and col.dtype == SD:
        return pa.array(col.astype(object), type=pa.string())
    else:
        lst = np.asarray(col, dtype=object).tolist()
    if pd.api.types.infer_dtype(lst, skipna=False) != "string":
        lst = [x if type(x) is str else ("" if x is None or pd.isna(x) else str(x)) for x in lst]
    return pa.array(lst, type=pa.string())


def lines_bytes(cols: list, eol: str, quote: list[bool]) -> tuple[int, memoryview]:
    """(rows, UTF-8 text of the rows, each ended by `eol`) of equal-length columns."""
    fields = [field_strings(c, q) for c, q in zip(cols, quote, strict=True)]
    n = len(fields[0])
    if any(len(x) != n for x in fields):
        raise ValueError("columns of unequal length")
    if n == 0:
        return 0, memoryview(b"")
    fields[-1] = pc.binary_join_element_wise(fields[-1], eol, "")
    return n, _data(pc.binary_join_element_wise(*fields, ","))


def _data(arr: pa.Array) -> memoryview:
    """The contiguous UTF-8 bytes of all values of a string array (no separators)."""
    off = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    return memoryview(arr.buffers()[2])[off[0] : off[-1]]


def csv_text(frame: pd.DataFrame, eol: str, quote_cols=None) -> str:
    """CSV text; only `quote_cols` (default all) are checked for characters that need quoting."""
    cols = list(frame.columns)
    qc = set(cols) if quote_cols is None else set(quote_cols)
    head = ",".join(cols) + eol
    body = b"".join(
        bytes(lines_bytes([ch[c] for c in cols], eol, [c in qc for c in cols])[1])
        for ch in _chunks(frame)
    )
    return head + body.decode("utf-8")


def hundredths(a) -> np.ndarray:
    """int hundredths -> float kWh (exactly representable to 2 decimals with %.2f)."""
    return np.asarray(a, dtype=np.float64) / 100.0
