"""Where a case was heard, as the export spells it: the county's name in one spelling and the
judicial circuit read from the court's name."""

from __future__ import annotations

import pandas as pd


def county_name(county: pd.Series) -> pd.Series:
    """Upper case, single spaces, "SAINT"/"ST" spelled "ST."; missing -> "UNKNOWN"."""
    c = county.fillna("").astype("str").str.upper().str.replace(r"\s+", " ", regex=True).str.strip()
    c = c.str.replace(r"\bCOUNTY$", "", regex=True).str.strip()
    c = c.str.replace(r"^(?:SAINT|ST\.?)\s+", "ST. ", regex=True)
    c = c.str.replace(r"^STE\.?\s+", "STE. ", regex=True)
    return c.where(c != "", "UNKNOWN")


def circuit(court: pd.Series) -> pd.Series:
    """Judicial circuit number read from the court name ("22ND JUDICIAL CIRCUIT" -> "22")."""
    n = court.fillna("").astype("str").str.upper().str.extract(
        r"(\d{1,2})\s*(?:ST|ND|RD|TH)?\s+(?:JUDICIAL\s+)?CIRCUIT", expand=False)
    return n.str.lstrip("0").where(n.notna(), "UNKNOWN")
