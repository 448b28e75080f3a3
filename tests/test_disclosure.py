"""Disclosure control, tried as an attacker would: no suppressed charge count of the summaries
can be worked out from the published ones.

Charge counts add up, so the attacker writes every count a run publishes (the summary tables,
the headline, the manifest's counts of what changed) as a sum of cells of the finest table
(charges by county, offense year, offense family, determination and reason) and asks, by
linear algebra, whether a blank cell is a combination of published ones: row, column and
grand totals, bounds (sums of determinations), differences between tables and between two
consecutive nights. The delivery gap (``delivery.csv``) counts charges too, among them
charges gone from the export, so its cells are sums of the same finest cells refined by each
charge's delivery state (from the output folder's delivery history: the clerk's side). Then
it reasons with whole numbers: counts are never negative and a blank row holds at least one
charge, so a linear program gives each blank cell its least and greatest possible value,
and a cell with one whole number between them is pinned. The test reads only what a run
writes; the charges it uses to know which finest cells exist are the
clerk's side of the same run.
"""

from __future__ import annotations

import json
import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
from conftest import AS_OF

from expunge.ingest.csvfiles import write_csv
from expunge.ops.history import load as load_history
from expunge.publish import gap, history
from expunge.publish.disclosure import Cells, Table, cells_of, joined, protect, protect_in_turn, subset
from expunge.publish.rollups import OFFENSE_GROUPS, PERIOD_STARTS, Rollups, suppress

ELIGIBLE = {"ELIGIBLE_AUTO", "ELIGIBLE_PETITION"}
BOUNDS = {"charges_lower": ELIGIBLE, "charges_upper": ELIGIBLE | {"NEEDS_REVIEW"}}
#: Each summary's keys, as its CSV names them.
KEYS = {"by_county": ["county", "determination"], "by_determination": ["determination", "reason_code"],
        "sizing": ["county", "offense_period", "determination"],
        "by_offense": ["offense_group", "offense_period", "determination"],
        "bounds_by_county": ["county"], "bounds_by_year": ["offense_year"]}
FINEST = ["county", "offense_year", "offense_family", "determination", "reason_code"]


def period(year: float) -> str:
    starts = PERIOD_STARTS
    if pd.isna(year):
        return ""
    if year < starts[0]:
        return f"before {starts[0]}"
    for a, b in pairwise(starts):
        if a <= year < b:
            return f"{a}-{b - 1}"
    return f"{starts[-1]} or later"


def charges_of(run: Path) -> pd.DataFrame:
    """The run's charges with every key the summaries use, as text ('' for missing)."""
    table = ds.dataset(run / "charges", format="parquet", partitioning="hive").to_table(
        columns=["case_number", "charge_seq", *FINEST])
    df = table.to_pandas()
    df["offense_period"] = df["offense_year"].map(period)
    df["offense_group"] = df["offense_family"].map(OFFENSE_GROUPS).fillna("OTHER")
    for c in df.columns:
        if c != "charge_seq":
            df[c] = df[c].astype("string").fillna("")
    df["offense_year"] = df["offense_year"].str.replace(r"\.0$", "", regex=True)
    return df


#: name, the finest cells it adds up, blank?, value: as published, or for a blank cell the true
#: count (which no attack uses as a fact: ``pinned`` only stops early once a second value is possible)
Cell = tuple[str, np.ndarray, bool, float]


def published(run: Path, rows: pd.DataFrame, atoms: np.ndarray, night: str, with_changes: bool = False) -> list[Cell]:
    """Every charge count ``run`` publishes, as the finest cells (``atoms`` of ``rows``) it adds up."""
    cells: list[Cell] = []
    det = rows[f"{night}determination"]
    charges = np.bincount(atoms[(det != "").to_numpy()], minlength=int(atoms.max()) + 1)
    present = (det != "").to_numpy()

    def add(prefix: str, table: pd.DataFrame, where: np.ndarray, masks: dict[str, np.ndarray | None],
            blank: dict[str, pd.Series], value: dict[str, pd.Series]) -> None:
        for column, inside in masks.items():
            ok = (where >= 0) & present & (True if inside is None else inside)
            groups = pd.Series(atoms[ok]).groupby(where[ok]).unique()
            for i in range(len(table)):
                inside = np.asarray(groups.get(i, []), dtype=int)
                hidden = bool(blank[column].iloc[i])
                cells.append((f"{prefix}:{i}:{column}", inside, hidden,
                              float(charges[inside].sum()) if hidden else float(value[column].iloc[i])))

    for name, keys in KEYS.items():
        table = pd.read_csv(run / "summary" / f"{name}.csv", dtype="string", keep_default_na=False)
        where = pd.MultiIndex.from_frame(table[keys]).get_indexer(
            pd.MultiIndex.from_frame(rows[[f"{night}{k}" for k in keys]].set_axis(keys, axis=1)))
        assert (where[present] >= 0).all(), f"{name} leaves charges out"
        columns = BOUNDS if name.startswith("bounds") else {"charges": None}
        add(f"{night}{name}", table, where,
            {c: None if d is None else det.isin(d).to_numpy() for c, d in columns.items()},
            {c: table[c] == "" for c in columns}, {c: pd.to_numeric(table[c]).astype("float64") for c in columns})
    head = json.loads((run / "summary" / "headline.json").read_text())["charges"]
    one = pd.DataFrame(index=[0])
    masks = {"total": None, "lower": det.isin(ELIGIBLE).to_numpy(),
             "upper": det.isin(BOUNDS["charges_upper"]).to_numpy(),
             **{d: (det == d).to_numpy() for d in head["by_determination"]}}
    figures = {"total": head["total"], "lower": head["eligible_lower"], "upper": head["eligible_upper"],
               **head["by_determination"]}
    add(f"{night}headline", one, np.zeros(len(rows), int), masks, {c: pd.Series([False]) for c in masks},
        {c: pd.Series([float(figures[c])]) for c in masks})
    if with_changes:  # the manifest's counts of what changed, from the clerk's list of changes
        changes = pd.read_csv(run / "delta" / "changes.csv", dtype="string", keep_default_na=False)
        case = rows["n_case_number"].where(rows["n_case_number"] != "", rows["p_case_number"])
        seq = rows["n_charge_seq"].astype("string").fillna(rows["p_charge_seq"].astype("string"))
        change = pd.MultiIndex.from_frame(changes[["case_number", "charge_seq"]]).get_indexer(
            pd.MultiIndex.from_arrays([case, seq.str.replace(r"\.0$", "", regex=True)]))
        kinds = changes["change"].to_numpy()
        counted = json.loads((run / "manifest.json").read_text())["delta"]["changes"]
        every = np.ones(len(rows), bool)
        for kind in counted:
            mine = np.flatnonzero(kinds == kind)
            cells.append((f"changes:{kind}", np.unique(atoms[np.isin(change, mine) & every]), False,
                          float(counted[kind])))
    return cells


DELIVERY_KEYS = ["county", "circuit", "path", "state"]
_LEVELS = {"state": ["path"], "circuit": ["circuit", "path"], "county": ["county", "circuit", "path"]}


def delivery_published(run: Path, rows: pd.DataFrame, atoms: np.ndarray, night: str) -> list[Cell]:
    """Every charge count of ``run``'s ``delivery.csv``, as the finest cells it adds up (each
    published count checked against the charges it counts)."""
    table = pd.read_csv(run / "summary" / "delivery.csv", dtype="string", keep_default_na=False)
    state = rows[f"{night}d_state"]
    has = (state != "").to_numpy()
    count = np.bincount(atoms[has], minlength=int(atoms.max()) + 1)
    cells: list[Cell] = []
    for level, keys in _LEVELS.items():
        part = table[table["level"] == level].reset_index(drop=True)
        where = pd.MultiIndex.from_frame(part[keys]).get_indexer(
            pd.MultiIndex.from_frame(rows[[f"{night}d_{k}" for k in keys]].set_axis(keys, axis=1)))
        assert (where[has] >= 0).all(), f"delivery.csv ({level}) leaves charges out"
        for column, states in gap.CHARGE_COLUMNS.items():
            inside = has & state.isin(states).to_numpy()
            groups = pd.Series(atoms[inside]).groupby(where[inside]).unique()
            for i in range(len(part)):
                a = np.asarray(groups.get(i, []), dtype=int)
                truth, shown = float(count[a].sum()), part[column].iloc[i]
                assert shown == "" or float(shown) == truth, (level, i, column)
                cells.append((f"{night}delivery:{level}:{i}:{column}", a, shown == "", truth))
    return cells


def delivery_states(run: Path, h: pd.DataFrame) -> pd.DataFrame:
    """The delivery keys of each charge of history ``h`` on ``run``'s night, as text."""
    manifest = json.loads((run / "manifest.json").read_text())
    s = gap.states(h, manifest["as_of"], manifest["run_id"])[["case_number", "charge_seq", *DELIVERY_KEYS]]
    return s.astype({"charge_seq": "int64"}).rename(columns={k: f"d_{k}" for k in DELIVERY_KEYS})


def recovered(cells: list[Cell]) -> list[str]:
    """The blank cells that are linear combinations of the published ones."""
    n = max((int(a.max()) + 1 for _, a, _, _ in cells if len(a)), default=1)

    def vector(atoms: np.ndarray) -> np.ndarray:
        v = np.zeros(n)
        v[atoms] = 1.0
        return v

    shown = np.array([vector(a) for _, a, blank, _ in cells if not blank])
    hidden = [(name, vector(a)) for name, a, blank, _ in cells if blank and len(a)]
    if not hidden:
        return []
    _, sigma, vt = np.linalg.svd(shown, full_matrices=False)
    basis = vt[sigma > 1e-9 * sigma.max()]
    out = []
    for name, v in hidden:
        rest = v - (basis @ v) @ basis
        if np.sqrt(rest @ rest) <= 1e-6 * np.sqrt(v @ v):
            out.append(name)
    return out


def pinned(cells: list[Cell]) -> list[str]:
    """The blank cells whole-number reasoning pins to one value: with counts never negative,
    every blank row at least 1 and every published count as it reads, the least and greatest
    value a linear program allows each blank cell leave one whole number between them."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    kept = [(a, blank, value, name) for name, a, blank, value in cells if len(a)]
    # finest cells in exactly the same published cells are one unknown to an attacker
    member: dict[int, list[int]] = {}
    for i, (a, *_) in enumerate(kept):
        for atom in a:
            member.setdefault(int(atom), []).append(i)
    unknown = {pattern: k for k, pattern in enumerate(sorted({tuple(m) for m in member.values()}))}
    column = {atom: unknown[tuple(m)] for atom, m in member.items()}

    def matrix(rows: list[np.ndarray]) -> csr_matrix:
        pairs = {(r, column[int(atom)]) for r, a in enumerate(rows) for atom in a}
        r, c = zip(*pairs, strict=True) if pairs else ((), ())
        return csr_matrix((np.ones(len(r)), (r, c)), shape=(len(rows), len(unknown)))

    shown = [(a, value) for a, blank, value, _ in kept if not blank]
    hidden = [(a, name, value) for a, blank, value, name in kept if blank]
    equal, at_least = matrix([a for a, _ in shown]), matrix([a for a, _, _ in hidden])
    out = []
    for i, (_, name, truth) in enumerate(hidden):
        objective = at_least[i].toarray().ravel()
        ends = []
        for sign in (-1.0, 1.0):  # greatest, then least
            result = linprog(sign * objective, A_ub=-at_least, b_ub=-np.ones(len(hidden)), A_eq=equal,
                             b_eq=np.array([v for _, v in shown]), bounds=(0, None), method="highs")
            ends.append(sign * result.fun if result.status == 0 else -sign * np.inf)
            if abs(ends[-1] - truth) >= 1 - 1e-6:
                break  # the true count and one a whole charge away are both possible
        else:
            if np.floor(ends[0] + 1e-6) <= np.ceil(ends[1] - 1e-6):
                out.append(name)
    return out


def _with_states(rows: pd.DataFrame, states: pd.DataFrame, side: str) -> pd.DataFrame:
    """``rows`` joined with one night's delivery keys (``side``: its prefix) on the charge."""
    case = rows.filter(like="case_number").replace("", pd.NA).bfill(axis=1).iloc[:, 0]
    seq = rows.filter(like="charge_seq").bfill(axis=1).iloc[:, 0].astype("Int64")
    keyed = rows.assign(_case=case.astype("string"), _seq=seq)
    states = states.add_prefix(side).rename(columns={f"{side}case_number": "_case", f"{side}charge_seq": "_seq"})
    out = keyed.merge(states.astype({"_case": "string", "_seq": "Int64"}), on=["_case", "_seq"], how="outer")
    out[f"{side}case_number"] = out["_case"]
    return out.drop(columns=["_case", "_seq"])


def _atoms(rows: pd.DataFrame, sides: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    for c in rows.columns:
        if not c.endswith("charge_seq"):
            rows[c] = rows[c].astype("string").fillna("")
    keys = [f"{side}{k}" for side in sides for k in (DELIVERY_KEYS if side.endswith("d_") else FINEST)]
    return rows, rows.groupby(keys, dropna=False).ngroup().to_numpy()


def one_night(run: Path) -> list[Cell]:
    rows = _with_states(charges_of(run).add_prefix("n_"), delivery_states(run, load_history(run.parent)), "n")
    rows, atoms = _atoms(rows, ["n_", "nd_"])
    return published(run, rows, atoms, "n_") + delivery_published(run, rows, atoms, "n")


def two_nights(before: Path, after: Path, history_before: Path | None = None) -> list[Cell]:
    """Both nights' published counts; with ``history_before`` (the delivery history as the
    first night left it), both nights' delivery tables too."""
    rows = pd.merge(charges_of(before).add_prefix("p_"), charges_of(after).add_prefix("n_"), how="outer",
                    left_on=["p_case_number", "p_charge_seq"], right_on=["n_case_number", "n_charge_seq"])
    if history_before is None:
        rows, atoms = _atoms(rows, ["p_", "n_"])
        return published(before, rows, atoms, "p_") + published(after, rows, atoms, "n_", with_changes=True)
    rows = _with_states(rows, delivery_states(before, history.read(history_before)), "p")
    rows = _with_states(rows, delivery_states(after, load_history(after.parent)), "n")
    rows, atoms = _atoms(rows, ["p_", "n_", "pd_", "nd_"])
    return (published(before, rows, atoms, "p_") + delivery_published(before, rows, atoms, "p")
            + published(after, rows, atoms, "n_", with_changes=True) + delivery_published(after, rows, atoms, "n"))


@pytest.fixture(scope="module")
def fifty_thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from expunge.ops.run import run_pipeline
    from expunge.sample import write_sample

    folder = tmp_path_factory.mktemp("fifty-thousand")
    export = folder / "export.csv"
    write_sample(export, rows=50_000, seed=3)
    return Path(run_pipeline([str(export)], folder / "out", AS_OF, run_id="big", documents=False))


def test_no_suppressed_cell_of_the_sample_run_can_be_worked_out(sample_run: Path) -> None:
    cells = one_night(Path(sample_run))
    assert any(blank for _, _, blank, _ in cells), "the sample has small cells: the test must see some"
    assert recovered(cells) == []


def test_no_suppressed_cell_of_the_sample_run_can_be_pinned_with_whole_numbers(sample_run: Path) -> None:
    assert pinned(one_night(Path(sample_run))) == []


def test_no_suppressed_cell_of_a_fifty_thousand_charge_run_can_be_worked_out(fifty_thousand: Path) -> None:
    cells = one_night(fifty_thousand)
    assert recovered(cells) == []
    assert pinned(cells) == []


def test_two_consecutive_nights_together_reveal_no_suppressed_cell_of_either(
        two_sample_nights: tuple[Path, Path]) -> None:
    before, after = two_sample_nights
    assert json.loads((after / "manifest.json").read_text())["disclosure"]["audited_with_run"] == before.name
    cells = two_nights(before, after, before.parent.parent / "history-night-1.parquet")
    assert any(blank for name, _, blank, _ in cells if "delivery" in name), "the test must see blank delivery cells"
    assert any(v > 0 for name, _, _, v in cells if name.startswith("ndelivery") and "since_last_night" in name)
    assert recovered(cells) == []
    assert pinned(cells) == []


def test_auditing_each_night_alone_would_let_the_two_nights_give_a_cell_away(
        two_sample_nights: tuple[Path, Path], tmp_path: Path) -> None:
    """The scenario has teeth: tonight's tables protected on their own leak across nights."""
    before, after = two_sample_nights
    alone = tmp_path / after.name
    shutil.copytree(after, alone)
    tables = Rollups(sorted(str(p) for p in (after / "charges").rglob("*.parquet"))).summaries(below=10)
    for name, table in tables.items():
        write_csv(table, alone / "summary" / f"{name}.csv")
    assert recovered(two_nights(before, alone)) != []


def test_most_of_each_summary_of_a_fifty_thousand_charge_run_is_published(fifty_thousand: Path) -> None:
    shares = json.loads((fifty_thousand / "manifest.json").read_text())["disclosure"]["tables"]
    assert set(shares) == set(KEYS) | {"delivery_by_circuit", "delivery_by_county"}
    assert all(t["share_suppressed"] < 0.5 for t in shares.values()), shares


def test_counts_of_cases_and_people_are_blank_wherever_the_cell_s_charges_are(sample_run: Path) -> None:
    table = pd.read_csv(Path(sample_run) / "summary" / "by_county.csv")
    hidden = table["charges"].isna()
    assert hidden.any()
    assert table.loc[hidden, ["cases", "people"]].isna().all().all()
    bounds = pd.read_csv(Path(sample_run) / "summary" / "bounds_by_year.csv")
    for bound in ("lower", "upper"):
        blank = bounds[f"charges_{bound}"].isna()
        assert bounds.loc[blank, [f"cases_{bound}", f"people_{bound}"]].isna().all().all()


def test_each_row_names_the_counts_it_leaves_blank(sample_run: Path) -> None:
    table = pd.read_csv(Path(sample_run) / "summary" / "sizing.csv", keep_default_na=False, dtype="string")
    named = table["suppressed"].str.split(";")
    blank = table[["charges", "cases", "people"]].apply(lambda r: [c for c in r.index if r[c] == ""], axis=1)
    assert [sorted(x) if x != [""] else [] for x in named] == [sorted(b) for b in blank]


# --------------------------------------------------------------------------- the method itself

#: Two counties; BOONE's 5 petition charges are the one small cell.
ATOMS = pd.DataFrame({"county": ["BOONE", "BOONE", "BOONE", "COLE", "COLE", "COLE"],
                      "determination": ["ELIGIBLE_AUTO", "ELIGIBLE_PETITION", "NOT_ELIGIBLE"] * 2,
                      "charges": [53, 5, 93, 29, 40, 60]})
TABLES = [Table("by_county", ("county", "determination"), {"charges": None}),
          Table("bounds", ("county",), {"lower": ("ELIGIBLE_AUTO", "ELIGIBLE_PETITION")}),
          Table("headline", (), {"total": None}, fixed=True)]


def masks(cells: Cells, hidden: np.ndarray) -> list[Cell]:
    return [(f"{r.table}:{r.county}:{r.column}", cells.atom[cells.cell == i], bool(h), float(r.value))
            for i, (r, h) in enumerate(zip(cells.frame.itertuples(), hidden, strict=True))]


def test_suppressing_small_cells_alone_lets_a_bound_minus_a_count_give_one_away() -> None:
    cells = cells_of(ATOMS, TABLES)
    small = ((cells.frame["value"] > 0) & (cells.frame["value"] < 10)).to_numpy()
    assert recovered(masks(cells, small)) == ["by_county:BOONE:charges"]


def test_protect_adds_the_complements_that_stop_it() -> None:
    cells = cells_of(ATOMS, TABLES)
    hidden = protect(cells, below=10)
    assert hidden.sum() > 1
    assert recovered(masks(cells, hidden)) == []
    assert not hidden[cells.frame["fixed"].to_numpy(bool)].any()


#: Three counties; A's and B's single petition charges are the small cells, and the petition
#: total less C's 30 leaves 2 for the two of them: each is at least 1, so each is 1.
SHARED = pd.DataFrame({"county": ["A"] * 3 + ["B"] * 3 + ["C"] * 3,
                       "determination": ["ELIGIBLE_AUTO", "ELIGIBLE_PETITION", "NOT_ELIGIBLE"] * 3,
                       "charges": [53, 1, 93, 29, 1, 60, 40, 30, 50]})
BY_TWO = [Table("by_county", ("county", "determination"), {"charges": None}),
          Table("by_determination", ("determination",), {"charges": None}),
          Table("headline", (), {"total": None}, fixed=True)]


def test_small_cells_no_sum_gives_away_can_still_be_pinned_by_whole_numbers() -> None:
    cells = cells_of(SHARED, BY_TWO)
    small = ((cells.frame["value"] > 0) & (cells.frame["value"] < 10)).to_numpy()
    assert recovered(masks(cells, small)) == []
    assert pinned(masks(cells, small)) == ["by_county:A:charges", "by_county:B:charges"]


def test_protect_adds_a_complement_that_leaves_each_small_cell_more_than_one_value() -> None:
    cells = cells_of(SHARED, BY_TWO)
    hidden = protect(cells, below=10)
    assert pinned(masks(cells, hidden)) == []
    assert hidden.sum() == 3  # A's, B's and one more: C's 30 petition charges


def test_suppress_blanks_the_cases_and_people_of_a_hidden_charge_count() -> None:
    table = pd.DataFrame({"charges": [40, 12], "cases": [30, 12], "people": [25, 11]})
    out = suppress(table, {"charges": pd.Series([True, False])})
    assert out["cases"].isna().tolist() == [True, False]
    assert out["suppressed"].tolist() == ["charges;cases;people", ""]


#: Charges of three counties, last night and tonight, with a delivery state each: BOONE's 4
#: delivered charges (gone tonight) are the small gap cell.
GAP_ATOMS = pd.DataFrame({"county": ["BOONE", "BOONE", "COLE", "CLAY"],
                          "last": ["ELIGIBLE_AUTO"] * 4,
                          "determination": ["ELIGIBLE_AUTO", None, "ELIGIBLE_AUTO", "ELIGIBLE_AUTO"],
                          "state": ["WAITING_3", "DELIVERED_TONIGHT", "WAITING_3", "WAITING_3"],
                          "charges": [30, 4, 25, 22]})
TONIGHT = Table("tonight", ("county",), {"eligible": ("ELIGIBLE_AUTO",)})
LAST_NIGHT = Table("last_night", ("county",), {"eligible": ("ELIGIBLE_AUTO",)}, by="last")
GAP = [Table("gap", ("county",), {"delivered": ("DELIVERED_TONIGHT",),
                                  "seen": ("WAITING_3", "DELIVERED_TONIGHT")}, by="state")]


def gap_system(summaries: list[Table]) -> tuple[Cells, np.ndarray]:
    cells = joined(cells_of(GAP_ATOMS, summaries), cells_of(GAP_ATOMS, GAP))
    return cells, (cells.frame["table"] != "gap").to_numpy()


def test_protecting_the_gap_after_the_summaries_leaves_the_summaries_as_they_were() -> None:
    cells, first = gap_system([TONIGHT, LAST_NIGHT])
    assert (protect_in_turn(cells, 10, first)[first] == protect(subset(cells, first), 10)).all()


def test_a_small_gap_cell_the_summaries_already_give_away_is_published() -> None:
    cells, first = gap_system([TONIGHT, LAST_NIGHT])  # BOONE's 34 last night less its 30 tonight
    assert protect(subset(cells, ~first), 10).any()  # on its own, the gap would hide the 4
    assert not protect_in_turn(cells, 10, first).any()


def test_a_small_gap_cell_takes_its_complement_among_the_gap_cells() -> None:
    cells, first = gap_system([TONIGHT])  # BOONE's 34 seen less its 30 tonight would give the 4
    hidden = protect_in_turn(cells, 10, first)
    assert not hidden[first].any()
    assert set(cells.frame.loc[hidden, "column"]) == {"delivered", "seen"}
    assert recovered(masks(cells, hidden)) == []
