"""Where a case was heard: the county's name in one spelling, and its judicial circuit from the
law's table of counties (``law/circuits.yaml``), the court's name only where the county is unknown."""

from __future__ import annotations

import pandas as pd

from expunge.law import county_circuits


def county_name(county: pd.Series) -> pd.Series:
    """Upper case, single spaces, "SAINT"/"ST" spelled "ST.", no "COUNTY", "CITY OF ST. LOUIS" as
    "ST. LOUIS CITY", "DE KALB"/"MC DONALD" closed up; missing -> "UNKNOWN"."""
    c = county.fillna("").astype("str").str.upper().str.replace(r"\s+", " ", regex=True).str.strip()
    c = c.str.replace(r"\bCOUNTY$", "", regex=True).str.strip()
    c = c.str.replace(r"^(?:SAINT|ST\.?)\s+", "ST. ", regex=True)
    c = c.str.replace(r"^STE\.?\s+", "STE. ", regex=True)
    c = c.str.replace(r"^CITY OF ST\. LOUIS$", "ST. LOUIS CITY", regex=True)
    c = c.str.replace(r"^(DE|MC) (KALB|DONALD)$", r"\1\2", regex=True)
    return c.where(c != "", "UNKNOWN")


def circuit(county: pd.Series, court: pd.Series) -> pd.Series:
    """The judicial circuit of each county (``county_name`` spelling) per the law's table; for a
    county the table does not know, the number in the court's name ("22ND JUDICIAL CIRCUIT"
    -> "22"); else "UNKNOWN"."""
    known = county.map(county_circuits())
    return known.fillna(circuit_in_court_name(court))


def circuit_in_court_name(court: pd.Series) -> pd.Series:
    """Judicial circuit number read from the court name ("22ND JUDICIAL CIRCUIT" -> "22")."""
    n = court.fillna("").astype("str").str.upper().str.extract(
        r"(\d{1,2})\s*(?:ST|ND|RD|TH)?\s+(?:JUDICIAL\s+)?CIRCUIT", expand=False)
    return n.str.lstrip("0").where(n.notna(), "UNKNOWN")
