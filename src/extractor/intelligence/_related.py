"""Related scans: each scan's closest scans by the cosine similarity of their whole-scan vectors."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from extractor.intelligence._vectors import similarities

if TYPE_CHECKING:
    from extractor.intelligence._vectors import Matrix

#: How many neighbours are kept per scan (the commands show 5 by default).
KEPT = 10
_BLOCK = 512

Neighbours = list[tuple[str, float]]


def _best(ids: Sequence[str], scores: Matrix, exclude: int) -> Neighbours:
    import numpy as np

    row = scores.copy()
    row[exclude] = -1.0
    take = min(len(row), KEPT + 8)  # a few more than kept, so ties at the edge are broken by id
    top = np.argpartition(-row, take - 1)[:take] if take < len(row) else np.arange(len(row))
    pairs = [(ids[int(j)], round(float(row[int(j)]), 5)) for j in top if row[int(j)] > 0]
    pairs.sort(key=lambda p: (-p[1], p[0]))
    return pairs[:KEPT]


def compute(ids: Sequence[str], vectors: Matrix, which: Collection[int]) -> dict[str, Neighbours]:
    """Neighbours of the scans at positions `which` among all `ids`."""
    wanted = sorted(which)
    found: dict[str, Neighbours] = {}
    for b0 in range(0, len(wanted), _BLOCK):
        chunk = wanted[b0 : b0 + _BLOCK]
        block = similarities(vectors[chunk], vectors)
        for n, i in enumerate(chunk):
            found[ids[i]] = _best(ids, block[n], i)
    return found


def update(
    old: dict[str, Neighbours], ids: Sequence[str], vectors: Matrix, fresh: set[str], gone: set[str]
) -> dict[str, Neighbours]:
    """The neighbours after scans `fresh` were added (or changed) and `gone` removed (or changed): lists that
    named a changed scan are computed again, the others only meet the fresh scans. Same result as `compute`
    over everything."""
    position = {sid: i for i, sid in enumerate(ids)}
    redo = {i for i, sid in enumerate(ids) if sid in fresh or sid not in old}
    redo |= {position[sid] for sid, ns in old.items() if sid in position and any(n in gone for n, _ in ns)}
    result = compute(ids, vectors, redo)
    fresh_at = sorted(position[s] for s in fresh if s in position)
    if not fresh_at:
        return {sid: result.get(sid, old.get(sid, [])) for sid in ids}
    cross = similarities(vectors, vectors[fresh_at])  # every scan against the fresh ones
    for i, sid in enumerate(ids):
        if sid in result:
            continue
        merged = list(old[sid]) + [(ids[j], round(float(cross[i, n]), 5)) for n, j in enumerate(fresh_at) if j != i]
        merged = [p for p in merged if p[1] > 0]
        merged.sort(key=lambda p: (-p[1], p[0]))
        result[sid] = merged[:KEPT]
    return {sid: result[sid] for sid in ids}
