"""The offense catalog: what the normalizer matches against.

* the **reference** the project ships (``law/offense_codes.csv``: 322 MSHP codes with
  our legal reading, its reason and citation; ``law/statutes.csv``), optionally extended with an **official
  MSHP Charge Code CSV** (``--charge-codes``, headerless as published), whose other codes
  are classified by their statute and description;
* the **crosswalk** clerks correct (``--crosswalk``): description or charge code -> offense
  family, substance, statute, level, class, amount; applied before any fuzzy matching;
* the **thresholds** (``normalize/tables/normalization.yaml``).

Each piece has a version (a hash) that the manifest records and the description cache keys on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from expunge.errors import ExpungeError

#: Official column order of the MSHP Charge Code CSV (ChargeCodeFileLayoutAugust2021).
MSHP_COLUMNS = (
    "legacy_charge_code", "charge_type", "classification", "effective_date", "inactive_date", "reportable",
    "short_description", "not_applicable", "attempt", "accessory", "conspiracy", "code_category", "ncic_category",
    "statute", "long_description", "uniform_citation_ind", "rec_of_conviction", "case_type", "charge_code",
    "dna_at_arrest",
)
CODE_COLUMNS = (
    "code", "section", "seq", "fingerprint", "version_year", "ncic_category", "legacy_code", "effective_date",
    "inactive_date", "level", "class", "offense_family", "substance_scope", "statute", "amount_max_g",
    "short_description", "long_description", "reading_reason", "reading_citation",
)


#: Families of drug offenses (what a code outside the NCIC drug category cannot be).
DRUG_FAMILIES = ("MJ_POSSESSION", "PARAPHERNALIA", "MJ_DELIVERY", "MJ_MANUFACTURE", "MJ_TRAFFICKING",
                 "DELIVERY_TO_MINOR", "PROTECTED_LOCATION", "OTHER_DRUG", "DRUG_UNSPECIFIED")


class CatalogError(ExpungeError):
    """A charge-code table or crosswalk given by the user cannot be used."""


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
    return h.hexdigest()[:12]


def _package_file(name: str) -> bytes:
    """A shipped file: the law's readings in ``expunge/law/``, the matcher's tables in ``normalize/tables/``."""
    folder = "expunge.law" if name in ("offense_codes.csv", "statutes.csv") else "expunge.normalize.tables"
    return (resources.files(folder) / name).read_bytes()


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds of the matcher (``normalize/tables/normalization.yaml``)."""

    token_fuzzy_accept: float = 80.0
    token_review_floor: float = 75.0
    reference_accept: float = 90.0
    reference_review_floor: float = 60.0
    reference_scorer: str = "token_sort_ratio"
    top_candidates: int = 3
    sha256: str = ""

    @classmethod
    def load(cls, path: str | Path | None = None) -> MatchConfig:
        raw = Path(path).read_bytes() if path else _package_file("normalization.yaml")
        doc = yaml.safe_load(raw) or {}
        known = {f for f in cls.__dataclass_fields__ if f != "sha256"}
        unknown = set(doc) - known - {"version"}
        if unknown:
            raise CatalogError(f"Unknown normalization setting(s): {', '.join(sorted(unknown))}.")
        return cls(**{k: doc[k] for k in known if k in doc}, sha256=_digest(raw))

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# --------------------------------------------------------------------------- reference


@dataclass(frozen=True)
class Reference:
    """Charge codes (with versions) and statutes the ladder looks up."""

    codes: pd.DataFrame
    statutes: pd.DataFrame
    version: str
    sources: tuple[str, ...] = ("shipped",)


def _with_dates(codes: pd.DataFrame) -> pd.DataFrame:
    codes = codes.copy()
    codes["effective"] = pd.to_datetime(codes["effective_date"], format="%Y%m%d", errors="coerce")
    codes["inactive"] = pd.to_datetime(
        codes["inactive_date"].str.replace("99991231", "22620101"), format="%Y%m%d", errors="coerce")
    codes["effective"] = codes["effective"].fillna(pd.Timestamp("1900-01-01"))
    codes["inactive"] = codes["inactive"].fillna(pd.Timestamp("2262-01-01"))
    return codes


def _csv(data: bytes) -> pd.DataFrame:
    import io

    return pd.read_csv(io.BytesIO(data), dtype="str", keep_default_na=False)


@lru_cache(maxsize=1)
def shipped_reference() -> Reference:
    """The reference the project ships (``src/expunge/law/`` and ``src/expunge/normalize/tables/``)."""
    files = [_package_file(n) for n in ("offense_codes.csv", "statutes.csv", "abbreviations.csv")]
    return Reference(codes=_with_dates(_csv(files[0])), statutes=_csv(files[1]), version=_digest(*files))


# --------------------------------------------------------------------------- crosswalk


