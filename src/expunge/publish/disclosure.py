"""Disclosure control: no published charge count lets anyone work out a suppressed one.

Input: the *atoms* of a run (charges counted per county, offense year, offense group,
determination and reason: the common refinement of every published table) and the
specification of each published table of charge counts. Output: which cells to suppress.

Small cells (1 to ``below - 1`` charges) are suppressed first. Charge counts add up, so a
hidden cell could still be recovered from published ones: a county's lower bound minus its
automatic count, a column total minus the other rows, a night's table minus the previous
night's. ``protect`` therefore audits the whole system exactly: a suppressed cell is
recoverable when its atoms' indicator lies in the span of the published cells' indicators.
The audit works on the Gram matrix of the cells (the atoms each pair shares: dense over
cells, never over atoms): the residual of each suppressed cell after projecting out the
published ones is a Schur complement, zero exactly when the cell can be worked out. Each
recoverable cell gets one more suppressed cell, the smallest its recovery cannot do without,
until none is recoverable; then complements the others make unnecessary are published again.
The headline totals are published whatever happens; a cell they alone reveal is published
too (suppressing it would hide nothing).

With the previous night's tables, the audit runs over both nights at once: atoms are then
(previous key, current key) pairs of the same charges, so a cell hidden tonight cannot be
worked out from last night's figures and tonight's, nor last night's hidden cells from
tonight's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Table:
    """A published table of charge counts: its group-by ``keys`` and, per count column, the
    values of the atoms' ``by`` key it adds up (None: all)."""

    name: str
    keys: tuple[str, ...]
    columns: dict[str, tuple[str, ...] | None]
    fixed: bool = False  # published unsuppressed (the headline)
    by: str = "determination"  # the atom key the count columns select on
    file: str = ""  # the summary CSV it is published in (default: ``name``.csv)
    level: str = ""  # in a file holding several tables, the ``level`` of its rows


@dataclass
class Cells:
    """Every charge-count cell of a run's tables, as sums of atoms: ``cell`` and ``atom`` are
    the coordinates of the 0/1 matrix (cell x atom)."""

    frame: pd.DataFrame  # table, column, the table's keys, value, fixed, night
    cell: np.ndarray
    atom: np.ndarray
    n_atoms: int


_MISSING = "\x00missing"


def key_frame(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``keys`` of ``frame`` as strings, missing values as one sentinel (a group of its own)."""
    return pd.DataFrame({k: frame[k].astype("string").fillna(_MISSING) for k in keys}, index=frame.index)


def _keyed(frame: pd.DataFrame, keys: Sequence[str]) -> pd.MultiIndex:
    """``keys`` of ``frame`` as strings with one sentinel for missing (as disclosure does)."""
    return pd.MultiIndex.from_frame(key_frame(frame, keys))


def hidden_cells(table: pd.DataFrame, spec: Table, cells: pd.DataFrame) -> dict[str, pd.Series]:
    """Per count column of ``spec``, which rows of ``table`` disclosure control suppresses
    (``cells``: the night's cells with their ``suppressed`` flag)."""
    mine = cells[cells["table"] == spec.name]
    out = {}
    for column in spec.columns:
        rows = mine[mine["column"] == column]
        index = _keyed(rows, spec.keys)
        flags = pd.Series(rows["suppressed"].to_numpy(), index=index)
        out[column] = pd.Series(flags.reindex(_keyed(table, spec.keys)).fillna(False).to_numpy(bool),
                                index=table.index)
    return out


def previous_suppressed(previous: Path, cells: pd.DataFrame, tables: Sequence[Table]) -> np.ndarray:
    """Which of the previous night's ``cells`` (of ``tables``) its own summaries left blank (a
    table or key it did not publish counts as published)."""
    flags = np.zeros(len(cells), bool)
    for spec in tables:
        path = previous / "summary" / f"{spec.file or spec.name}.csv"
        if spec.fixed or not path.is_file():
            continue
        table = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
        if spec.level and "level" in table.columns:
            table = table[table["level"] == spec.level]
        if not set(spec.keys) <= set(table.columns):
            continue
        for column in spec.columns:
            if column not in table.columns:
                continue
            blank = pd.Series(table[column].isna().to_numpy(), index=_keyed(table, spec.keys))
            blank = blank[~blank.index.duplicated()]
            here = (cells["table"] == spec.name).to_numpy() & (cells["column"] == column).to_numpy()
            got = blank.reindex(_keyed(cells[here], spec.keys)).fillna(False).to_numpy(bool)
            flags[np.flatnonzero(here)] = got
    return flags


def cells_of(atoms: pd.DataFrame, tables: Sequence[Table], night: int = 0,
             atom_ids: np.ndarray | None = None, n_atoms: int | None = None) -> Cells:
    """The cells of ``tables`` over ``atoms`` (one row per atom: its keys, the key each table's
    columns select on and ``charges``); ``atom_ids``: each row's atom number (default: its
    position)."""
    ids = np.arange(len(atoms)) if atom_ids is None else np.asarray(atom_ids)
    frames, cell_parts, atom_parts = [], [], []
    start = 0
    for t in tables:
        det = atoms[t.by].astype("string")
        if t.keys:
            codes, uniques = pd.MultiIndex.from_frame(key_frame(atoms, t.keys)).factorize()
            groups = pd.DataFrame(list(uniques), columns=list(t.keys))
        else:
            codes, groups = np.zeros(len(atoms), "int64"), pd.DataFrame(index=[0])
        for column, dets in t.columns.items():
            inside = np.ones(len(atoms), bool) if dets is None else det.isin(dets).fillna(False).to_numpy()
            value = np.bincount(codes[inside], weights=atoms["charges"].to_numpy()[inside], minlength=len(groups))
            frame = groups.assign(table=t.name, column=column, value=value.astype("int64"), fixed=t.fixed,
                                  night=night)
            frames.append(frame)
            cell_parts.append(codes[inside] + start)
            atom_parts.append(ids[inside])
            start += len(groups)
    frame = pd.concat(frames, ignore_index=True)
    return Cells(frame, np.concatenate(cell_parts), np.concatenate(atom_parts),
                 int(n_atoms if n_atoms is not None else len(atoms)))


def joined(a: Cells, b: Cells) -> Cells:
    """Two nights' cells as one system over the same atoms."""
    return Cells(pd.concat([a.frame, b.frame], ignore_index=True), np.concatenate([a.cell, b.cell + len(a.frame)]),
                 np.concatenate([a.atom, b.atom]), max(a.n_atoms, b.n_atoms))


def subset(cells: Cells, keep: np.ndarray) -> Cells:
    """The cells ``keep`` marks, as a system of their own over the same atoms."""
    number = np.cumsum(keep) - 1
    inside = keep[cells.cell]
    return Cells(cells.frame[keep].reset_index(drop=True), number[cells.cell[inside]], cells.atom[inside],
                 cells.n_atoms)


def protect_in_turn(cells: Cells, below: int, first: np.ndarray, prefer: np.ndarray | None = None) -> np.ndarray:
    """``protect`` the cells ``first`` marks on their own, then the others with those settled:
    the first cells keep the pattern they would have without the others (published ones stay
    published, suppressed ones stay suppressed and protected), and the others take every
    complement their own protection needs. A small cell among the others that the settled
    cells already give away is published (suppressing it would hide nothing), as one the
    headline gives away is."""
    pick = None if prefer is None else prefer[first]
    settled = protect(subset(cells, first), below, prefer=pick)
    frame = cells.frame.copy()
    before = frame["suppressed_before"].fillna(False).to_numpy(bool) if "suppressed_before" in frame else \
        np.zeros(len(frame), bool)
    hidden = before.copy()
    hidden[np.flatnonzero(first)] = settled | before[first]
    frame["suppressed_before"] = hidden
    frame["fixed"] = frame["fixed"].to_numpy(bool) | first
    # The first cells published stay published whatever happens: only their span matters, so
    # they are projected out of the others' Gram matrix once (a Schur complement) instead of
    # taking part in every round of the audit.
    shown = first & ~hidden
    rest = ~shown
    g = projected_out(gram(cells), rest, shown)
    out = np.zeros(len(frame), bool)
    out[rest] = protect(subset(Cells(frame, cells.cell, cells.atom, cells.n_atoms), rest), below,
                        prefer=None if prefer is None else prefer[rest], g=g)
    out[np.flatnonzero(first)] = settled
    return out


def projected_out(g: np.ndarray, keep: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """The Gram matrix of the ``keep`` cells after projecting their indicators onto the
    orthogonal complement of the span of the ``drop`` cells: what they say beyond those."""
    k, d = np.flatnonzero(keep), np.flatnonzero(drop)
    if not len(d):
        return g[np.ix_(k, k)]
    values, vectors = np.linalg.eigh(g[np.ix_(d, d)])
    ok = values > 1e-9 * max(float(values.max(initial=0.0)), 1.0)
    b = vectors[:, ok].T @ g[np.ix_(d, k)]
    return g[np.ix_(k, k)] - b.T @ (b / values[ok][:, None])


def gram(cells: Cells) -> np.ndarray:
    """G[i, j]: the atoms cells i and j share (G = A Aᵀ over every cell, published or not).

    Each atom lies in one cell per table column, so the pairs are few; the matrix is dense
    over cells (thousands at most), never over atoms."""
    order = np.lexsort((cells.cell, cells.atom))
    atom, cell = cells.atom[order], cells.cell[order]
    n = len(cells.frame)
    out = np.zeros((n, n))
    starts = np.flatnonzero(np.r_[True, atom[1:] != atom[:-1]]) if len(atom) else np.zeros(0, "int64")
    lengths = np.diff(np.r_[starts, len(atom)])
    for size in np.unique(lengths):  # atoms in the same number of cells, all at once
        first = starts[lengths == size]
        members = cell[first[:, None] + np.arange(size)[None, :]]
        i = np.repeat(members, size, axis=1).ravel()
        j = np.tile(members, (1, size)).ravel()
        np.add.at(out, (i, j), 1.0)
    return out


@dataclass
class Audit:
    """What the published cells reveal about the suppressed ones, from the Gram matrix.

    ``residual``: the Gram matrix of the suppressed cells' indicators after projecting out
    the span of the published ones (a Schur complement); a suppressed cell is recoverable
    exactly when its diagonal entry is zero. ``weights``: for each suppressed cell, the
    least-norm combination of published cells closest to it; ``independent``: the published
    cells no combination of the others gives (eigenvectors of G's null space)."""

    published: np.ndarray
    suppressed: np.ndarray
    residual: np.ndarray
    weights: np.ndarray
    independent: np.ndarray

    def recoverable(self) -> np.ndarray:
        size = np.maximum(np.diag(self.residual).max(initial=1.0), 1.0)
        return self.suppressed[np.diag(self.residual) <= 1e-7 * size]


def audit(g: np.ndarray, suppressed: np.ndarray) -> Audit:
    """``Audit`` of the cells with ``suppressed`` hidden, given ``gram(cells)``."""
    p, s = np.flatnonzero(~suppressed), np.flatnonzero(suppressed)
    gp = g[np.ix_(p, p)]
    values, vectors = np.linalg.eigh(gp) if len(p) else (np.zeros(0), np.zeros((0, 0)))
    keep = values > 1e-9 * max(float(values.max(initial=0.0)), 1.0)
    kept = vectors[:, keep]
    b = g[np.ix_(p, s)]
    weights = kept @ ((kept.T @ b) / values[keep][:, None])  # G⁺ b
    residual = g[np.ix_(s, s)] - b.T @ weights
    null = vectors[:, ~keep]
    independent = np.sqrt((null * null).sum(axis=1)) <= 1e-6
    return Audit(p, s, residual, weights, independent)


def protect(cells: Cells, below: int, prefer: np.ndarray | None = None, rounds: int = 200,
            g: np.ndarray | None = None) -> np.ndarray:
    """Which cells to suppress: the small ones (``0 < value < below``) and, per cell that can
    be worked out, a complement that stops it, until none can.

    Two attacks are stopped. The linear one: a suppressed cell that is a combination of
    published ones (``Audit.recoverable``). The whole-number one: a blank row is a cell with
    at least one charge, and counts are never negative, so a combination of suppressed cells
    that the published ones give (six blank cells adding up to 6) can pin each of them
    (``pinned``). Complements for the first are chosen, then the ones the others make
    unnecessary are published again (``_release``), then complements for the second.

    Cells marked ``fixed`` (the headline, and a previous night's cells) are never suppressed
    tonight; a previous night's suppressed cells (``suppressed_before``) stay hidden and are
    protected like tonight's. ``prefer``: cells to take as complements first when they serve
    (those suppressed the previous night, so the pattern stays put). ``g``: the cells' Gram
    matrix, when it is not ``gram(cells)`` (``protect_in_turn`` passes one with settled cells
    projected out)."""
    value = cells.frame["value"].to_numpy()
    if (value <= 0).any():  # an empty cell is the zero vector: it reveals and hides nothing
        out = np.zeros(len(value), bool)
        live = value > 0
        pick = None if prefer is None else prefer[live]
        out[live] = protect(subset(cells, live), below, pick, rounds, None if g is None else g[np.ix_(live, live)])
        return out
    f = cells.frame
    locked = f["fixed"].to_numpy(bool).copy()
    before = f["suppressed_before"].fillna(False).to_numpy(bool) if "suppressed_before" in f else locked & False
    primary = (value > 0) & (value < below) & ~locked
    suppressed = primary | before
    table = f["table"].to_numpy()
    prefer = np.zeros(len(f), bool) if prefer is None else prefer
    g = gram(cells) if g is None else g
    released = False
    for _ in range(rounds):
        check = audit(g, suppressed)
        column = {cell: k for k, cell in enumerate(check.suppressed)}
        targets = [(cell, check.weights[:, column[cell]]) for cell in check.recoverable()]
        if not targets:
            if not released:
                suppressed, released = _release(g, value, suppressed, primary | before | locked), True
                continue
            targets = [(cell, check.weights @ combo) for cell, combo in pinned(check, value)]
            if not targets:
                break
        changed = False
        for target, y in targets:
            inside = np.abs(y) > 1e-7
            used, weight, needed = check.published[inside], np.abs(y[inside]), check.independent[inside]
            usable = ~locked[used] & (value[used] > 0)
            if not usable.any():  # the fixed figures alone give it away: hiding it hides nothing
                if not before[target] and suppressed[target]:
                    suppressed[target] = False
                    locked[target] = True  # public from now on: never a complement
                    changed = True
                continue
            options, weight, needed = used[usable], weight[usable], needed[usable]
            if needed.any():  # the smallest cell the working-out cannot do without
                options = options[needed]
                same = table[options] == table[target]
                pick = options[np.lexsort((options, value[options], ~same, ~prefer[options]))[0]]
            else:  # no single cell stops it: take the one it leans on most, and go round again
                pick = options[np.lexsort((options, value[options], -np.round(weight, 6), ~prefer[options]))[0]]
            if not suppressed[pick]:
                suppressed[pick] = True
                changed = True
        if not changed:
            break
    else:
        raise RuntimeError("disclosure control did not settle; raise the threshold or coarsen the tables")
    return suppressed


def pinned(check: Audit, value: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Suppressed cells whose value whole-number reasoning fixes, each with a combination of
    suppressed cells (weights over ``check.suppressed``) that the published cells give and
    that pins it.

    What the published cells say about the suppressed ones is the affine set
    x + range(residual): values can move only along the residual's range. An attacker also
    knows that every blank is at least 1 (empty cells are not listed, zeros are published).
    A cell is pinned when no move allowed by both changes it. Near the true values only the
    blanks that hold exactly 1 constrain a move (every other bound has slack), so the allowed
    moves form a cone: u in range(residual) with u_t >= 0 for those blanks t. One linear
    program finds the blanks t that no allowed move can raise (they are stuck at 1); the
    moves that keep those at 0 form a subspace, and a cell no such move changes is pinned.
    The attack this stops is that of a linear program over the published figures; what it
    proves is that no blank has a single possible value under them."""
    from scipy.optimize import linprog

    m = check.residual
    if not len(m):
        return []
    eigenvalues, vectors = np.linalg.eigh(m)
    scale = max(float(np.abs(eigenvalues).max(initial=1.0)), 1.0)
    free = eigenvalues > 1e-7 * scale
    span, combos = vectors[:, free], vectors[:, ~free]  # range(residual); what the published cells give
    involved = np.linalg.norm(combos, axis=1) > 1e-6
    tight = np.flatnonzero((value[check.suppressed] == 1) & involved)
    if not len(tight):
        return []
    r, t = span.shape[1], len(tight)
    # maximise the sum of y with span[tight] z >= y, 0 <= y <= 1: y_t = 0 at the optimum only
    # for blanks that no allowed move raises
    result = linprog(np.r_[np.zeros(r), -np.ones(t)], A_ub=np.hstack([-span[tight], np.eye(t)]), b_ub=np.zeros(t),
                     bounds=[(None, None)] * r + [(0.0, 1.0)] * t, method="highs")
    if result.status != 0:
        raise RuntimeError(f"disclosure control: the whole-number check failed ({result.message})")
    stuck = tight[result.x[r:] < 0.5]
    if not len(stuck):
        return []
    _, sigma, vt = np.linalg.svd(span[stuck], full_matrices=True)
    rank = int((sigma > 1e-9).sum())
    moves = span @ vt[rank:].T  # the allowed moves that leave the stuck blanks where they are
    found = np.flatnonzero(np.linalg.norm(moves, axis=1) <= 1e-6)
    # a pinned cell lies in some combination the published cells give (else it could move on
    # its own); its projection onto those combinations is the one to break
    return [(int(check.suppressed[k]), combos @ combos[k]) for k in found]


def _release(g: np.ndarray, value: np.ndarray, suppressed: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Publish again, largest first, each complement the others make unnecessary (greedy
    choices over-suppress, and a cell published is a cell that says something).

    Publishing suppressed cell c projects it out of the others' residuals (a rank-one update
    of ``Audit.residual``): allowed when no other suppressed cell's residual drops to zero."""
    check = audit(g, suppressed)
    cells = list(check.suppressed)
    m = check.residual.copy()
    alive = np.ones(len(cells), bool)
    extra = [k for k, c in enumerate(cells) if not keep[c]]
    scale = max(float(np.diag(m).max(initial=1.0)), 1.0)
    for k in sorted(extra, key=lambda k: (-value[cells[k]], cells[k])):
        if m[k, k] <= 1e-7 * scale:
            continue  # recoverable already (only a fixed figure reveals it): leave it as it is
        trial = m - np.outer(m[:, k], m[k, :]) / m[k, k]
        others = alive.copy()
        others[k] = False
        if (np.diag(trial)[others] > 1e-7 * scale).all():
            m, alive = trial, others
            suppressed = suppressed.copy()
            suppressed[cells[k]] = False
    return suppressed
