"""Per-customer text columns held as numbers and turned into strings on demand.

At 25 million customers an object array of Python strings costs ~70 bytes a value, and the
world has a dozen such columns (ids, names, addresses, mobiles, dates, codes): more memory
than the machine has. Here a column keeps what determines its values (the index for ids,
the drawn indices for names, a day number for dates, a small code for codes) and builds a
pyarrow string array for the rows a chunk of a landing file needs (`col.pa(idx)`).

`col[i]` for a scalar index gives the str, for an index array / mask an object array, so
code that reads single values (the injections, the plan's descriptions) reads them as it
would from an array of strings.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = dt.date(1970, 1, 1)


def _index(key, n: int) -> np.ndarray:
    if isinstance(key, slice):
        return np.arange(n)[key]
    a = np.asarray(key)
    if a.dtype == bool:
        return np.flatnonzero(a)
    return a.astype(np.int64, copy=False)


class Col:
    """A lazily formatted string column of length `n`."""

    n: int

    def __len__(self) -> int:
        return self.n

    def pa(self, idx: np.ndarray) -> pa.Array:  # pragma: no cover - interface
        raise NotImplementedError

    def __getitem__(self, key):
        if np.ndim(key) == 0 and not isinstance(key, slice):
            return self.pa(np.array([int(key)], dtype=np.int64))[0].as_py()
        return np.asarray(self.pa(_index(key, self.n)).to_pylist(), dtype=object)

    def __iter__(self):
        return iter(self[np.arange(self.n)])


def strings(a) -> pa.Array:
    """An object / str array as a pyarrow string array."""
    return pa.array(np.asarray(a, dtype=object), type=pa.string())


class IdCol(Col):
    """prefix + decimal digits of `num(idx)` without its first `drop` characters (a leading
    1 of 10**k + x keeps the zero padding of x to k digits)."""

    def __init__(self, n: int, num, prefix: str = "", drop: int = 0):
        self.n, self.num, self.prefix, self.drop = n, num, prefix, drop

    def pa(self, idx):
        s = pc.cast(pa.array(self.num(np.asarray(idx, dtype=np.int64))), pa.string())
        if self.drop:
            s = pc.utf8_slice_codeunits(s, self.drop)
        if self.prefix:
            s = pc.binary_join_element_wise(self.prefix, s, "")
        return s


class CodeCol(Col):
    """A code column (a handful of distinct values) as int8 codes into `vocab`."""

    def __init__(self, codes: np.ndarray, vocab: list[str]):
        self.codes = np.asarray(codes, dtype=np.int8)
        self.vocab = list(vocab)
        self.n = len(self.codes)

    @classmethod
    def where(cls, cond, yes: str, no: str) -> CodeCol:
        return cls(np.where(cond, 0, 1), [yes, no])

    def code(self, value: str) -> int:
        if value not in self.vocab:
            self.vocab.append(value)
        return self.vocab.index(value)

    def __setitem__(self, key, value):
        if isinstance(value, str):
            self.codes[key] = self.code(value)
        else:
            vals = np.asarray(value, dtype=object)
            self.codes[key] = np.array([self.code(v) for v in vals], dtype=np.int8)

    def values(self, idx=None) -> np.ndarray:
        """The str values (object array) of `idx` (all when None)."""
        c = self.codes if idx is None else self.codes[idx]
        return np.asarray(self.vocab, dtype=object)[c]

    def pa(self, idx):
        return pa.array(self.vocab, type=pa.string()).take(pa.array(self.codes[idx]))


class DateCol(Col):
    """ISO dates held as days since 1970-01-01 (int32)."""

    def __init__(self, days: np.ndarray):
        self.days = np.asarray(days, dtype=np.int32)
        self.n = len(self.days)

    @classmethod
    def from_offsets(cls, first: dt.date, offsets) -> DateCol:
        return cls(np.asarray(offsets, dtype=np.int64) + (first - EPOCH).days)

    def copy(self) -> DateCol:
        return DateCol(self.days.copy())

    def __setitem__(self, key, value: str):
        self.days[key] = (dt.date.fromisoformat(value) - EPOCH).days

    def pa(self, idx):
        return pc.cast(pa.array(self.days[idx], type=pa.date32()), pa.string())


class PersonNames(Col):
    """Surname + one or two given-name characters, from the drawn indices (names.py)."""

    def __init__(self, s, g1, g2, two, surnames: list[str], given: list[str]):
        self.s = np.asarray(s, dtype=np.int16)
        self.g1 = np.asarray(g1, dtype=np.int16)
        self.g2 = np.asarray(g2, dtype=np.int16)
        self.two = np.asarray(two, dtype=bool)
        self.surnames = pa.array(surnames, type=pa.string())
        self.given = pa.array(given + [""], type=pa.string())  # the last: no second character
        self.n = len(self.s)

    def take(self, idx) -> PersonNames:
        out = PersonNames.__new__(PersonNames)
        out.surnames, out.given, out.n = self.surnames, self.given, len(np.atleast_1d(idx))
        for k in ("s", "g1", "g2", "two"):
            setattr(out, k, getattr(self, k)[idx])
        return out

    def replaced(self, idx, other: PersonNames) -> PersonNames:
        """A copy whose rows `idx` hold the names of `other` (of length len(idx))."""
        out = PersonNames.__new__(PersonNames)
        out.surnames, out.given, out.n = self.surnames, self.given, self.n
        for k in ("s", "g1", "g2", "two"):
            a = getattr(self, k).copy()
            a[idx] = getattr(other, k)
            setattr(out, k, a)
        return out

    def pa(self, idx):
        none = len(self.given) - 1
        g2 = np.where(self.two[idx], self.g2[idx], none)
        return pc.binary_join_element_wise(
            self.surnames.take(pa.array(self.s[idx])),
            self.given.take(pa.array(self.g1[idx])),
            self.given.take(pa.array(g2)),
            "",
        )


class Overlay(Col):
    """`base` with the values of a few rows replaced (sorted row indices `at`, str values)."""

    def __init__(self, base: Col, at: np.ndarray, values):
        self.base = base
        self.n = base.n
        order = np.argsort(at, kind="stable")
        self.at = np.asarray(at, dtype=np.int64)[order]
        self.values = strings(np.asarray(values, dtype=object)[order])

    def pa(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        out = self.base.pa(idx)
        if not len(self.at):
            return out
        pos = np.minimum(np.searchsorted(self.at, idx), len(self.at) - 1)
        hit = self.at[pos] == idx
        if not hit.any():
            return out
        repl = self.values.take(pa.array(pos))
        return pc.if_else(pa.array(hit), repl, out)


class AddressCol(Col):
    """青山市 + county + town + village + house number + 号 (names.addresses)."""

    def __init__(self, county, town, village, house, counties, towns, villages):
        self.county = np.asarray(county, dtype=np.int32)
        self.town = np.asarray(town, dtype=np.int16)
        self.village = np.asarray(village, dtype=np.int16)
        self.house = np.asarray(house, dtype=np.int32)
        self.counties = strings(counties)
        self.towns = strings(towns)
        self.villages = strings(villages)
        self.n = len(self.county)

    def pa(self, idx):
        return pc.binary_join_element_wise(
            "青山市",
            self.counties.take(pa.array(self.county[idx])),
            self.towns.take(pa.array(self.town[idx])),
            self.villages.take(pa.array(self.village[idx])),
            pc.cast(pa.array(self.house[idx]), pa.string()),
            "号",
            "",
        )


class MobileCol(Col):
    """A 3-digit prefix + 8 digits (zero padded)."""

    def __init__(self, prefix, number, prefixes: list[str]):
        self.prefix = np.asarray(prefix, dtype=np.int8)
        self.number = np.asarray(number, dtype=np.int32)
        self.prefixes = pa.array(prefixes, type=pa.string())
        self.n = len(self.prefix)

    def codes(self) -> np.ndarray:
        """Every value as one number: prefix index * 10**8 + number."""
        return self.prefix.astype(np.int64) * 10**8 + self.number

    def pa(self, idx):
        digits = pc.utf8_slice_codeunits(
            pc.cast(pa.array(self.number[idx].astype(np.int64) + 10**8), pa.string()), 1
        )
        return pc.binary_join_element_wise(
            self.prefixes.take(pa.array(self.prefix[idx])), digits, ""
        )
