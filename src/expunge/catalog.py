"""The offense catalog: what the normalizer matches against.

* the **reference** the project ships (``law/offense_codes.csv``: 322 MSHP codes with
  our legal reading, its reason and citation; ``law/statutes.csv``), optionally extended with an **official
  MSHP Charge Code CSV** (``--charge-codes``, headerless as published), whose other codes
  are classified by their statute and description;
* the **crosswalk** clerks correct (``--crosswalk``): description or charge code -> offense
  family, substance, statute, level, class, amount; applied before any fuzzy matching;
* the **thresholds** (``reference/normalization.yaml``).

Each piece has a version (a hash) that the manifest records and the description cache keys on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
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
    """A shipped file: the law's readings in ``law/``, the matcher's tables in ``reference/``."""
    folder = "law" if name in ("offense_codes.csv", "statutes.csv") else "reference"
    return (resources.files("expunge") / folder / name).read_bytes()


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds of the matcher (``reference/normalization.yaml``)."""

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
    """The reference the project ships (``src/expunge/law/`` and ``src/expunge/reference/``)."""
    files = [_package_file(n) for n in ("offense_codes.csv", "statutes.csv", "abbreviations.csv")]
    return Reference(codes=_with_dates(_csv(files[0])), statutes=_csv(files[1]), version=_digest(*files))


def read_mshp_charge_codes(path: str | Path) -> pd.DataFrame:
    """Read an MSHP Charge Code CSV as published (no header, the official column order) or
    with the header row of ``../shared/data/mshp``.

    Raises:
        CatalogError: the file does not have the official columns.
    """
    p = Path(path)
    if not p.is_file():
        raise CatalogError(f"Charge code table {p} does not exist. Check the path given with --charge-codes.")
    raw = p.read_bytes()
    first = raw.split(b"\n", 1)[0].decode("latin-1")
    has_header = "charge_code" in first.lower()
    import io

    table = pd.read_csv(io.BytesIO(raw), dtype="str", keep_default_na=False, header=0 if has_header else None,
                        encoding="latin-1")
    if not has_header:
        if table.shape[1] != len(MSHP_COLUMNS):
            raise CatalogError(
                f"{p.name} has {table.shape[1]} columns; the MSHP Charge Code CSV has {len(MSHP_COLUMNS)} "
                "(legacy code, type, class, dates, ... charge code, DNA). Download the 'Charge Code CSV' from MSHP.")
        table.columns = list(MSHP_COLUMNS)
    missing = set(MSHP_COLUMNS) - set(table.columns)
    if missing:
        raise CatalogError(f"{p.name} lacks the MSHP columns {', '.join(sorted(missing))}.")
    return table


def classify_mshp(table: pd.DataFrame, base: Reference) -> pd.DataFrame:
    """Reference rows for MSHP codes the shipped reference does not annotate.

    The family and substance scope come from the code's statute (statute table, chapter
    default) and its long description, read by the same rules as any export description.
    """
    from expunge.law import readings
    from expunge.offenses import describe, statute_facts

    t = table.copy()
    t["charge_code"] = t["charge_code"].str.strip().str.upper()
    parts = t["charge_code"].str.extract(
        r"^(?P<section>[^-]+)-(?P<seq>\d{3})(?P<fp>[YN]?)(?P<year>\d{4})?(?P<ncic>\d{2})?")
    t = t[parts["seq"].notna()]
    parts = parts[parts["seq"].notna()]
    t["code"] = parts["section"] + "-" + parts["seq"]
    known = set(base.codes["code"])
    fresh = ~t["code"].isin(known)
    t, parts = t[fresh].reset_index(drop=True), parts[fresh].reset_index(drop=True)
    text = (t["long_description"].where(t["long_description"] != "", t["short_description"]))
    desc = describe(text.reset_index(drop=True))
    section = parts["section"].where(~parts["section"].str.startswith("ORD"))
    stf = statute_facts(section, pd.Series([None] * len(t), dtype="object"), base)
    drug_statute = stf["offense_family"].isin(["DRUG_UNSPECIFIED"]) | stf["explicit"]
    family = desc["desc_family"].where(
        drug_statute | desc["desc_family"].isin(["DUI", "WEAPON_WHILE_POSSESSING"]) | section.isna(),
        stf["offense_family"])
    # The code's NCIC category is MSHP's own classification of the offense: outside
    # category 35 (dangerous drugs) a code is not a drug offense, even where its wording
    # mentions drugs (weapons or liquor at a jail, child endangerment, wildlife "DRG" =
    # "during"); inside it, a code whose wording names no conduct is an unspecified drug one.
    ncic = parts["ncic"].fillna(t["ncic_category"]).str.strip().str.zfill(2)
    drug_code = ncic == readings()["ncic"]["drug_category"]
    unread = stf["offense_family"].fillna("NON_DRUG").where(~drug_code, "DRUG_UNSPECIFIED")
    family = family.where(family != "UNKNOWN", unread)
    family = family.where(~(stf["explicit"] & stf["offense_family"].isin(["DUI", "WEAPON_WHILE_POSSESSING"])),
                          stf["offense_family"])
    family = family.where(drug_code | ~family.isin(DRUG_FAMILIES), "NON_DRUG")
    scope = desc["desc_substance"].map({"MARIJUANA": "MJ", "THC": "MJ", "CONFLATED": "MJ_SYN",
                                        "SYNTHETIC_CANNABINOID": "SYN", "OTHER_DRUG": "OTHER",
                                        "EXCEPT35": "EXCEPT35"})
    scope = scope.fillna(stf["substance_scope"]).fillna("NONE")
    out = pd.DataFrame({
        "code": t["code"], "section": parts["section"], "seq": parts["seq"], "fingerprint": parts["fp"],
        "version_year": parts["year"].fillna(""), "ncic_category": parts["ncic"].fillna(t["ncic_category"]),
        "legacy_code": t["legacy_charge_code"].str.strip(), "effective_date": t["effective_date"],
        "inactive_date": t["inactive_date"], "level": t["charge_type"].str.strip(),
        "class": t["classification"].str.strip(), "offense_family": family, "substance_scope": scope,
        "statute": section.fillna("ORDINANCE"), "amount_max_g": desc["desc_amount_g"].astype("string").fillna(""),
        "short_description": t["short_description"].str.strip(), "long_description": t["long_description"].str.strip(),
        "reading_reason": ("classified from the code's statute, MSHP description and NCIC category "
                           + ncic.fillna("?") + " (not annotated by the project)"),
        "reading_citation": ("§ " + section + " RSMo").fillna("local ordinance"),
    })
    return out[list(CODE_COLUMNS)]


def load_reference(charge_codes: str | Path | None = None) -> Reference:
    """The shipped reference, extended with an official MSHP Charge Code CSV when given."""
    base = shipped_reference()
    if charge_codes is None:
        return base
    return _extended_reference(str(Path(charge_codes).resolve()), Path(charge_codes).stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _extended_reference(path: str, _mtime: int) -> Reference:
    base = shipped_reference()
    table = read_mshp_charge_codes(path)
    extra = classify_mshp(table, base)
    codes = pd.concat([base.codes[list(CODE_COLUMNS)], extra], ignore_index=True)
    digest = _digest(base.version, Path(path).read_bytes())
    return Reference(codes=_with_dates(codes), statutes=base.statutes, version=digest,
                     sources=("shipped", f"mshp:{Path(path).name}"))


# --------------------------------------------------------------------------- crosswalk

CROSSWALK_COLUMNS = ("match_on", "value", "offense_family", "substance", "statute", "level", "class", "amount_g",
                     "note", "confirmed_by", "confirmed_on")


@dataclass(frozen=True)
class Crosswalk:
    """Clerk-confirmed answers: charge code or description -> offense facts."""

    by_code: pd.DataFrame
    by_text: pd.DataFrame
    sha256: str
    path: str
    rows: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)


def load_crosswalk(path: str | Path) -> Crosswalk:
    """Read and validate a crosswalk CSV (columns ``CROSSWALK_COLUMNS``; only ``match_on``,
    ``value`` and one fact are required).

    Raises:
        CatalogError: naming every bad row and column.
    """
    from expunge.law.values import CLASSES, FAMILIES, LEVELS, SUBSTANCES
    from expunge.offenses import parse_charge_codes
    from expunge.text import canonicalize

    p = Path(path)
    if not p.is_file():
        raise CatalogError(f"Crosswalk {p} does not exist. Check the path given with --crosswalk.")
    raw = p.read_bytes()
    table = _csv(raw)
    missing = {"match_on", "value"} - set(table.columns)
    if missing:
        raise CatalogError(f"Crosswalk {p.name} needs the columns match_on and value (and the facts to set).")
    for c in CROSSWALK_COLUMNS:
        if c not in table:
            table[c] = ""
    problems = []
    allowed = {"offense_family": set(FAMILIES), "substance": set(SUBSTANCES), "level": set(LEVELS),
               "class": set(CLASSES)}
    for i, row in table.iterrows():
        line = i + 2  # header is line 1
        if row["match_on"] not in ("description", "charge_code"):
            problems.append(f"line {line}, match_on: {row['match_on']!r} must be description or charge_code")
        for col, values in allowed.items():
            if row[col] and row[col] not in values:
                problems.append(f"line {line}, {col}: {row[col]!r} is not one of {', '.join(sorted(values))}")
        if row["amount_g"]:
            try:
                float(row["amount_g"])
            except ValueError:
                problems.append(f"line {line}, amount_g: {row['amount_g']!r} is not a number of grams")
        if not any(row[c] for c in ("offense_family", "substance", "statute", "level", "class", "amount_g")):
            problems.append(f"line {line}: the row sets no fact")
    if problems:
        listing = "\n".join(f"  - {x}" for x in problems)
        raise CatalogError(f"Crosswalk {p.name} has {len(problems)} problem(s):\n{listing}")
    facts = ["offense_family", "substance", "statute", "level", "class", "amount_g"]
    codes = table[table["match_on"] == "charge_code"].copy()
    codes["key"] = parse_charge_codes(codes["value"])["charge_code_normalized"].fillna(codes["value"].str.upper())
    texts = table[table["match_on"] == "description"].copy()
    texts["key"] = canonicalize(texts["value"].reset_index(drop=True))["text"].to_numpy()
    by_code = codes.drop_duplicates("key", keep="last").set_index("key")[facts].replace("", None)
    by_text = texts.drop_duplicates("key", keep="last").set_index("key")[facts].replace("", None)
    return Crosswalk(by_code=by_code, by_text=by_text, sha256=hashlib.sha256(raw).hexdigest(), path=str(p),
                     rows=len(table))
