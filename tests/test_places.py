"""Every county lands in its judicial circuit, from the law's table of counties."""

from __future__ import annotations

import pandas as pd
import pytest

from expunge.ingest.places import circuit, county_name
from expunge.law import county_circuits


def test_the_table_has_missouris_114_counties_and_st_louis_city_in_46_circuits():
    table = county_circuits()
    assert len(table) == 115 and "ST. LOUIS CITY" in table
    assert sorted(set(map(int, table.values()))) == list(range(1, 47))


def test_every_county_has_the_circuit_the_courts_list_gives(shared_data):
    real = pd.read_csv(shared_data / "real" / "mo_county_circuits.csv", dtype=str)
    ours = county_circuits()
    wrong = [(c, ours.get(c), n) for c, n in zip(real["county"], real["judicial_circuit"], strict=True)
             if ours.get(c) != n]
    assert len(real) == 115 and wrong == []


@pytest.mark.parametrize(("written", "expected"), [
    ("Boone County", "BOONE"), ("saint charles", "ST. CHARLES"), ("St Louis City", "ST. LOUIS CITY"),
    ("City of St. Louis", "ST. LOUIS CITY"), ("Ste Genevieve", "STE. GENEVIEVE"), ("De Kalb", "DEKALB"),
    ("Mc Donald", "MCDONALD"), (None, "UNKNOWN"),
])
def test_county_spellings_read_as_one_name(written, expected):
    assert county_name(pd.Series([written])).iloc[0] == expected


def test_the_circuit_comes_from_the_county_not_the_court_name():
    county = pd.Series(["BOONE", "ST. LOUIS CITY"])
    court = pd.Series(["COLUMBIA MUNICIPAL COURT", "22ND JUDICIAL CIRCUIT"])
    assert circuit(county, court).tolist() == ["13", "22"]


def test_an_unknown_county_takes_the_circuit_in_the_court_name_or_none():
    county = pd.Series(["UNKNOWN", "UNKNOWN"])
    court = pd.Series(["16TH JUDICIAL CIRCUIT", "MUNICIPAL COURT"])
    assert circuit(county, court).tolist() == ["16", "UNKNOWN"]
