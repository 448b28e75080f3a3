"""The normalization report: how each charge's offense was found (code, statute, description,
crosswalk, fuzzy), the share of each, and the descriptions nothing matched."""

from __future__ import annotations

import pandas as pd


def normalization_report(charges: pd.DataFrame, offenses: pd.DataFrame, top: int = 50) -> dict[str, object]:
    """How the ladder did on a batch: distinct descriptions, share of rows per rung and
    source, the review band, and the most frequent descriptions it could not match."""
    desc = charges["charge_description"] if "charge_description" in charges else pd.Series(dtype="str")
    n = max(len(offenses), 1)
    unmatched = offenses["offense_family"] == "UNKNOWN"
    counts = desc[unmatched].value_counts().head(top)
    return {
        "rows": len(offenses),
        "distinct_descriptions": int(desc.nunique()),
        "share_by_method": {k: round(v / n, 4) for k, v in offenses["match_method"].value_counts().items()},
        "share_by_source": {k: round(v / n, 4) for k, v in offenses["match_source"].value_counts().items()},
        "review_band_rows": int((offenses["desc_band"] == "review").sum()),
        "unmatched_rows": int(unmatched.sum()),
        "top_unmatched_descriptions": [{"description": str(k), "rows": int(v)} for k, v in counts.items()],
    }
