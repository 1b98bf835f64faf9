"""Where intelligence keeps what it computed for one folder of scans: `EXTRACTOR_HOME/intelligence/{key}/`, the
key derived from the folder's absolute path. `state.pickle` holds the scans' fingerprints and metadata, the
signal rows and their decisions, and the related lists; two `.npy` files hold the vectors. Every file is
written atomically and the vectors carry a generation number named in the state, so a killed update leaves
the previous state readable. One writer at a time (a lock file). It is a cache: deleting it costs a rebuild."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.intelligence._signals import Occurrence
from extractor.output import atomic_write

if TYPE_CHECKING:
    from extractor.intelligence._vectors import Matrix

STORE_DIR = "intelligence"
_STATE = "state.pickle"
_ROW_FIELDS = [f.name for f in fields(Occurrence)]


@dataclass
class DocMeta:
    """What is kept of one scan besides its vectors."""

    stat: str
    fingerprint: str
    origin: str
    date: str | None
    host: str
    title: str
    category: str | None
    type: str | None
    keywords: list[str]
    themes: list[str]


@dataclass
class State:
    params: str
    out: str
    docs: dict[str, DocMeta] = field(default_factory=dict)
    doc_ids: list[str] = field(default_factory=list)  # order of doc_vectors' rows
    doc_vectors: Matrix | None = None
    related: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    rows: list[Occurrence] = field(default_factory=list)  # in decision order, like row_vectors' rows
    row_vectors: Matrix | None = None
    generation: int = 0
    unreadable: dict[str, str] = field(default_factory=dict)  # pages that are not scans, by stat key


def store_dir(home: Path, out: Path) -> Path:
    key = hashlib.sha256(str(out.resolve()).encode("utf-8")).hexdigest()[:16]
    return home / STORE_DIR / key


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Holds the store's lock: a pipeline run and a command updating the same store take turns."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _npy(matrix: Matrix) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, matrix, allow_pickle=False)
    return buf.getvalue()


def save(directory: Path, state: State) -> None:
    import numpy as np

    state.generation += 1
    gen = state.generation
    empty = np.zeros((0, 1), dtype=np.float32)
    atomic_write(directory / f"docs.{gen}.npy", _npy(state.doc_vectors if state.doc_vectors is not None else empty))
    atomic_write(directory / f"rows.{gen}.npy", _npy(state.row_vectors if state.row_vectors is not None else empty))
    data = {
        "params": state.params,
        "out": state.out,
        "generation": gen,
        "docs": {k: vars(v) for k, v in state.docs.items()},
        "doc_ids": state.doc_ids,
        "related": state.related,
        "unreadable": state.unreadable,
        # Column by column: tens of thousands of rows are written on every update, and this is the fast way.
        "rows": {f: [getattr(r, f) for r in state.rows] for f in _ROW_FIELDS},
    }
    # pickle, not JSON: eight times faster both ways on an archive of thousands of scans, which is what keeps
    # an incremental update within its two seconds. The store is a cache that only this module writes.
    atomic_write(directory / _STATE, pickle.dumps(data, protocol=5))
    for old in directory.glob("*.npy"):
        if not old.name.endswith(f".{gen}.npy"):
            with contextlib.suppress(FileNotFoundError):
                old.unlink()


def load(directory: Path, params: str) -> State | None:
    """The stored state, or None when there is none, it was made with other parameters, or it is unreadable."""
    import numpy as np

    try:
        data: dict[str, Any] = pickle.loads((directory / _STATE).read_bytes())
        if data.get("params") != params:
            return None
        gen = int(data["generation"])
        docs_v = np.load(directory / f"docs.{gen}.npy", allow_pickle=False)
        rows_v = np.load(directory / f"rows.{gen}.npy", allow_pickle=False)
        state = State(
            params=params,
            out=data["out"],
            docs={k: DocMeta(**v) for k, v in data["docs"].items()},
            doc_ids=list(data["doc_ids"]),
            doc_vectors=docs_v,
            related={k: [(str(a), float(b)) for a, b in v] for k, v in data["related"].items()},
            rows=[Occurrence(*values) for values in zip(*(data["rows"][f] for f in _ROW_FIELDS), strict=True)],
            row_vectors=rows_v,
            generation=gen,
            unreadable=dict(data.get("unreadable", {})),
        )
    except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError, pickle.UnpicklingError):
        return None
    if len(state.doc_ids) != len(docs_v) or len(state.rows) != len(rows_v):
        return None
    return state
