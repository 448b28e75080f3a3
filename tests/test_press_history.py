"""The delivery gap against the shape of the courts' published counts.

A synthetic history follows the statewide "cases expunged" series of the press figures
(``../shared/data/real/mo_expungement_counts_press.csv``), scaled down to the cases of three
counties of the sample: on each night the export loses as many whole eligible cases as the
series has delivered by then. The report and the history must give back exactly the
delivered and outstanding counts the history was built with, in cases and in charges.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from expunge.ops.history import load
from expunge.ops.run import run_pipeline
from tests.conftest import SAMPLE, SHARED_DATA

PRESS = SHARED_DATA / "real" / "mo_expungement_counts_press.csv"
COUNTIES = ("BOONE", "COLE", "ST. LOUIS")
#: The series' dated statewide counts of cases expunged (its 2025 figure carries no day: taken
#: as 2025-03-01), and the Supreme Court's estimate of the cases reviewed.
NIGHTS = {"2023-01-19": date(2023, 1, 19), "2023-06-08": date(2023, 6, 8), "2024-01-17": date(2024, 1, 17),
          "2025": date(2025, 3, 1)}
START = date(2022, 12, 20)

pytestmark = pytest.mark.shared


def press_series() -> tuple[dict[date, int], int]:
    if not PRESS.is_file():
        pytest.skip(f"needs the press figures in {PRESS} (the project's ../shared data folder)")
    press = pd.read_csv(PRESS, dtype=str)
    done = press["metric"].isin(["cases expunged", "expungements granted (cases)"])
    state = press[(press["geography_level"] == "state") & done & press["as_of_date"].isin(list(NIGHTS))]
    expunged = {NIGHTS[d]: int(v) for d, v in state.groupby("as_of_date")["value"].agg(lambda v: max(map(int, v)))
                .items()}  # the highest count published that day
    reviewed = press[(press["geography_level"] == "state") & press["metric"].str.startswith("cases reviewed")]
    return expunged, int(reviewed["value"].iloc[0])


@pytest.fixture(scope="module")
def press_nights(tmp_path_factory):
    expunged, reviewed = press_series()
    root = tmp_path_factory.mktemp("press")
    out = root / "out"
    export = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    export = export[export["county"].isin(COUNTIES) & (export["filing_date"] < "2022-12-08")]
    (root / "night-0.csv").write_text(export.to_csv(index=False))
    first = run_pipeline([root / "night-0.csv"], out, START, run_id="start", documents=False)
    charges = pd.read_parquet(first / "charges", columns=["case_number", "determination"])
    whole = charges.groupby("case_number")["determination"].agg(lambda d: d.str.startswith("ELIGIBLE").all())
    eligible = charges[charges["determination"].str.startswith("ELIGIBLE")]
    cases = sorted(whole[whole].index)  # cases whose every charge is eligible: expunged whole
    # scaled so the series' last count is the press share of cases expunged among those reviewed
    final = round(len(cases) * max(expunged.values()) / reviewed)
    target = {day: round(final * n / max(expunged.values())) for day, n in sorted(expunged.items())}
    nights = []
    for i, (day, delivered) in enumerate(sorted(target.items()), start=1):
        path = root / f"night-{i}.csv"
        path.write_text(export[~export["case_number"].isin(cases[:delivered])].to_csv(index=False))
        run = run_pipeline([path], out, day, run_id=f"night-{i}", documents=False, accept_shrink=True)
        nights.append((day, delivered, run, load(out)))
    return {"nights": nights, "eligible": eligible, "cases": cases,
            "eligible_cases": eligible["case_number"].nunique()}


def test_the_scaled_series_rises_night_by_night(press_nights):
    delivered = [n for _, n, _, _ in press_nights["nights"]]
    assert delivered == sorted(delivered) and 0 < delivered[0] < delivered[-1] < len(press_nights["cases"])


def test_the_history_gives_back_the_cases_delivered_and_outstanding_each_night(press_nights):
    for _, delivered, _, h in press_nights["nights"]:
        by_case = h.groupby("case_number")["status"].agg(set)
        assert (by_case == {"DELIVERED"}).sum() == delivered
        assert by_case.map(lambda s: "OUTSTANDING" in s).sum() == press_nights["eligible_cases"] - delivered


def test_the_report_gives_back_the_charges_delivered_and_outstanding_each_night(press_nights):
    eligible = press_nights["eligible"]
    previous = 0
    for _, delivered, run, _ in press_nights["nights"]:
        gone = eligible["case_number"].isin(press_nights["cases"][:delivered])
        state = pd.read_csv(run / "summary" / "delivery.csv").query("level == 'state'")
        assert state["delivered_total"].sum() == gone.sum()
        assert state["outstanding_charges"].sum() == (~gone).sum()
        assert state["delivered_since_last_night"].sum() == gone.sum() - previous
        previous = gone.sum()


def test_before_the_deadlines_automatic_charges_are_outstanding_but_not_yet_waiting(press_nights):
    day, _, run, _ = press_nights["nights"][0]
    assert day < date(2023, 6, 8)
    auto = pd.read_csv(run / "summary" / "delivery.csv").query("level == 'state' and path == 'auto'").iloc[0]
    assert auto["outstanding_charges"] > 0 and auto["waiting_charges"] == 0


def test_the_trend_holds_every_night_of_the_series(press_nights):
    run = press_nights["nights"][-1][2]
    trend = pd.read_csv(Path(run) / "summary" / "delivery_trend.csv", dtype={"as_of": str})
    assert trend["as_of"].nunique() == len(press_nights["nights"]) + 1  # and the starting night
