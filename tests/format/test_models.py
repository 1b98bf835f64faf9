"""Strict scans refuse what the pipeline must never write; archive scans keep it and report it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from extractor.models import ARCHIVE, Scan, Sidecar, scan_id

BASE = {
    "title": "A title",
    "origin": "20250629d",
    "origin_url": "https://kghosh.substack.com/p/20250629d",
    "url": "https://www.workingtheorys.com/p/the-job-isnt-just-the-job",
    "category": "technology",
    "type": "blog post",
    "summary": "One line.",
    "keywords": ["a"],
    "themes": ["b"],
}
SIGNAL = {"name": "S", "description": "d", "change": "c", "ten_year": "t", "driving_force": "f", "relevancy": 3}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"category": "culture"}, "category 'culture'"),
        ({"type": "podcast"}, "type 'podcast'"),
        ({"signals": [{**SIGNAL, "relevancy": 9}]}, "relevancy 9"),
        ({"signals": [{**SIGNAL, "name": "  \n "}]}, "name is empty"),
        (
            {"concerns": [{"name": "X", "description": "a"}, {"name": " x ", "description": "b"}]},
            "duplicate name in concerns",
        ),
    ],
)
def test_strict_mode_refuses(change: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as caught:
        Scan.model_validate({**BASE, **change})
    assert words in str(caught.value)
    kept = Scan.model_validate({**BASE, **change}, context=ARCHIVE)
    assert kept.problems(), "archive mode keeps the value and reports it"


def test_strict_mode_folds_newlines_and_controls() -> None:
    scan = Scan.model_validate({**BASE, "title": "Two\nlines\x1b", "signals": [{**SIGNAL, "description": " a\r\nb "}]})
    assert scan.title == "Two lines"
    assert scan.signals[0].description == "a b"


def test_scan_id_is_the_archive_md5_of_the_printed_bytes() -> None:
    import hashlib

    seed = "https://www.workingtheorys.com/p/the-job-isnt-just-the-job"
    assert scan_id(seed) == hashlib.md5(b"b'" + seed.encode() + b"'").hexdigest()
    url = "https://example.org/café?q='x'"
    assert scan_id(url) == hashlib.md5(repr(url.encode("utf-8")).encode()).hexdigest()
    assert repr(url.encode()).startswith('b"'), "a quote in the URL switches Python's printed form to double quotes"


def test_sidecar_has_room_for_provenance() -> None:
    scan = Scan.model_validate(BASE)
    sidecar = Sidecar.of(scan)
    sidecar.provenance.model = "smollm2"
    data = sidecar.to_json()
    back = Sidecar.from_json(data)
    assert back.id == scan.id and back.scan == scan
    assert back.provenance.model == "smollm2"
    assert back.provenance.usage is None and back.provenance.evidence == []
    assert '"schema": "extractor.scan/1"' in data
