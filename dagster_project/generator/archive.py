"""Snapshot archives as a base state plus dated operations.

Every archive change (update, insert, delete) is dated on a snapshot day, so that the
state on any day D (the newest snapshot dated on or before D) is exactly the state the
generator's own model has on D. `states()` yields the full table on every snapshot day.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from dagster_project.lib.landing_contract import TABLES_BY_NAME


def key_of(table: str, row: dict) -> str:
    return "|".join(str(row[k]) for k in TABLES_BY_NAME[table].key)


class Archive:
    def __init__(self, snap_days: list[int]):
        self.snap_days = list(snap_days)
        self._snap = set(snap_days)
        self.base: dict[str, pd.DataFrame] = {}
        self.ops: dict[int, list] = defaultdict(list)

    def set_base(self, table: str, df: pd.DataFrame) -> None:
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
        """Yield (day, {table: DataFrame}) for every snapshot day, in order."""
        cur = {t: df.copy() for t, df in self.base.items()}
        for day in self.snap_days:
            ops = self.ops.get(day, [])
            for table in {o[0] for o in ops}:  # never mutate a frame an earlier state shares
                cur[table] = cur[table].copy()
            pend_ins: dict[str, list] = defaultdict(list)
            for table, op, key, payload in ops:
                df = cur[table]
                if op == "upd":
                    if pend_ins[table]:  # flush inserts first so updates can reach them
                        cur[table] = df = _concat(table, df, pend_ins.pop(table))
                    if key not in df.index:
                        raise KeyError(f"{table}: update of unknown key {key} on day {day}")
                    for c, v in payload.items():
                        df.at[key, c] = v
                elif op == "ins":
                    pend_ins[table].append((key, payload))
                elif op == "del":
                    if pend_ins[table]:
                        cur[table] = df = _concat(table, df, pend_ins.pop(table))
                    cur[table] = df.drop(index=key)
            for table, rows in pend_ins.items():
                if rows:
                    cur[table] = _concat(table, cur[table], rows)
            yield day, dict(cur)


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
