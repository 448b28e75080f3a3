"""Disposition classes from free-text dispositions.

Stage: normalize. Input: ``disposition`` (free text such as "GUILTY PLEA", "SIS",
"NOLLE PROSEQUI", "DISMISSED BY PROSECUTOR"). Output: ``disposition_class`` (CONVICTED,
SIS, NONCONVICTION, PENDING, UNKNOWN) and ``disposition_status`` (RECOGNIZED, MISSING,
UNRECOGNIZED), so that "missing" and "present but not understood" stay apart.

A suspended imposition of sentence (SIS) is not a conviction in Missouri; a suspended
execution of sentence (SES) is (AMENDMENT3_RESEARCH.md A5). Patterns are tried in order,
first match wins: acquittals before "GUILTY", SIS before convictions, revoked SIS counts
as a conviction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DISPOSITION_CLASSES = ("CONVICTED", "SIS", "NONCONVICTION", "PENDING", "UNKNOWN")

_RULES: tuple[tuple[str, str], ...] = (
    (r"\bNOT\s+GUILTY\b|\bACQUIT|\bNO\s+TRUE\s+BILL\b|\bNOT\s+PROVEN\b", "NONCONVICTION"),
    (r"\bSIS\b.*\bREVOK|\bREVOK\w*.*\bSIS\b", "CONVICTED"),
    (r"\bSIS\b|\bSUSP\w*\s+IMP\w*|\bIMPOSITION\s+OF\s+SENTENCE\s+SUSP", "SIS"),
    (
        r"\bGUILTY\b|\bGLTY\b|\bGUILT\b|\bCONVICT|\bSES\b|\bSUSP\w*\s+EXEC|\bPLEA\b|\bPLED\b|"
        r"\bALFORD\b|\bNOLO\b|\bSENTENCED\b|\bJUDGMENT\b|\bFOUND\s+G\b|\bPG\b|\bFG\b",
        "CONVICTED",
    ),
    (
        r"\bDISM\w*|\bDSMD\b|\bNOLLE\b|\bNOL\s*PROS|\bNOL\.?\s*PR|\bNP\b|\bDWOP\b|\bREFUSED\b|"
        r"\bNOT\s+FILED\b|\bNO\s+CHARGE|\bWITHDRAWN\b|\bDECLINED\b|\bQUASH|\bVACATED\b",
        "NONCONVICTION",
    ),
    (
        r"\bPENDING\b|\bOPEN\b|\bACTIVE\s+CASE\b|\bWARRANT\b|\bCONTINU\w*|\bAWAITING\b|"
        r"\bNOT\s+DISPOSED\b|\bSET\s+FOR\b|\bUNDISPOSED\b|\bFTA\b",
        "PENDING",
    ),
)


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
