"""Recall and precision of the audit findings against the generator's truth, per rule code.

    from tests.rule_scoring import score
    table = score("work/warehouse.duckdb", "data/truth")          # a pandas DataFrame

Unit of scoring: the finding-day. Every row of <truth>/anomalies.csv (rule_code, tg_id,
org_no, cons_no, app_no, first_date, last_date, description) stands for one label-day per
day first_date .. last_date. A label-day is recalled when a finding with the same code,
tg_id, cons_no (and app_no) exists on that day; a finding-day is precise when it matches
a label-day. Only days covered by both the labels' window and the findings' days are
scored (a run over part of the window is scored on that part).

Findings are read from the warehouse (audit.findings_daily) or, for a published file,
from marts.problem_history. Runnable: python tests/rule_scoring.py <duckdb> <truth dir>.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

KEY = ["rule_code", "day", "tg_id", "cons_no", "app_no"]
FINDING_TABLES = ("audit.findings_daily", "marts.problem_history")


def _norm(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("tg_id", "cons_no", "app_no"):
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def label_days(truth_dir: str | Path) -> pd.DataFrame:
    """One row per (rule_code, day, tg_id, cons_no, app_no) of <truth_dir>/anomalies.csv."""
    runs = pd.read_csv(Path(truth_dir) / "anomalies.csv", dtype=str, keep_default_na=False)
    rows = []
    for run in runs.itertuples(index=False):
        for day in pd.date_range(run.first_date, run.last_date, freq="D"):
            rows.append((run.rule_code, day, run.tg_id, run.cons_no, run.app_no, run.description))
    frame = pd.DataFrame(rows, columns=[*KEY, "description"])
    return _norm(frame).drop_duplicates(subset=KEY)


def finding_days(db_path: str | Path, table: str | None = None) -> pd.DataFrame:
    """One row per (rule_code, day, tg_id, cons_no, app_no) found by the pipeline."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        existing = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        candidates = [table] if table else [t for t in FINDING_TABLES if t in existing]
        if not candidates or candidates[0] not in existing:
            raise FileNotFoundError(f"{db_path}: none of {table or FINDING_TABLES} exists")
        frame = con.execute(
            f"select problem_code as rule_code, detected_date as day, tg_id, cons_no, app_no, "
            f"evidence from {candidates[0]}"
        ).df()
    return _norm(frame).drop_duplicates(subset=KEY)


def score(
    db_path: str | Path,
    truth_dir: str | Path,
    codes: list[str] | None = None,
    table: str | None = None,
) -> pd.DataFrame:
    """Per rule code: label_days, recalled, recall, finding_days, precise, precision."""
    labels = label_days(truth_dir)
    found = finding_days(db_path, table)
    if len(found):
        first, last = max(labels["day"].min(), found["day"].min()), found["day"].max()
        labels = labels[(labels["day"] >= first) & (labels["day"] <= last)]
        found = found[(found["day"] >= first) & (found["day"] <= last)]
    codes = codes or sorted(set(labels["rule_code"]) | set(found["rule_code"]))
    matched = labels.merge(found[KEY], on=KEY, how="inner")
    out = []
    for code in codes:
        n_labels = int((labels["rule_code"] == code).sum())
        n_found = int((found["rule_code"] == code).sum())
        n_match = int((matched["rule_code"] == code).sum())
        out.append(
            {
                "rule_code": code,
                "label_days": n_labels,
                "recalled": n_match,
                "recall": n_match / n_labels if n_labels else float("nan"),
                "finding_days": n_found,
                "precise": n_match,
                "precision": n_match / n_found if n_found else float("nan"),
            }
        )
    return pd.DataFrame(out)


def misses(
    db_path: str | Path, truth_dir: str | Path, code: str, table: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(label-days not found, finding-days not labelled) of one code, for diagnosis."""
    labels = label_days(truth_dir)
    found = finding_days(db_path, table)
    labels, found = labels[labels["rule_code"] == code], found[found["rule_code"] == code]
    if len(found):
        first, last = max(labels["day"].min(), found["day"].min()), found["day"].max()
        labels = labels[(labels["day"] >= first) & (labels["day"] <= last)]
        found = found[(found["day"] >= first) & (found["day"] <= last)]
    both = labels.merge(found, on=KEY, how="outer", indicator=True)
    return (
        both[both["_merge"] == "left_only"][[*KEY, "description"]],
        both[both["_merge"] == "right_only"][[*KEY, "evidence"]],
    )


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit("usage: python tests/rule_scoring.py <duckdb> <truth dir> [CODE ...]")
    pd.set_option("display.width", 200)
    print(score(sys.argv[1], sys.argv[2], sys.argv[3:] or None).to_string(index=False))
