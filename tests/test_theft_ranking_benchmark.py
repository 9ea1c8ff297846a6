"""benchmarks/theft_ranking.py: the truth it reads, the ranks and the AUC it computes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from benchmarks.theft_ranking import (
    area_ranks,
    average_rank_auc,
    ended_thefts,
    read_legitimate_drops,
    read_thieves,
)

ANOMALIES = """rule_code,tg_id,org_no,cons_no,app_no,first_date,last_date,description
L02,T1,S1,,,2026-09-23,2026-09-24,"implied by T01 C9 (ERC38 on 2026-09-16 {BYPASS})"
T01,T1,S1,C1,,2026-09-23,2026-09-25,ERC38 on 2026-09-16 {BYPASS}
T01,T1,S1,C1,,2026-09-27,2026-09-29,ERC38 on 2026-09-16 {BYPASS}
T01,T2,S2,C2,,2026-10-09,2026-10-15,ERC9 on 2026-10-02 {BYPASS}
M06,T1,S1,C3,,2026-09-16,2026-09-21,implied by M02 (no consumption from 2026-09-11 (vacant))
M02,T2,S2,C4,,2026-09-22,2026-09-23,no consumption from 2026-09-09 (vacant)
M06,T2,S2,C5,,2026-09-24,2026-09-26,consumption x0.12 from 2026-09-22 for up to 6 days
M06,T2,S2,C6,,2026-09-24,2026-09-26,consumption x5.0 from 2026-09-22 for up to 6 days
M06,T2,S2,C2,,2026-10-04,2026-10-04,implied by T01 (ERC9 on 2026-10-02 {BYPASS})
""".replace("{BYPASS}", "then metered consumption down to 25% (bypass)")


def test_thieves_are_the_t01_customers_once_with_their_event_day(tmp_path):
    (tmp_path / "anomalies.csv").write_text(ANOMALIES, encoding="utf-8")
    thieves = read_thieves(tmp_path, dt.date(2026, 10, 15))
    assert thieves[["cons_no", "tg_id", "event_code"]].values.tolist() == [
        ["C1", "T1", "ERC38"],
        ["C2", "T2", "ERC9"],
    ]
    assert thieves["theft_start"].tolist() == [dt.date(2026, 9, 16), dt.date(2026, 10, 2)]
    # a theft that starts after the day is no thief yet
    assert read_thieves(tmp_path, dt.date(2026, 10, 1))["cons_no"].tolist() == ["C1"]


def test_legitimate_drops_are_vacancies_and_short_drops_not_rises(tmp_path):
    (tmp_path / "anomalies.csv").write_text(ANOMALIES, encoding="utf-8")
    drops = read_legitimate_drops(tmp_path, dt.date(2026, 10, 15)).set_index("cons_no")
    assert sorted(drops.index) == ["C3", "C4", "C5"]
    assert drops.loc["C3", "drop_kind"] == "vacant"
    assert drops.loc["C3", "drop_start"] == dt.date(2026, 9, 11)
    assert drops.loc["C5", "drop_kind"].startswith("M06")


def test_absent_customers_rank_last_and_the_top_cut_rounds_up():
    customers = pd.DataFrame({"cons_no": ["A", "B", "C"], "tg_id": ["T1", "T1", "T2"]})
    suspects = pd.DataFrame(
        {"cons_no": ["A", "C"], "theft_score": [50.0, 10.0], "area_rank": [1, 2]}
    )
    counts = pd.Series({"T1": 21, "T2": 20})
    t = area_ranks(customers, suspects, counts).set_index("cons_no")
    assert t["area_rank"].tolist() == [1, 21, 2]
    assert t["top_cut"].tolist() == [2, 2, 1]  # ceil(21 x 5 %) = 2, 20 x 5 % = 1
    assert t["in_top_5pct"].tolist() == [True, False, False]


def test_auc_equals_the_share_of_correctly_ordered_pairs_with_ties_half():
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 5, size=300).astype(float)  # many ties
    labels = rng.random(300) < 0.2
    pos, neg = scores[labels], scores[~labels]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert abs(average_rank_auc(scores, labels) - pairs / (len(pos) * len(neg))) < 1e-12
    assert average_rank_auc(np.array([3.0, 1.0, 0.0]), np.array([True, False, False])) == 1.0
    assert np.isnan(average_rank_auc(np.zeros(3), np.zeros(3, dtype=bool)))


THEFTS = """cons_no,tg_id,kind,event_code,event_date,drop_start,drop_end,metered_share
C1,T1,theft,ERC37,2026-09-19,2026-09-20,,0.25
C2,T1,theft,,,2026-09-18,,0.45
C3,T2,theft,,,2026-09-18,2026-10-01,0.3
C4,T2,theft,,,2026-10-20,,0.3
C5,T2,vacancy,,,2026-09-05,,0.0
C6,T1,shop_closed,,,2026-09-21,,0.07
C7,T2,short_drop,,,2026-10-07,2026-10-12,0.12
C8,T2,event_decoy,ERC37,2026-09-18,,,1.0
"""


def test_thefts_csv_gives_the_thefts_lasting_on_the_day_with_and_without_events(tmp_path):
    (tmp_path / "anomalies.csv").write_text(ANOMALIES, encoding="utf-8")  # not read then
    (tmp_path / "thefts.csv").write_text(THEFTS, encoding="utf-8")
    day = dt.date(2026, 10, 15)
    thieves = read_thieves(tmp_path, day)
    # C3 was repaired on 10-01, C4 starts after the day
    assert thieves["cons_no"].tolist() == ["C1", "C2"]
    assert thieves["event_code"].tolist() == ["ERC37", ""]
    assert thieves["theft_start"].tolist() == [dt.date(2026, 9, 20), dt.date(2026, 9, 18)]
    assert ended_thefts(tmp_path, day) == {"C3"}
    drops = read_legitimate_drops(tmp_path, day).set_index("cons_no")
    assert drops["drop_kind"].to_dict() == {
        "C5": "vacancy",
        "C6": "shop_closed",
        "C7": "short_drop",
    }
