"""The official MSHP Charge Code table (``--charge-codes``, headerless as published): read, and
its codes the shipped reference does not annotate classified by their statute, NCIC category and wording."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from expunge.law import readings
from expunge.normalize.catalog import (
    CODE_COLUMNS,
    DRUG_FAMILIES,
    MSHP_COLUMNS,
    CatalogError,
    Reference,
    _digest,
    _with_dates,
    shipped_reference,
)
from expunge.normalize.descriptions import describe
from expunge.normalize.statutes import statute_facts


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
