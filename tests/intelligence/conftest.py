"""A small archive written by hand: three weak signals that come back across issues in other words (one row
in French that keeps the signal's own term), and unrelated signals, some sharing a word with a recurring one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from extractor.models import Entry, Provenance, Scan, Sidecar, Signal
from extractor.render import render

pytest.importorskip("numpy")


@dataclass(frozen=True)
class Row:
    name: str
    description: str
    truth: str  # which phenomenon: a recurring one's label, or the row's own name


REPAIR = [
    Row("Repair cafés spread to small towns",
        "Volunteers run repair cafés in village halls where residents fix broken toasters and lamps.", "repair"),
    Row("Rise of community repair cafés",
        "Community repair cafés multiply as residents bring broken appliances to volunteer fixers.", "repair"),
    Row("Essor des repair cafés",
        "Des bénévoles réparent les appareils cassés dans les repair cafés de quartier.", "repair"),
]
HEAT = [
    Row("Harbour water heat pumps",
        "Towns heat homes with large heat pumps drawing warmth from harbour water.", "heat"),
    Row("Seawater heat pumps for district heating",
        "District heating networks add heat pumps that take warmth from seawater in the harbour.", "heat"),
    Row("Heat pumps in harbours warm city districts",
        "Large heat pumps in harbours now supply district heating to whole neighbourhoods.", "heat"),
]
NIGHT = [
    Row("Night trains return", "Sleeper trains come back on routes between European capitals.", "night"),
    Row("Revival of night trains", "Operators relaunch night trains with sleeper cars between capitals.", "night"),
    Row("Night train comeback", "New night train routes with sleeper cars link capitals overnight.", "night"),
    Row("Sleeper trains are back", "Night trains with sleeper cars return to routes between capitals.", "night"),
]
UNRELATED = [
    Row(n, d, n)
    for n, d in [
        ("Drone deliveries of medicines", "Hospitals send blood samples and medicines between sites by drone."),
        ("Insect protein in school meals", "Canteens test cricket flour in biscuits served to pupils."),
        ("Wooden skyscrapers", "Architects build twenty-storey towers from cross-laminated timber."),
        ("Four-day work week pilots", "Firms trial a four-day week without cutting pay."),
        ("Cafés ban laptops", "Coffee shops forbid laptops at weekends to keep tables turning."),
        ("Heat waves close schools", "Schools shut during heat waves because classrooms overheat."),
        ("Train ticket price caps", "Governments cap regional train fares to fight inflation."),
        ("Repairing satellites in orbit", "Robotic spacecraft refuel and repair ageing satellites in orbit."),
        ("Seed libraries", "Libraries lend seeds that borrowers return after the harvest."),
        ("Bank branches close", "Rural bank branches close as customers move to mobile apps."),
    ]
]

# (origin, rows): one scan per item, in no particular order; origins carry the issue dates.
ISSUES: list[tuple[str, list[Row]]] = [
    ("20230110a", [REPAIR[0], UNRELATED[0]]),
    ("20230110b", [NIGHT[0], UNRELATED[1], UNRELATED[2]]),
    ("20230605a", [REPAIR[1], HEAT[0]]),
    ("20230901a", [NIGHT[1], UNRELATED[3]]),
    ("20231120a", [UNRELATED[4], UNRELATED[5]]),
    ("20240220a", [REPAIR[2], NIGHT[2]]),
    ("20240415a", [HEAT[1], UNRELATED[6], UNRELATED[7]]),
    ("20240610a", [UNRELATED[8], HEAT[2]]),
    ("20240830a", [NIGHT[3], UNRELATED[9]]),
]


def make_scan(origin: str, rows: list[Row], n: int) -> Scan:
    return Scan(
        title=f"{rows[0].name}: what changed",
        origin=origin,
        origin_url=f"https://kghosh.substack.com/p/{origin}",
        url=f"https://site{n}.example.org/articles/{origin}-{n}",
        keywords=[w for w in rows[0].name.lower().split() if len(w) > 4][:3] or ["misc"],
        themes=["cities" if n % 2 else "energy"],
        category=("city", "technology", "infrastructures")[n % 3],
        type="news",
        summary=" ".join(r.description for r in rows),
        signals=[
            Signal(name=r.name, description=r.description, change="c", ten_year="t", driving_force="f", relevancy=3)
            for r in rows
        ],
        concerns=[Entry(name=f"Concern about {rows[0].name.lower()}", description=rows[0].description)],
    )


def write(scan: Scan, out: Path, *, sidecar: bool = True, issue_date: str | None = None) -> None:
    (out / f"{scan.id}.md").write_text(render(scan), encoding="utf-8")
    if sidecar:
        sc = Sidecar.of(scan, Provenance())
        text = sc.to_json()
        if issue_date is not None:  # the field the sources work adds to provenance
            import json

            data = json.loads(text)
            data["provenance"]["issue_date"] = issue_date
            text = json.dumps(data)
        (out / f"{scan.id}.json").write_text(text, encoding="utf-8")


@dataclass
class HandArchive:
    out: Path
    scans: list[Scan]
    truth: dict[tuple[str, int], str]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("EXTRACTOR_HOME", str(path))
    return path


@pytest.fixture
def hand(tmp_path: Path, home: Path) -> HandArchive:
    out = tmp_path / "scans"
    out.mkdir()
    scans, truth = [], {}
    for n, (origin, rows) in enumerate(ISSUES):
        scan = make_scan(origin, rows, n)
        write(scan, out, sidecar=n % 2 == 0)  # half of them pages alone, as an imported archive
        scans.append(scan)
        for pos, row in enumerate(rows, 1):
            truth[(scan.id, pos)] = row.truth
    return HandArchive(out, scans, truth)
