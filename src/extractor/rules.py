"""One rule set for every scan: a model's answer before it is written, or a page read from an archive.

Hard rules are what would make a scan false or break its page: empty or repeated names, the same row in all four
secondary tables, a link or domain the article does not contain, HTML or markdown structure inside a field, text
copied from our own prompt, the wrong language. An answer that breaks one is re-asked; a page that breaks one is
reported by `extractor check`.

Soft rules are the archive's usual shape, measured on a sample of its 2024-2025 pages (docs/contract.md): word
counts and row counts outside the usual range. They are notes, recorded in the sidecar; nothing is re-asked or
refused for them alone.

Pure: no I/O. The article (for links) and the prompt's phrases (for echoes) are passed in by the caller.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from extractor.models import CATEGORIES, ENTRY_TABLES, TABLES, TYPES, Scan, Signal

# --- the contract: figures measured on the archive sample (docs/contract.md) --------------------------------

#: (low, high) of the usual range, about the 1st and 99th percentiles of the sample. Outside: a soft note.
USUAL_WORDS = {"title": (7, 16), "summary": (85, 150)}
USUAL_COUNTS = {"keywords": (5, 10), "themes": (3, 8), "signals": (3, 10), "concerns": (4, 10),
                "behaviors": (3, 10), "technologies": (1, 10), "issues": (4, 10)}  # fmt: skip
#: Longest usual cell, in words (the sample's maximum plus a margin).
USUAL_CELL_WORDS = {"name": 10, "description": 40, "change": 25, "ten_year": 25, "driving_force": 25}
#: Hard caps on list sizes for answers: the sample's maximum plus a margin (a longer list is a runaway answer).
MAX_ITEMS = {"keywords": 12, "themes": 12, "signals": 12, "table": 12}

#: A run of this many words shared with the prompt's instructions is an echo of the prompt, not of the article.
ECHO_WORDS = 6

# --- detectors ---------------------------------------------------------------------------------------------

# A scheme with its target: "javascript:alert(1)", "https://x"; not the word "data" before a colon in a sentence.
_SCHEME = re.compile(r"\b(?:(?:https?|ftp|file)://\S+|(?:javascript|data|mailto|vbscript|tel|sms):[^\s,;]+)",
                     re.IGNORECASE)
_PROTOCOL_RELATIVE = re.compile(r"(?<![\w:/])//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
_WWW = re.compile(r"\bwww\.[a-z0-9-]+", re.IGNORECASE)
# Top-level domains a model or an article is likely to write; enough to catch "evil.example/login" and
# "free-prizes.com" without flagging "Node.js" or "e.g.".
_TLDS = ("com|net|org|info|biz|io|ai|co|app|dev|xyz|site|online|link|click|top|live|news|page|blog|shop|store|"
         "tech|me|tv|ly|gg|sh|to|cc|us|uk|de|fr|es|it|nl|eu|ru|cn|jp|in|br|ca|au|ch|se|no|fi|dk|pl|be|at|cz|pt|"
         "ie|nz|za|kr|tw|hk|sg|example|test|invalid|localhost|onion|gov|edu|mil|int|zip|mov")  # fmt: skip
_DOMAIN = re.compile(rf"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS}))(?![\w-])(/\S*)?",
                     re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[a-z][a-z0-9-]*(?:\s[^<>]*)?/?>|<!--|-->", re.IGNORECASE)
_HTML_ENTITY = re.compile(r"&(?:[a-z]{2,8}|#\d{2,5}|#x[0-9a-f]{2,4});", re.IGNORECASE)
_MARKDOWN = (
    (re.compile(r"^\s{0,3}#{1,6}\s"), "a markdown heading"),
    (re.compile(r"!?\[[^\]\n]*\]\([^)\n]*\)"), "a markdown link"),
    (re.compile(r"```|`[^`\n]+`"), "markdown code"),
    (re.compile(r"\*\*[^*\n]+\*\*|(?<!\w)__[^_\n]+__(?!\w)"), "markdown emphasis"),
    (re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S"), "a markdown list item"),
    (re.compile(r"^\s*>\s"), "a markdown quote"),
    (re.compile(r"\|"), "a table pipe '|'"),
)
_ROLE_MARKER = re.compile(r"<\|?(?:im_start|im_end|system|assistant|user)\|?>|\[/?INST\]|^\s*(?:system|assistant)\s*:",
                          re.IGNORECASE | re.MULTILINE)
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass
class Problems:
    """What a scan breaks: `hard` makes it false or breaks its page, `soft` is off the archive's usual shape.
    One sentence each, phrased so that a model (or a person) can act on it."""

    hard: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)

    def extend(self, other: Problems) -> None:
        self.hard += other.hard
        self.soft += other.soft


@dataclass(frozen=True)
class Field:
    """One text field of a scan, with the place it sits (used in messages)."""

    where: str
    text: str
    cell: str = ""  # name, description, change, ten_year, driving_force; "" for title, summary, bullets


def words(text: str) -> int:
    return len(text.split())


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def fields_of(scan: Scan) -> list[Field]:
    out = [Field("title", scan.title), Field("summary", scan.summary)]
    out += [Field(f"keywords[{i}]", k) for i, k in enumerate(scan.keywords, 1)]
    out += [Field(f"themes[{i}]", t) for i, t in enumerate(scan.themes, 1)]
    for table in TABLES:
        for i, row in enumerate(scan.table(table), 1):
            where = f"{table}[{i}]"
            out.append(Field(where, row.name, "name"))
            out.append(Field(where, row.description, "description"))
            if isinstance(row, Signal):
                out += [Field(where, row.change, "change"), Field(where, row.ten_year, "ten_year"),
                        Field(where, row.driving_force, "driving_force")]  # fmt: skip
    return out


def links(text: str) -> list[str]:
    """Every link or domain written in `text`: schemes (including javascript:, data:, mailto:), `//host`,
    `www.`, and bare domains such as `evil.example/login`."""
    spans = sorted(((m.start(), m.end()) for rx in (_SCHEME, _PROTOCOL_RELATIVE, _WWW, _DOMAIN)
                    for m in rx.finditer(text)), key=lambda s: (s[0], -s[1]))  # fmt: skip
    found: list[str] = []
    end = -1
    for start, stop in spans:
        if stop <= end:  # inside a link already found ("x.org" in "https://x.org/p")
            continue
        found.append(text[start:stop])
        end = max(end, stop)
    return found


def _host(link: str) -> str:
    host = re.sub(r"^[a-z]+:(//)?", "", link.strip().lower())
    return host.lstrip("/").split("/")[0].removeprefix("www.")


@functools.lru_cache(maxsize=32)
def _article_links(article: str) -> tuple[str, frozenset[str]]:
    """The article case-folded and the hosts it names: computed once per article, not once per field (a scan has
    about sixty fields, and scanning the whole article for links each time was most of a run's CPU)."""
    return article.casefold(), frozenset(_host(link) for link in links(article))


def foreign_links(text: str, article: str) -> list[str]:
    """Links or domains in `text` that the article does not contain (compared by host, case-folded)."""
    haystack, known = _article_links(article)
    out = []
    for link in links(text):
        host = _host(link)
        if link.casefold() in haystack or (host and host in known):
            continue
        out.append(link)
    return out


def markup(text: str) -> list[str]:
    """HTML or markdown structure in one field, as phrases ("an HTML tag <b>", "a markdown heading")."""
    found = []
    tag = _HTML_TAG.search(text)
    if tag:
        found.append(f"HTML {tag.group(0)!r}")
    entity = _HTML_ENTITY.search(text)
    if entity:
        found.append(f"an HTML entity {entity.group(0)!r}")
    found += [what for rx, what in _MARKDOWN if rx.search(text)]
    if "\n" in text.strip():
        found.append("a line break")
    if _ROLE_MARKER.search(text):
        found.append("a chat role marker")
    return found


def echo_shingles(phrases: Iterable[str], n: int = ECHO_WORDS) -> frozenset[str]:
    """The `n`-word runs of the prompt's instructions, normalised: a field holding one echoes the prompt."""
    out: set[str] = set()
    for phrase in phrases:
        ws = _norm(phrase).split()
        out.update(" ".join(ws[i : i + n]) for i in range(len(ws) - n + 1))
    return frozenset(out)


#: A name from our own schema: CamelCase ("CompactScanAnswer") or snake_case ("ten_year"); never an ordinary word.
_IDENTIFIER = re.compile(r"(?:[A-Z][a-z0-9]+){2,}|[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def schema_identifiers(names: Iterable[str]) -> frozenset[str]:
    """The identifiers among `names` (the tool's name, its definitions, its field names), casefolded, for
    `echoes`: a field holding one copies the schema (a small model names its rows after the tool)."""
    return frozenset(n.casefold() for n in names if _IDENTIFIER.fullmatch(n))


def echoes(text: str, shingles: frozenset[str], n: int = ECHO_WORDS) -> str | None:
    """The first run of `n` words of `text` found in `shingles`, or a single word of `text` found there (only
    `schema_identifiers` are single words)."""
    for raw in text.split():
        token = raw.strip(".,;:!?\"'()[]{}").casefold()
        if token in shingles:
            return raw
    ws = _norm(text).split()
    for i in range(len(ws) - n + 1):
        run = " ".join(ws[i : i + n])
        if run in shingles:
            return run
    return None


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def check_scan(
    scan: Scan,
    *,
    article: str | None = None,
    echo: frozenset[str] = frozenset(),
    format_problems: bool = True,
) -> Problems:
    """Every hard and soft rule `scan` breaks. `article`: the text the model read (links are then checked against
    it; without it, as for an archive page, an explicit link is hard and a bare domain a soft note). `echo`: the
    prompt's shingles (`echo_shingles`). `format_problems`: include what the page format itself reports
    (`Scan.problems`); answers leave it out, their own rules say the same in words a model can act on."""
    p = Problems()
    for problem in scan.problems() if format_problems else ():
        # The format's own findings: a damaged page or row is hard; a missing optional section is soft.
        hard = problem.startswith(("unreadable section", "missing line", "empty name", "duplicate name",
                                   "relevancy out of range", "damaged", "empty summary", "missing section: Signals"))
        (p.hard if hard else p.soft).append(problem)
    if not scan.title.strip():
        p.hard.append("the title is empty")
    if not format_problems and not scan.signals:
        p.hard.append("signals is empty; give at least one signal")
    for f in fields_of(scan):
        _text_rules(f, p, article=article, echo=echo)
    p.extend(_shape_rules(scan, lists=not format_problems))
    return p


def _text_rules(f: Field, p: Problems, *, article: str | None, echo: frozenset[str]) -> None:
    label = f"{f.where} {f.cell}".strip()
    for what in markup(f.text):
        p.hard.append(f"{label} holds {what}; write plain text")
    if article is not None:
        bad = foreign_links(f.text, article)
        if bad:
            p.hard.append(f"{label} names {', '.join(map(repr, bad))}, which the article does not contain; remove it")
    else:
        explicit = [link for link in links(f.text) if not _DOMAIN.fullmatch(link)]
        bare = [link for link in links(f.text) if _DOMAIN.fullmatch(link)]
        if explicit:
            p.hard.append(f"{label} holds a link {explicit[0]!r}")
        if bare:
            p.soft.append(f"{label} names a domain {bare[0]!r}; check it against the article")
    if echo:
        run = echoes(f.text, echo)
        if run:
            p.hard.append(f"{label} copies the instructions or the schema ({run!r}); describe the article instead")
    limit = USUAL_CELL_WORDS.get(f.cell)
    if limit and words(f.text) > limit:
        p.soft.append(f"{label} has {words(f.text)} words; the archive's longest is about {limit}")


def _shape_rules(scan: Scan, *, lists: bool = True) -> Problems:
    """`lists`: also say when the category or type is outside its list (the page format already says so)."""
    p = Problems()
    for name in ("title", "summary"):
        n, (lo, hi) = words(getattr(scan, name)), USUAL_WORDS[name]
        if n and not lo <= n <= hi:
            p.soft.append(f"{name} has {n} word{'' if n == 1 else 's'}; the archive usually has {lo}-{hi}")
    for name in ("keywords", "themes", *TABLES):
        n = len(getattr(scan, name))
        lo, hi = USUAL_COUNTS[name]
        if not lo <= n <= hi:
            what = ("row" if name in TABLES else "item") + ("" if n == 1 else "s")
            p.soft.append(f"{name} has {n} {what}; the archive usually has {lo}-{hi}")
    if lists and scan.category is not None and scan.category not in CATEGORIES:
        p.soft.append(f"category {scan.category!r} is outside the list ({', '.join(CATEGORIES)})")
    if lists and scan.type is not None and scan.type not in TYPES:
        p.soft.append(f"type {scan.type!r} is outside the list ({', '.join(TYPES)})")
    p.extend(repeated_rows({t: [r.name for r in scan.table(t)] for t in TABLES}))
    return p


#: Part of the hard problem `repeated_rows` reports for a row copied into every secondary table.
COPIED = "is repeated in all four of"


def _tables_of(names: dict[str, Sequence[str]]) -> tuple[dict[str, list[str]], dict[str, str]]:
    tables_of: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for table in TABLES:
        for name in dict.fromkeys(_key(n) for n in names.get(table, ()) if n.strip()):
            tables_of.setdefault(name, []).append(table)
        for n in names.get(table, ()):
            shown.setdefault(_key(n), n)
    return tables_of, shown


def copied_names(names: dict[str, Sequence[str]]) -> set[str]:
    """The names (casefolded, spaces folded) found in every one of the four secondary tables."""
    return {k for k, tables in _tables_of(names)[0].items() if set(ENTRY_TABLES) <= set(tables)}


def name_key(name: str) -> str:
    """How `copied_names` compares names."""
    return _key(name)


def repeated_rows(names: dict[str, Sequence[str]]) -> Problems:
    """A name in every one of the four secondary tables is one row copied four times (hard); a name in two or
    three tables is common in the archive (soft)."""
    p = Problems()
    tables_of, shown = _tables_of(names)
    for key, tables in tables_of.items():
        if set(ENTRY_TABLES) <= set(tables):
            p.hard.append(f"{shown[key]!r} {COPIED} {', '.join(ENTRY_TABLES)}; give each table its own rows")
        elif len(tables) > 1:
            p.soft.append(f"{shown[key]!r} appears in {' and '.join(tables)}")
    return p
