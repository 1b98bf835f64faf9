"""Generated archives with planted recurring signals, for the intelligence tests and bench/intelligence.py.

A signal is a phenomenon: an adjective, a noun, a setting and a city ("solar microgrids in port cities in
Lyon"), described with a change drawn at random. A planted phenomenon comes back in several issues, each time
phrased differently: synonyms for the parts, another change, other templates, sometimes in French. Filler signals are distinct phenomena built from the same
words (they often share one or two parts with a planted one, which is what precision has to survive).
Everything is seeded: the same arguments give the same archive.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from extractor.models import Entry, Provenance, Scan, Sidecar, Signal
from extractor.render import render

# Each part: English synonyms, then one French form.
ADJECTIVES: list[tuple[list[str], str]] = [
    (["solar", "solar-powered", "sun-powered"], "solaires"),
    (["autonomous", "self-driving", "driverless"], "autonomes"),
    (["community-run", "cooperative", "citizen-owned"], "coopératifs"),
    (["modular", "prefabricated", "kit-built"], "modulaires"),
    (["biodegradable", "compostable", "plant-based"], "biodégradables"),
    (["underground", "subterranean", "below-ground"], "souterrains"),
    (["floating", "offshore", "water-borne"], "flottants"),
    (["second-hand", "refurbished", "pre-owned"], "reconditionnés"),
    (["algorithmic", "AI-driven", "machine-learning"], "algorithmiques"),
    (["wooden", "timber", "mass-timber"], "en bois"),
    (["nocturnal", "night-time", "after-dark"], "nocturnes"),
    (["rural", "countryside", "village"], "ruraux"),
    (["elderly-focused", "senior", "ageing-population"], "pour seniors"),
    (["low-tech", "frugal", "simple-technology"], "low-tech"),
    (["heat-resilient", "heat-proof", "climate-adapted"], "résistants à la chaleur"),
    (["shared", "pooled", "communal"], "partagés"),
    (["decentralised", "peer-to-peer", "distributed"], "décentralisés"),
    (["open-source", "openly licensed", "publicly documented"], "libres"),
    (["insect-based", "cricket-protein", "larvae-fed"], "à base d'insectes"),
    (["hydrogen-powered", "hydrogen-fuelled", "fuel-cell"], "à hydrogène"),
]
NOUNS: list[tuple[list[str], str]] = [
    (["microgrids", "neighbourhood power grids", "local energy networks"], "micro-réseaux"),
    (["delivery robots", "courier robots", "sidewalk delivery bots"], "robots de livraison"),
    (["repair cafés", "fix-it workshops", "repair clinics"], "cafés de réparation"),
    (["libraries", "lending libraries", "book-lending branches"], "bibliothèques"),
    (["ferries", "passenger boats", "water buses"], "navettes fluviales"),
    (["schoolyards", "school playgrounds", "school courtyards"], "cours d'école"),
    (["vertical farms", "indoor farms", "stacked greenhouses"], "fermes verticales"),
    (["cargo bikes", "freight bicycles", "box bikes"], "vélos-cargos"),
    (["heat pumps", "thermal pumps", "air-source heat pumps"], "pompes à chaleur"),
    (["data centres", "server farms", "computing facilities"], "centres de données"),
    (["housing units", "homes", "dwellings"], "logements"),
    (["tool libraries", "tool-lending sheds", "equipment lending hubs"], "outilthèques"),
    (["water kiosks", "drinking-water points", "public water taps"], "fontaines publiques"),
    (["drones", "unmanned aircraft", "quadcopters"], "drones"),
    (["clinics", "health centres", "medical posts"], "centres de santé"),
    (["markets", "street markets", "open-air bazaars"], "marchés"),
    (["batteries", "battery packs", "storage cells"], "batteries"),
    (["textiles", "fabrics", "garments"], "textiles"),
    (["currencies", "local money", "community tokens"], "monnaies locales"),
    (["sensors", "monitoring devices", "measuring probes"], "capteurs"),
    (["buses", "coaches", "minibuses"], "bus"),
    (["rooftops", "roof terraces", "building tops"], "toits"),
    (["cemeteries", "burial grounds", "graveyards"], "cimetières"),
    (["warehouses", "logistics depots", "storage halls"], "entrepôts"),
]
SETTINGS: list[tuple[list[str], str]] = [
    (["in port cities", "in harbour towns", "along busy docks"], "dans les villes portuaires"),
    (["for schools", "in education", "for pupils"], "pour les écoles"),
    (["among farmers", "on farms", "in agriculture"], "chez les agriculteurs"),
    (["in hospitals", "in healthcare", "for patients"], "à l'hôpital"),
    (["in mountain regions", "in alpine valleys", "in highland areas"], "en montagne"),
    (["for tourists", "in tourism", "for visitors"], "pour les touristes"),
    (["in prisons", "in detention centres", "for inmates"], "en prison"),
    (["on islands", "in island communities", "for islanders"], "sur les îles"),
    (["in deserts", "in arid zones", "in drylands"], "dans les déserts"),
    (["for students", "on campuses", "at universities"], "pour les étudiants"),
    (["in suburbs", "on the urban fringe", "in commuter towns"], "en banlieue"),
    (["at festivals", "at large events", "during concerts"], "lors des festivals"),
]
CHANGES: list[tuple[list[str], str]] = [
    (["spread to small towns", "reach smaller municipalities", "expand beyond big cities"],
     "gagnent les petites villes"),
    (["get their first regulation", "face new rules", "become regulated by law"], "sont enfin réglementés"),
    (["replace car trips", "substitute for driving", "cut the need for cars"], "remplacent la voiture"),
    (["attract insurers", "draw insurance companies", "become insurable assets"], "attirent les assureurs"),
    (["run at night", "operate after dark", "work night shifts"], "fonctionnent la nuit"),
    (["are funded by crowds", "raise money by crowdfunding", "rely on small donors"],
     "sont financés par la foule"),
    (["cut emissions", "lower carbon output", "reduce greenhouse gases"], "réduisent les émissions"),
    (["face vandalism", "suffer sabotage", "are targeted by vandals"], "subissent du vandalisme"),
    (["become tourist attractions", "draw sightseers", "turn into visitor magnets"],
     "deviennent des attractions"),
    (["are rented by subscription", "come as monthly subscriptions", "are leased per month"],
     "sont proposés en abonnement"),
]
CITIES = [
    "Lyon", "Osaka", "Nairobi", "Lima", "Gdansk", "Porto", "Hanoi", "Dakar", "Quebec", "Tromso", "Cebu", "Oaxaca",
    "Tbilisi", "Leeds", "Bilbao", "Accra", "Perth", "Tartu", "Recife", "Fez", "Kobe", "Turin", "Cork", "Izmir",
]
NAME_TEMPLATES = [
    "{Adj} {noun} {setting} in {city}", "{Adj} {noun} in {city} {setting}", "{city}: {adj} {noun} {setting}",
]
DESC_TEMPLATES = [
    "Reports from {city} show {adj} {noun} {setting} {change}, a shift few planners expected.",
    "Several pilots in {city} suggest that {adj} {noun} {change} {setting}.",
    "{Adj} {noun} {setting} now {change} in {city}, according to local officials.",
    "Observers in {city} note {adj} {noun} which {change} {setting}.",
]
#: How often a part is written in its usual form (else a synonym): the thing itself, and the other parts.
NOUN_SHARE = 0.85
PRIMARY_SHARE = 0.75
FR_NAME = "{noun} {adj} à {city} {setting}"
FR_DESC = "À {city}, les {noun} {adj} {change} {setting}, selon plusieurs acteurs locaux."


@dataclass(frozen=True)
class Phenomenon:
    adj: int
    noun: int
    setting: int
    city: int
    #: A filler's own words: most signals of a real archive are about things no other signal names.
    words: tuple[str, ...] = ()


@dataclass
class Archive:
    """What was generated, and the truth to score against."""

    scans: list[Scan] = field(default_factory=list)
    # (scan id, position in Signals) -> phenomenon; every planted and filler row is listed.
    truth: dict[tuple[str, int], Phenomenon] = field(default_factory=dict)
    planted: dict[Phenomenon, list[tuple[str, int, str]]] = field(default_factory=dict)  # -> (id, pos, date)


def _triples(p: Phenomenon) -> list[tuple[int, ...]]:
    parts = (p.adj, p.noun, p.setting, p.city)
    return [(i, *(parts[j] for j in range(4) if j != i)) for i in range(4)]


def shared_parts(a: Phenomenon, b: Phenomenon) -> int:
    if a.words or b.words:
        return 4 if a == b else 0
    return (a.adj == b.adj) + (a.noun == b.noun) + (a.setting == b.setting) + (a.city == b.city)


def _pick(forms: list[str], rng: random.Random, share: float = PRIMARY_SHARE) -> str:
    # Writers mostly keep the usual word for a thing and vary the rest.
    return forms[0] if rng.random() < share else rng.choice(forms[1:])


def phrase(p: Phenomenon, rng: random.Random, *, french: bool = False) -> tuple[str, str]:
    """A name and a description of the phenomenon, in words chosen at random."""
    change = rng.choice(CHANGES)
    city = CITIES[p.city]
    if p.words:
        w = p.words
        parts = {"adj": w[0], "noun": f"{w[1]} {w[2]}", "setting": f"for {w[3]}", "change": rng.choice(change[0])}
        parts |= {"city": city, "Adj": w[0].capitalize(), "Noun": w[1].capitalize() + " " + w[2]}
        name = rng.choice(NAME_TEMPLATES).format(**parts)
        return name[0].upper() + name[1:], rng.choice(DESC_TEMPLATES).format(**parts)
    if french:
        parts = {
            "adj": ADJECTIVES[p.adj][1], "noun": NOUNS[p.noun][1],
            "setting": SETTINGS[p.setting][1], "change": change[1], "city": city,
        }
        name = FR_NAME.format(**parts)
        return name[0].upper() + name[1:], FR_DESC.format(**parts)
    parts = {
        "adj": _pick(ADJECTIVES[p.adj][0], rng), "noun": _pick(NOUNS[p.noun][0], rng, NOUN_SHARE),
        "setting": _pick(SETTINGS[p.setting][0], rng), "change": rng.choice(change[0]), "city": city,
    }
    parts |= {"Adj": parts["adj"][0].upper() + parts["adj"][1:], "Noun": parts["noun"][0].upper() + parts["noun"][1:]}
    name = rng.choice(NAME_TEMPLATES).format(**parts)
    return name[0].upper() + name[1:], rng.choice(DESC_TEMPLATES).format(**parts)


def lexicon(size: int, rng: random.Random) -> list[str]:
    """Made-up words, as many as a real archive's vocabulary holds."""
    onsets = ["b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "pl", "st"]
    vowels, codas = ["a", "e", "i", "o", "u", "ai", "ou"], ["", "n", "r", "s", "l"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(rng.randint(2, 3))))
    return sorted(words)


def issue_dates(count: int, start: date = date(2023, 1, 2), every: int = 3) -> list[date]:
    return [start + timedelta(days=every * i) for i in range(count)]


def generate(
    scans: int,
    *,
    planted: int,
    signals_per_scan: int = 8,
    other_rows: int = 3,
    per_issue: int = 5,
    occurrences: tuple[int, int] = (3, 6),
    french_share: float = 0.15,
    decoys: int = 2,
    seed: int = 7,
) -> Archive:
    """`scans` scans, `per_issue` per issue, each with `signals_per_scan` signals and `other_rows` rows in each
    other table; `planted` phenomena recur in 3-6 issues each with `decoys` near misses each, the other
    signals are distinct phenomena."""
    rng = random.Random(seed)
    every = itertools.product(range(len(ADJECTIVES)), range(len(NOUNS)), range(len(SETTINGS)), range(len(CITIES)))
    pool = [Phenomenon(*t) for t in every]
    rng.shuffle(pool)
    recurring = pool[:planted]
    # Near misses: for each planted phenomenon, `decoys` others that share two of its four parts (its noun and
    # one more) and at most two with any planted one, seen once each. The other signals are made of words of
    # their own, as most signals of a real archive are.
    planted_triples = {t for p in recurring for t in _triples(p)}
    near: list[Phenomenon] = []
    for p in recurring:
        close = [
            q for q in pool[planted:]
            if q.noun == p.noun and shared_parts(p, q) == 2 and not planted_triples & set(_triples(q))
        ]
        near.extend(rng.sample(close, min(decoys, len(close))))
    words = lexicon(5000, rng)

    def filler() -> Phenomenon:
        return Phenomenon(0, 0, 0, rng.randrange(len(CITIES)), tuple(rng.sample(words, 4)))

    dates = issue_dates((scans + per_issue - 1) // per_issue)
    slots: dict[int, dict[int, Phenomenon]] = {}  # scan number -> position -> planted phenomenon
    issues = len(dates)
    for p in recurring:
        times = rng.randint(*occurrences)
        chosen = sorted(rng.sample(range(issues), times))
        for issue in chosen:
            n = issue * per_issue + rng.randrange(per_issue)
            n = min(n, scans - 1)
            free = [pos for pos in range(1, signals_per_scan + 1) if pos not in slots.get(n, {})]
            slots.setdefault(n, {})[rng.choice(free)] = p
    for q in near:
        n = rng.randrange(scans)
        free = [pos for pos in range(1, signals_per_scan + 1) if pos not in slots.get(n, {})]
        if free:
            slots.setdefault(n, {})[rng.choice(free)] = q
    archive = Archive()
    for n in range(scans):
        issue = n // per_issue
        day = dates[issue]
        origin = day.strftime("%Y%m%d") + "abcdefghij"[n % per_issue]
        url = f"https://news{n % 97}.example.org/{day.isoformat()}/article-{n}"
        rows: list[Signal] = []
        names: set[str] = set()
        ids: list[tuple[int, Phenomenon]] = []
        for pos in range(1, signals_per_scan + 1):
            p = slots.get(n, {}).get(pos) or filler()
            for _ in range(20):  # names must differ within a scan
                name, desc = phrase(p, rng, french=rng.random() < french_share)
                if name.casefold() not in names:
                    break
            names.add(name.casefold())
            rows.append(Signal(name=name, description=desc, change="c", ten_year="t", driving_force="f", relevancy=3))
            ids.append((pos, p))
        lead = ids[0][1]
        entries = {
            t: [Entry(name=f"{t} {n}-{i} {NOUNS[(n + i) % len(NOUNS)][0][0]}", description=f"{t} row of scan {n}")
                for i in range(other_rows)]
            for t in ("concerns", "behaviors", "technologies", "issues")
        }
        scan = Scan(
            title=f"{rows[0].name} (article {n})",
            origin=origin,
            origin_url=f"https://kghosh.substack.com/p/{origin}",
            url=url,
            keywords=[NOUNS[lead.noun][0][0], ADJECTIVES[lead.adj][0][0], f"topic {n % 40}"]
            if not lead.words else [*lead.words[:2], f"topic {n % 40}"],
            themes=[SETTINGS[lead.setting][0][0], CITIES[lead.city]],
            category=("technology", "city", "science", "infrastructures")[n % 4],
            type=("news", "blog post", "research article")[n % 3],
            summary=" ".join(r.description for r in rows[:3]),
            signals=rows,
            **entries,
        )
        archive.scans.append(scan)
        for pos, p in ids:
            archive.truth[(scan.id, pos)] = p
            if p in set(recurring):
                archive.planted.setdefault(p, []).append((scan.id, pos, day.isoformat()))
    return archive


def write(archive: Archive, out: Path, *, sidecars: bool = True) -> None:
    """Writes every scan's page (and sidecar) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for scan in archive.scans:
        write_scan(scan, out, sidecar=sidecars)


def write_scan(scan: Scan, out: Path, *, sidecar: bool = True) -> None:
    (out / f"{scan.id}.md").write_bytes(render(scan).encode("utf-8"))
    if sidecar:
        (out / f"{scan.id}.json").write_bytes(Sidecar.of(scan, Provenance()).to_json().encode("utf-8"))


def score(archive: Archive, entries: list[dict[str, object]]) -> dict[str, float]:
    """Pairwise recall of planted recurrences, pairwise precision of every merge (pairs of fillers that share
    three of their four parts are left out: whether they are one phenomenon is a matter of judgement), and the
    share of planted phenomena found whole (one entry holding exactly their rows)."""
    entry_of: dict[tuple[str, int], str] = {}
    members: dict[str, list[tuple[str, int]]] = {}
    for e in entries:
        for occ in e["occurrences"]:  # type: ignore[attr-defined]
            key = (occ["scan_id"], occ["position"])
            entry_of[key] = str(e["id"])
            members.setdefault(str(e["id"]), []).append(key)
    same = together = 0
    for rows in archive.planted.values():
        for a, b in itertools.combinations(rows, 2):
            same += 1
            together += entry_of[a[:2]] == entry_of[b[:2]]
    merged = right = ambiguous = 0
    for rows in members.values():
        for a, b in itertools.combinations(rows, 2):
            if shared_parts(archive.truth[a], archive.truth[b]) == 3:
                ambiguous += 1  # two fillers differing in one part only: judged neither way
                continue
            merged += 1
            right += archive.truth[a] == archive.truth[b]
    whole = sum(
        1 for rows in archive.planted.values()
        if len({entry_of[r[:2]] for r in rows}) == 1 and len(members[entry_of[rows[0][:2]]]) == len(rows)
    )
    return {
        "recall": together / same if same else 1.0,
        "precision": right / merged if merged else 1.0,
        "whole": whole / len(archive.planted) if archive.planted else 1.0,
        "merged_pairs": float(merged),
        "ambiguous_pairs": float(ambiguous),
    }
