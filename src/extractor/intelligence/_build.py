"""Bringing the store of one folder up to date: read the scans that are new or changed, drop those that are
gone, replay signal decisions from the first row that moved, and refresh the related lists that can change."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extractor.intelligence import _related, _signals, _vectors
from extractor.intelligence._corpus import ScanDoc, read_scan, scan_ids, stat_key
from extractor.intelligence._store import DocMeta, State, load, locked, save, store_dir
from extractor.intelligence._words import STOP_WORDS

#: Bump when the way vectors or decisions are made changes: stores made otherwise are rebuilt.
FORMAT = 2


def params() -> str:
    """What a store was computed with; a store made with anything else is rebuilt, not reused."""
    described = {
        "format": FORMAT,
        "row_dims": _vectors.ROW_DIMS,
        "doc_dims": _vectors.DOC_DIMS,
        "word_weight": _vectors.WORD_WEIGHT,
        "threshold": _signals.IntelSettings().threshold,
        "candidate": _signals.CANDIDATE_THRESHOLD,
        "recent_days": _signals.RECENT_DAYS,
        "kept": _related.KEPT,
        "stop_words": hashlib.sha256(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12],
    }
    return json.dumps(described, sort_keys=True)


@dataclass(frozen=True)
class Updated:
    """What one update did."""

    scans: int  # scans in the store afterwards
    added: int  # new or changed scans read
    removed: int
    replayed: int  # signal rows decided again
    rows: int  # signal rows in the store


def _empty(out: Path) -> State:
    import numpy as np

    return State(
        params=params(),
        out=str(out.resolve()),
        doc_vectors=np.zeros((0, _vectors.DOC_DIMS), dtype=np.float32),
        row_vectors=np.zeros((0, _vectors.ROW_DIMS), dtype=np.float32),
    )


def _meta(doc: ScanDoc, stat: str) -> DocMeta:
    return DocMeta(
        stat=stat,
        fingerprint=doc.fingerprint,
        origin=doc.origin,
        date=doc.date,
        host=doc.host,
        title=doc.title,
        category=doc.category,
        type=doc.type,
        keywords=list(doc.keywords),
        themes=list(doc.themes),
    )


def _apply(state: State, out: Path, added: list[ScanDoc], removed: set[str]) -> int:
    """Changes `state` for scans `added` (new or changed) and `removed`; returns how many rows were replayed."""
    import numpy as np

    assert state.doc_vectors is not None and state.row_vectors is not None
    gone = removed | {d.id for d in added if d.id in state.docs}
    fresh = {d.id for d in added}

    # Scans and their vectors: those kept in their order, then the new ones (appending copies the least).
    new_vecs = _vectors.vectors([d.text for d in added], _vectors.DOC_DIMS)
    for sid in gone:
        state.docs.pop(sid, None)
    for doc in added:
        state.docs[doc.id] = _meta(doc, stat_key(out, doc.id))
    keep = [i for i, sid in enumerate(state.doc_ids) if sid not in gone]
    ids = [state.doc_ids[i] for i in keep] + [d.id for d in added]
    kept_vecs = state.doc_vectors if len(keep) == len(state.doc_ids) else state.doc_vectors[keep]
    state.doc_vectors = np.concatenate([kept_vecs, new_vecs])
    old_related = {k: v for k, v in state.related.items() if k not in gone}
    state.related = _related.update(old_related, ids, state.doc_vectors, fresh, gone)
    state.doc_ids = ids

    # Signal rows: keep the others in order, insert the new ones by key, replay from the first that moved.
    kept = [(row, i) for i, row in enumerate(state.rows) if row.scan_id not in gone]
    fresh_rows = [
        _signals.Occurrence(d.id, r.position, r.name, d.origin, d.date, d.host, r.description)
        for d in added
        for r in d.signals
    ]
    fresh_vecs = _vectors.vectors([r.text for d in added for r in d.signals], _vectors.ROW_DIMS)
    merged = kept + [(row, -1 - n) for n, row in enumerate(fresh_rows)]
    merged.sort(key=lambda pair: pair[0].key)
    start = 0
    while start < len(merged) and start < len(state.rows) and merged[start][1] == start:
        start += 1
    if start == len(state.rows) == len(kept):  # only new rows, all after the others: append
        state.row_vectors = np.concatenate([state.row_vectors, fresh_vecs[[-1 - i for _, i in merged[start:]]]])
    else:
        pool = np.concatenate([state.row_vectors, fresh_vecs])
        base = len(state.row_vectors)
        state.row_vectors = pool[[i if i >= 0 else base - 1 - i for _, i in merged]]
    state.rows = [row for row, _ in merged]
    _signals.assign(state.rows, state.row_vectors, start, json.loads(state.params)["threshold"])
    return len(state.rows) - start


def update(home: Path, out: Path, only: Iterable[str] | None = None, *, rebuild: bool = False) -> Updated:
    """Brings the store of `out` up to date. `only`: the scans known to have been written (a pipeline run);
    None: every scan of the folder is checked (new, changed by size or time then by content, gone)."""
    return _refresh(home, out, only, rebuild)[0]


def current(home: Path, out: Path) -> State:
    """The store of `out` brought up to date, for reading."""
    return _refresh(home, out, None, False)[1]


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    # Loading and saving make tens of thousands of small objects that all live on: the cyclic collector would
    # walk them again and again for nothing (measured: a third of an incremental update).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _refresh(home: Path, out: Path, only: Iterable[str] | None, rebuild: bool) -> tuple[Updated, State]:
    directory = store_dir(home, out)
    with locked(directory), _no_gc():
        state = None if rebuild else load(directory, params())
        if state is None:
            state = _empty(out)
        if only is None:
            present = scan_ids(out)
            stats = {s: stat_key(out, s) for s in present}
            candidates = [
                s for s in present
                if (state.docs[s].stat if s in state.docs else state.unreadable.get(s)) != stats[s]
            ]
            removed = set(state.docs) - set(present)
            state.unreadable = {s: v for s, v in state.unreadable.items() if s in stats}
        else:
            candidates = sorted(set(only))
            removed = set()
        added: list[ScanDoc] = []
        touched = False
        for sid in candidates:
            doc = read_scan(out, sid)
            if doc is None:
                if sid in state.docs:
                    removed.add(sid)
                # Not a scan (or gone): remembered, so that it is read again only once it changes.
                state.unreadable[sid], touched = stat_key(out, sid), True
                continue
            state.unreadable.pop(sid, None)
            known = state.docs.get(sid)
            if known is not None and known.fingerprint == doc.fingerprint:
                known.stat, touched = stat_key(out, sid), True  # touched, not changed
                continue
            added.append(doc)
        replayed = _apply(state, out, added, removed) if added or removed else 0
        if added or removed or touched or state.generation == 0:
            save(directory, state)
        return Updated(len(state.docs), len(added), len(removed), replayed, len(state.rows)), state
