"""The scan: what one article becomes. Pure data, no I/O.

Two ways to build a `Scan`:
- strict (the default, `Scan(...)` or `Scan.model_validate(d)`): what the pipeline writes. Category and type from
  their lists, relevancy in range, no empty or duplicate names.
- archive (`Scan.model_validate(d, context=ARCHIVE)`): what old scans hold. Every value is kept as read, so that
  the page re-renders byte for byte; `problems()` reports what strict mode would have refused.

`Layout` records how a page read from an archive was laid out (section order, spacing, column widths) so the
renderer can write it back unchanged. A scan the pipeline makes has the default layout: the 2025 format.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from extractor._tables import clean_text

CATEGORIES = ("technology", "science", "politics", "sport", "city", "infrastructures", "others")
TYPES = ("blog post", "news", "research article", "social network", "error message", "others")
RELEVANCY_MIN, RELEVANCY_MAX = 0, 5
TABLES = ("signals", "concerns", "behaviors", "technologies", "issues")
ENTRY_TABLES = ("concerns", "behaviors", "technologies", "issues")
NEWSLETTER_HOST = "kghosh.substack.com"

#: Pass as `context=` to `Scan.model_validate` to keep old values instead of refusing them.
ARCHIVE: dict[str, Any] = {"archive": True}


def fold_cell(text: str) -> str:
    """One line of text as the renderer writes it: newlines folded to spaces, control characters dropped,
    outer whitespace gone (tabulate strips cells anyway, so a scan that kept it would not survive a round trip)."""
    return clean_text(text).strip()


def scan_id(url: str) -> str:
    """The archive's id of a scan: md5 of Python's printed form of the URL's UTF-8 bytes, e.g. `b'https://…'`.

    The url is the one found in the newsletter, as found (see `extractor.urls` for canonical forms)."""
    return hashlib.md5(str(url.encode("utf-8")).encode("ascii")).hexdigest()


def _archive(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("archive"))


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    relevancy: int | None = None

    @field_validator("name", "description", mode="after")
    @classmethod
    def _fold(cls, value: str, info: ValidationInfo) -> str:
        if _archive(info):
            return value
        value = fold_cell(value)
        if info.field_name == "name" and not value:
            raise ValueError("name is empty")
        return value

    @field_validator("relevancy", mode="after")
    @classmethod
    def _in_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and not _archive(info) and not RELEVANCY_MIN <= value <= RELEVANCY_MAX:
            raise ValueError(f"relevancy {value} is outside {RELEVANCY_MIN}-{RELEVANCY_MAX}")
        return value


class Signal(_Row):
    """A weak signal: something small now that may matter in ten years."""

    change: str = ""
    ten_year: str = ""
    driving_force: str = ""

    @field_validator("change", "ten_year", "driving_force", mode="after")
    @classmethod
    def _fold_more(cls, value: str, info: ValidationInfo) -> str:
        return value if _archive(info) else fold_cell(value)


class Entry(_Row):
    """A row of the Concerns, Behaviors, Technologies or Issues table."""


class Related(BaseModel):
    """A bullet of the 2023 `## Closest` section: `* [{title}]({target})`."""

    model_config = ConfigDict(extra="forbid")

    title: str
    target: str


class RawSection(BaseModel):
    """A section the parser could not read, kept line for line so the page still renders back unchanged."""

    model_config = ConfigDict(extra="forbid")

    lines: list[str]
    error: str


class Layout(BaseModel):
    """How a page was laid out, when it is not the 2025 default. Only the renderer and the parser read it."""

    model_config = ConfigDict(extra="forbid")

    #: `page`: `# __t__, (from page [o](u).)` (2024-25); `from`: `# __t__, from ([o](u).)` (2023).
    header: Literal["page", "from"] = "page"
    #: False for a page with no `__[External link](…)__` line (its url is unknown: "").
    link: bool = True
    #: Section names in the order they stand on the page, empty ones included. None: the 2025 order, with the
    #: sections of empty tables left out.
    sections: list[str] | None = None
    #: Column headers per table, when not the 2025 ones (2024 adds `relevancy` everywhere; 2023 Signals differ).
    columns: dict[str, list[str]] = Field(default_factory=dict)
    #: How cell widths were counted for padding: code points, or terminal cells (pages written with wcwidth).
    measure: Literal["chars", "display"] = "chars"
    #: Padded widths per table, when neither measure explains the page's padding.
    widths: dict[str, list[int]] = Field(default_factory=dict)
    #: Blank lines between consecutive blocks, when they differ from the default spacing.
    gaps: list[int] | None = None
    #: Sections kept as found because they could not be read (reported by `Scan.problems`).
    raw: dict[str, RawSection] = Field(default_factory=dict)
    #: Line ending and what follows the last line (the format wants none).
    newline: str = "\n"
    tail: str = ""
    bom: bool = False

    def is_default(self) -> bool:
        return self == Layout()


class Scan(BaseModel):
    """One article's scan: the content of one markdown page."""

    model_config = ConfigDict(extra="forbid")

    title: str
    origin: str = Field(description="id of the newsletter issue the link came from, e.g. 20250629d")
    origin_url: str = Field(description="the newsletter page of origin, https://{host}/p/{origin}")
    url: str = Field(description="the article, as found in the newsletter")
    keywords: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    category: str | None = None
    type: str | None = None
    summary: str = ""
    signals: list[Signal] = Field(default_factory=list)
    concerns: list[Entry] = Field(default_factory=list)
    behaviors: list[Entry] = Field(default_factory=list)
    technologies: list[Entry] = Field(default_factory=list)
    issues: list[Entry] = Field(default_factory=list)
    closest: list[Related] = Field(default_factory=list)
    layout: Layout = Field(default_factory=Layout)

    @property
    def id(self) -> str:
        return scan_id(self.url)

    @field_validator("title", "summary", "origin", "url", "origin_url", mode="after")
    @classmethod
    def _one_line(cls, value: str, info: ValidationInfo) -> str:
        return value if _archive(info) else fold_cell(value)

    @field_validator("keywords", "themes", mode="after")
    @classmethod
    def _bullets(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return value if _archive(info) else [fold_cell(v) for v in value]

    @field_validator("category", mode="after")
    @classmethod
    def _category(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not _archive(info) and value not in CATEGORIES:
            raise ValueError(f"category {value!r} is not one of {', '.join(CATEGORIES)}")
        return value

    @field_validator("type", mode="after")
    @classmethod
    def _type(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not _archive(info) and value not in TYPES:
            raise ValueError(f"type {value!r} is not one of {', '.join(TYPES)}")
        return value

    @model_validator(mode="after")
    def _distinct_names(self, info: ValidationInfo) -> Scan:
        if not _archive(info):
            errors = [p for p in self.problems() if p.startswith("duplicate")]
            if errors:
                raise ValueError("; ".join(errors))
        return self

    def table(self, name: str) -> list[Signal] | list[Entry]:
        if name not in TABLES:
            raise KeyError(name)
        rows: list[Signal] | list[Entry] = getattr(self, name)
        return rows

    def problems(self) -> list[str]:
        """What strict mode refuses or a reader should know, one sentence each. Empty for a clean scan."""
        found: list[str] = []
        for name, raw in self.layout.raw.items():
            found.append(f"unreadable section {name}, kept as found: {raw.error}")
        if not self.layout.link:
            found.append("missing line: External link (the article's url is unknown)")
        if self.category is None:
            found.append("missing section: Other (category)")
        elif self.category not in CATEGORIES:
            found.append(f"category outside the list: {self.category!r}")
        if self.type is None:
            if self.category is not None:
                found.append("missing type")
        elif self.type not in TYPES:
            found.append(f"type outside the list: {self.type!r}")
        if not self.summary.strip():
            found.append("empty summary")
        for name in ("keywords", "themes"):
            items: list[str] = getattr(self, name)
            if not items:
                found.append(f"empty {name}")
            short = [i for i in items if len(i.strip()) <= 1]
            if short and len(short) * 2 >= len(items):
                found.append(f"damaged {name}: {len(short)} of {len(items)} bullets hold one character or none")
        if re.fullmatch(r"\d+\.\d+", self.origin):
            found.append(f"damaged origin: {self.origin!r} is a number, not an issue id")
        if not self.signals:
            found.append("missing section: Signals")
        for table in TABLES:
            seen: set[str] = set()
            for n, row in enumerate(self.table(table), 1):
                key = " ".join(row.name.split()).casefold()
                if not key:
                    found.append(f"empty name in {table} row {n}")
                elif key in seen:
                    found.append(f"duplicate name in {table}: {row.name!r}")
                seen.add(key)
                if row.relevancy is not None and not RELEVANCY_MIN <= row.relevancy <= RELEVANCY_MAX:
                    found.append(f"relevancy out of range in {table} row {n}: {row.relevancy}")
        return found


# --- the sidecar: the versioned JSON form written beside each .md -----------------------------------------

SIDECAR_SCHEMA = "extractor.scan/1"


class Usage(BaseModel):
    """Tokens spent on one article, cumulative over every attempt and re-ask."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Evidence(BaseModel):
    """The verbatim quote that backs one table row, and whether it was found in the article."""

    table: str
    name: str
    quote: str
    verified: bool
    score: float | None = None
    #: The whole row, when it is left out of the scan and kept here instead: its quote was not found (`verified`
    #: false), or it copied a row into every secondary table (the first stays in the scan; see `notes`).
    row: dict[str, Any] | None = None


class Provenance(BaseModel):
    """Where a scan came from. Every field is optional: an imported archive page has none of them."""

    source: str | None = None  # the newsletter post, feed or draft the link was found in
    canonical_url: str | None = None
    final_url: str | None = None  # after redirects
    fetched_at: str | None = None  # ISO 8601, UTC
    # sha256 of the article text. The pipeline writes the whole article's hash (bare hex, its rerun key in the
    # ledger); the extractor used alone writes the hash of the text it sent, prefixed "sha256:".
    content_hash: str | None = None
    truncated: bool = False  # the article was cut to the token budget (outcome too_long)
    backend: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    prompt_hash: str | None = None
    usage: Usage | None = None
    attempts: int | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    #: Soft problems of the answer (off the archive's usual shape): notes, never a reason to re-ask or refuse.
    notes: list[str] = Field(default_factory=list)
    #: Sentences of the article that addressed the model ("ignore all previous instructions"...), removed from
    #: what was sent.
    removed: list[str] = Field(default_factory=list)
    created_at: str | None = None
    extractor_version: str | None = None
    # Written only when known (see `OPTIONAL_PROVENANCE`): the newsletter issue's date (YYYY-MM-DD), the
    # article's own date, author and site name as the page gives them, and the archive page a scan was imported
    # from (`extractor import`).
    issue_date: str | None = None
    article_date: str | None = None
    author: str | None = None
    site_name: str | None = None
    imported_from: str | None = None


#: Provenance keys left out of a sidecar when unknown, so sidecars written before they existed stay unchanged.
OPTIONAL_PROVENANCE = ("issue_date", "article_date", "author", "site_name", "imported_from")


class Sidecar(BaseModel):
    """`{id}.json`: the scan, its layout and its provenance, versioned by `schema`."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(default=SIDECAR_SCHEMA, alias="schema")
    id: str
    scan: Scan
    provenance: Provenance = Field(default_factory=Provenance)

    @classmethod
    def of(cls, scan: Scan, provenance: Provenance | None = None) -> Sidecar:
        # The parts are validated models already; validating again would refuse archive values.
        return cls.model_construct(schema_=SIDECAR_SCHEMA, id=scan.id, scan=scan, provenance=provenance or Provenance())

    def to_json(self) -> str:
        data = self.model_dump(mode="json", by_alias=True)
        if self.scan.layout.is_default():
            del data["scan"]["layout"]
        for key in OPTIONAL_PROVENANCE:
            if data["provenance"].get(key) is None:
                data["provenance"].pop(key, None)
        for key in ("notes", "removed"):  # written only when there is something to say
            if not data["provenance"].get(key):
                data["provenance"].pop(key, None)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, *, archive: bool = True) -> Sidecar:
        """Reads a sidecar; archive values are kept (they were valid enough to be written)."""
        data = json.loads(text)
        if data.get("schema") != SIDECAR_SCHEMA:
            raise ValueError(f"not a scan sidecar (schema {data.get('schema')!r}, expected {SIDECAR_SCHEMA!r})")
        return cls.model_validate(data, context=ARCHIVE if archive else None)
