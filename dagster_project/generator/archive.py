"""Snapshot archives as a base state plus dated operations.

Every archive change (update, insert, delete) is dated on a snapshot day, so that the
state on any day D (the newest snapshot dated on or before D) is exactly the state the
generator's own model has on D. `states()` yields every snapshot day's tables.

A table's base is either a DataFrame (the small, area-level tables) or a `LazyBase`: the
per-customer tables (C_CONS, C_CONTACT, C_MP, C_METER, E_DATA_MP, T_TX_DYYH) are built
from the world's arrays chunk by chunk when a snapshot is written or read, never held as
a whole table of strings. A snapshot of a table is its base plus the cumulative changes up
to that day: updated values per key, deleted keys, inserted rows. The rows of a snapshot
are the surviving base rows in base order, then the inserted rows in the order they were
inserted (the order the snapshot files have always had).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.lib.landing_contract import TABLES_BY_NAME

# rows of a lazy table built at a time (the chunk of a snapshot file in memory)
CHUNK_ROWS = 500_000


def key_of(table: str, row: dict) -> str:
    return "|".join(str(row[k]) for k in TABLES_BY_NAME[table].key)


class LazyBase:
    """Rows built on demand: `segments` are (build, idx, space) triples, `build(idx, cols)`
    returning {column: pyarrow string array} for the rows of world indices `idx` (every
    column when `cols` is None), `space` naming what idx indexes ('cust': customers,
    'area': areas). `rows_per_index`: rows one index yields (2 for C_CONTACT)."""

    def __init__(self, segments: list[tuple], rows_per_index: int = 1):
        self.segments = [(b, np.asarray(i, dtype=np.int64), sp) for b, i, sp in segments]
        self.rows_per_index = rows_per_index

    def __len__(self) -> int:
        return sum(len(i) for _, i, _ in self.segments) * self.rows_per_index

    def chunks(self, cols=None, size: int = CHUNK_ROWS) -> Iterator[dict]:
        step = max(1, size // self.rows_per_index)
        for build, idx, _ in self.segments:
            for k in range(0, len(idx), step):
                yield build(idx[k : k + step], cols)

    def subset(self, masks: dict[str, np.ndarray]) -> LazyBase:
        """Only the rows whose index is True in masks[space] (no rows of other spaces)."""
        segs = []
        for b, i, sp in self.segments:
            m = masks.get(sp)
            segs.append((b, i[m[i]] if m is not None else i[:0], sp))
        return LazyBase(segs, self.rows_per_index)


def _keys(table: str, cols: dict) -> pa.Array:
    key = TABLES_BY_NAME[table].key
    if len(key) == 1:
        return cols[key[0]]
    return pc.binary_join_element_wise(*[cols[k] for k in key], "|")


class TableState:
    """One table as of a snapshot day (see the module docstring)."""

    def __init__(
        self, name: str, base, upd: dict, deleted: set, inserted: dict, partial: bool = False
    ):
        self.name = name
        self.base = base
        self.partial = partial  # a subset of the base rows: not every change finds its row
        self.upd = upd  # key -> {column: value} for base rows
        self.deleted = deleted  # base keys
        self.inserted = inserted  # key -> row dict, in insertion order (updates applied)
        self.columns = TABLES_BY_NAME[name].column_names
        self._frame = None

    @property
    def lazy(self) -> bool:
        return isinstance(self.base, LazyBase)

    def subset(self, masks: dict[str, np.ndarray]) -> TableState:
        """The table with only the base rows of the world indices in `masks` (see
        LazyBase.subset) plus every inserted row: a superset of the rows a filter needs,
        built without building the others."""
        return TableState(
            self.name, self.base.subset(masks), self.upd, self.deleted, self.inserted, True
        )

    def __len__(self) -> int:
        return len(self.base) - len(self.deleted) + len(self.inserted)

    # ------------------------------------------------------------------ materialised
    def frame(self, keep: Callable | None = None, cols=None) -> pd.DataFrame:
        """The table as a DataFrame of str (object) columns, indexed by key; `keep(chunk)`
        (a boolean mask per chunk of the lazy rows) selects rows."""
        if not self.lazy and keep is None:
            return self._small_frame()
        parts = []
        for ch in self.chunks(cols):
            if keep is not None:
                m = keep(ch)
                m = m if isinstance(m, (pa.Array, pa.ChunkedArray)) else pa.array(m)
                if not pc.any(m).as_py():
                    continue
                ch = {c: pc.filter(v, m) for c, v in ch.items()}
            parts.append(ch)
        names = cols or self.columns
        if not parts:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in names}).set_axis(
                pd.Index([], dtype=object, name="_k")
            )
        data = {
            c: np.concatenate([p[c].to_numpy(zero_copy_only=False) for p in parts]) for c in names
        }
        df = pd.DataFrame(data, dtype=object)
        if all(k in names for k in TABLES_BY_NAME[self.name].key):
            df.index = pd.Index(
                np.concatenate([_keys(self.name, p).to_numpy(zero_copy_only=False) for p in parts]),
                dtype=object,
                name="_k",
            )
        return df

    def _small_frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self._build_small_frame()
        return self._frame

    def _build_small_frame(self) -> pd.DataFrame:
        df = self.base
        if self.upd:
            df = df.copy()
            for key, vals in self.upd.items():
                for c, v in vals.items():
                    df.at[key, c] = v
        if self.deleted:
            df = df[~df.index.isin(list(self.deleted))]
        if self.inserted:
            df = _concat(self.name, df, list(self.inserted.items()))
        return df

    # ------------------------------------------------------------------ streamed
    def chunks(self, cols=None) -> Iterator[dict]:
        """The rows in order as {column: pyarrow string array} chunks."""
        names = list(cols or self.columns)
        if not self.lazy:
            df = self._small_frame()
            if len(df):
                yield {c: _strings(df[c]) for c in names}
            return
        key_cols = list(TABLES_BY_NAME[self.name].key)
        need = list(dict.fromkeys(names + key_cols))
        upd_keys = pa.array(list(self.upd), type=pa.string())
        del_keys = pa.array(list(self.deleted), type=pa.string())
        ins_keys = pa.array(list(self.inserted), type=pa.string())
        found_upd = found_del = 0
        for ch in self.base.chunks(need):
            keys = _keys(self.name, ch)
            if len(ins_keys):
                clash = pc.is_in(keys, value_set=ins_keys)
                if len(del_keys):
                    clash = pc.and_(clash, pc.invert(pc.is_in(keys, value_set=del_keys)))
                if pc.any(clash).as_py():
                    raise ValueError(f"{self.name}: duplicate key after insert")
            if len(upd_keys):
                hit = pc.is_in(keys, value_set=upd_keys)
                n_hit = pc.sum(hit).as_py() or 0
                if n_hit:
                    found_upd += n_hit
                    ch = self._apply(ch, keys, hit, names)
            if len(del_keys):
                gone = pc.is_in(keys, value_set=del_keys)
                n_gone = pc.sum(gone).as_py() or 0
                if n_gone:
                    found_del += n_gone
                    ch = {c: pc.filter(v, pc.invert(gone)) for c, v in ch.items()}
            yield {c: ch[c] for c in names}
        if not self.partial and (found_upd != len(self.upd) or found_del != len(self.deleted)):
            raise KeyError(f"{self.name}: an update or delete of a key that is not in the table")
        if self.inserted:
            rows = list(self.inserted.values())
            yield {c: pa.array([r.get(c, "") for r in rows], type=pa.string()) for c in names}

    def _apply(self, ch: dict, keys: pa.Array, hit: pa.Array, names: list) -> dict:
        pos = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
        hit_keys = keys.take(pa.array(pos)).to_pylist()
        out = dict(ch)
        touched = {c for k in hit_keys for c in self.upd[k]}
        for c in touched:
            if c not in out:
                continue
            old = out[c].take(pa.array(pos)).to_pylist()
            new = [self.upd[k].get(c, o) for k, o in zip(hit_keys, old, strict=True)]
            out[c] = pc.replace_with_mask(out[c], hit, pa.array(new, type=pa.string()))
        return out


def _strings(s: pd.Series) -> pa.Array:
    lst = s.to_numpy(dtype=object).tolist()
    if not all(type(x) is str for x in lst):
        lst = [x if type(x) is str else ("" if x is None or pd.isna(x) else str(x)) for x in lst]
    return pa.array(lst, type=pa.string())


class Archive:
    def __init__(self, snap_days: list[int]):
        self.snap_days = list(snap_days)
        self._snap = set(snap_days)
        self.base: dict[str, pd.DataFrame | LazyBase] = {}
        self.base_upd: dict[str, dict] = defaultdict(dict)
        self.base_del: dict[str, set] = defaultdict(set)
        self.ops: dict[int, list] = defaultdict(list)

    def set_base(self, table: str, df) -> None:
        if isinstance(df, LazyBase):
            self.base[table] = df
            return
        cols = TABLES_BY_NAME[table].column_names
        df = df[cols].astype(object).fillna("")
        key = list(TABLES_BY_NAME[table].key)
        keys = df[key[0]].astype(str)
        for k in key[1:]:
            keys = keys + "|" + df[k].astype(str)
        df.index = pd.Index(keys.to_numpy(dtype=object), name="_k")
        if df.index.has_duplicates:
            raise ValueError(f"{table}: duplicate keys in base")
        self.base[table] = df

    # --------------------------------------------------- the base as it was before the window
    def base_set(self, table: str, key: str, **vals) -> None:
        """Change values of a base row (the state before the window, as of day 0)."""
        b = self.base[table]
        if isinstance(b, LazyBase):
            self.base_upd[table].setdefault(key, {}).update(vals)
        else:
            for c, v in vals.items():
                b.at[key, c] = v

    def base_drop(self, table: str, keys) -> None:
        b = self.base[table]
        if isinstance(b, LazyBase):
            self.base_del[table] |= set(keys)
        else:
            self.base[table] = b.drop(index=list(keys))

    # --------------------------------------------------- dated changes
    def _check(self, day: int) -> None:
        if day not in self._snap:
            raise ValueError(f"archive change on day {day}, which is not a snapshot day")

    def upd(self, day: int, table: str, key: str, **vals) -> None:
        self._check(day)
        self.ops[day].append((table, "upd", key, vals))

    def ins(self, day: int, table: str, row: dict) -> None:
        self._check(day)
        self.ops[day].append((table, "ins", key_of(table, row), row))

    def delete(self, day: int, table: str, key: str) -> None:
        self._check(day)
        self.ops[day].append((table, "del", key, None))

    def states(self):
        """Yield (day, {table: TableState}) for every snapshot day, in order."""
        upd = {t: {k: dict(v) for k, v in self.base_upd[t].items()} for t in self.base}
        deleted = {t: set(self.base_del[t]) for t in self.base}
        inserted: dict[str, dict] = {t: {} for t in self.base}
        for day in self.snap_days:
            for table, op, key, payload in self.ops.get(day, []):
                ins, bdel = inserted[table], deleted[table]
                if op == "upd":
                    if key in ins:
                        ins[key] = {**ins[key], **payload}
                    else:
                        self._known(table, key, bdel, day)
                        upd[table][key] = {**upd[table].get(key, {}), **payload}
                elif op == "ins":
                    if key in ins or (key not in bdel and self._in_small_base(table, key)):
                        raise ValueError(f"{table}: duplicate key after insert")
                    ins[key] = dict(payload)
                elif op == "del":
                    if key in ins:
                        del ins[key]
                    else:
                        self._known(table, key, bdel, day)
                        bdel.add(key)
                        upd[table].pop(key, None)
            yield (
                day,
                {
                    t: TableState(t, self.base[t], dict(upd[t]), set(deleted[t]), dict(inserted[t]))
                    for t in self.base
                },
            )

    def _in_small_base(self, table: str, key: str) -> bool:
        b = self.base[table]
        return not isinstance(b, LazyBase) and key in b.index

    def _known(self, table: str, key: str, deleted: set, day: int) -> None:
        b = self.base[table]
        if key in deleted or (not isinstance(b, LazyBase) and key not in b.index):
            raise KeyError(f"{table}: update of unknown key {key} on day {day}")


def _concat(table: str, df: pd.DataFrame, rows: list) -> pd.DataFrame:
    cols = TABLES_BY_NAME[table].column_names
    new = pd.DataFrame([{c: r.get(c, "") for c in cols} for _, r in rows], columns=cols).astype(
        object
    )
    new.index = pd.Index([k for k, _ in rows], dtype=object, name="_k")
    out = pd.concat([df, new])
    if out.index.has_duplicates:
        raise ValueError(f"{table}: duplicate key after insert")
    return out
