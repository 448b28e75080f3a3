"""Disposition classes from free-text dispositions.

Read by ``facts`` before the rules run. Input: ``disposition`` (free text such as "GUILTY PLEA", "SIS",
"NOLLE PROSEQUI", "DISMISSED BY PROSECUTOR"). Output: ``disposition_class`` (CONVICTED,
SIS, NONCONVICTION, PENDING, UNKNOWN) and ``disposition_status`` (RECOGNIZED, MISSING,
UNRECOGNIZED), so that "missing" and "present but not understood" stay apart.

A suspended imposition of sentence (SIS) is not a conviction in Missouri; a suspended
execution of sentence (SES) is (AMENDMENT3_RESEARCH.md A5). Patterns are tried in order,
first match wins: acquittals before "GUILTY", SIS before convictions, revoked SIS counts
as a conviction. The spellings are the law's data: ``law/readings.yaml``, ``dispositions``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expunge.law import readings
from expunge.law.values import DISPOSITION_CLASSES

__all__ = ["DISPOSITION_CLASSES", "disposition_class"]

#: (pattern, class) in order, from ``law/readings.yaml`` (``dispositions``).
_RULES: tuple[tuple[str, str], ...] = tuple((p, c) for c, p in readings()["dispositions"]["patterns"])


def disposition_class(disposition: pd.Series) -> pd.DataFrame:
    """Classify free-text dispositions. Expects distinct values (works on any).

    Returns:
        ``disposition_class`` and ``disposition_status`` aligned to ``disposition``.
    """
    text = disposition.fillna("").astype("str").str.upper().str.replace(r"[^A-Z0-9]+", " ", regex=True)
    text = text.str.strip()
    conditions = [text.str.contains(pattern, regex=True) for pattern, _ in _RULES]
    klass = np.select(conditions, [c for _, c in _RULES], default="UNKNOWN")
    missing = text == ""
    status = np.select([missing, klass == "UNKNOWN"], ["MISSING", "UNRECOGNIZED"], "RECOGNIZED")
    return pd.DataFrame(
        {"disposition_class": klass, "disposition_status": status}, index=disposition.index
    )
