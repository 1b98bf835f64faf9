"""The shape the model must answer in, and every rule an answer must meet beyond its types.

Validators read the article through the validation context (`context={"grounder": Grounder, ...}`), so that
instructor re-asks with the exact list of what was wrong: a quote not in the article, a link it does not contain,
HTML in a field, a copied instruction. Only hard rules (`extractor.rules`) are re-asked; soft ones (the archive's
usual lengths and counts) are kept as notes in the sidecar. All hard errors of an answer are reported at once, so
one re-ask can fix them all.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from rapidfuzz import fuzz

from extractor.extract._grounding import Grounder, normalize
from extractor.extract._language import detect, name
from extractor.models import ARCHIVE, CATEGORIES, TYPES, Scan
from extractor.rules import COPIED, MAX_ITEMS, USUAL_WORDS, Problems, check_scan

#: The usual range in the archive (a soft rule: outside it is a note, never a re-ask). The embedded model's
#: grammar keeps its own bound on title words (TITLE_PATTERN).
TITLE_WORDS = USUAL_WORDS["title"]
SUMMARY_WORDS = USUAL_WORDS["summary"]
SUMMARY_MAX_WORDS = SUMMARY_WORDS[1]
QUOTE_MAX_WORDS = 40
#: change and ten_year this similar (rapidfuzz ratio of normalised text) say the same thing.
SAME_TEXT = 85.0

Category = Literal["technology", "science", "politics", "sport", "city", "infrastructures", "others"]
Kind = Literal["blog post", "news", "research article", "social network", "error message", "others"]
assert set(Category.__args__) == set(CATEGORIES) and set(Kind.__args__) == set(TYPES)  # type: ignore[attr-defined]


class _Compact(BaseModel):
    """The schema sent to the model, trimmed: no per-field titles (they repeat the keys and cost prompt tokens on
    every call) and no string lengths (llama.cpp expands `maxLength: 400` into a 37 kB grammar that crashed
    its server; the lengths are still enforced by validation, and re-asked)."""

    model_config = ConfigDict(extra="ignore")

    #: Keep minItems/maxItems in the schema sent. Off for the full answer: validation enforces the caps and the
    #: prompt states the usual counts, so the bounds only cost prompt tokens on every call. On for the embedded
    #: model, whose grammar needs them.
    schema_item_bounds: ClassVar[bool] = False

    @classmethod
    def model_json_schema(  # type: ignore[override]
        cls,
        by_alias: bool = True,
        ref_template: str = "#/$defs/{model}",
        schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
        mode: JsonSchemaMode = "validation",
        **kwargs: Any,
    ) -> dict[str, Any]:
        schema = super().model_json_schema(by_alias, ref_template, schema_generator, mode, **kwargs)
        title = schema.get("title")
        schema = dict(_drop_titles(schema, bounds=not cls.schema_item_bounds))
        if title:  # the tool name comes from the root title
            schema["title"] = title
        return schema


def _drop_titles(node: Any, *, bounds: bool) -> Any:
    if isinstance(node, dict):
        return {
            k: _drop_titles(v, bounds=bounds)
            for k, v in node.items()
            if not (k == "title" and isinstance(v, str))
            and not (k in ("maxLength", "minLength") and node.get("type") == "string")
            and not (bounds and k in ("maxItems", "minItems") and node.get("type") == "array")
        }
    if isinstance(node, list):
        return [_drop_titles(v, bounds=bounds) for v in node]
    return node


class Row(_Compact):
    name: str = Field(max_length=100)
    description: str = Field(max_length=400)
    evidence: str = Field(max_length=400)


class SignalRow(Row):
    change: str = Field(max_length=300)
    ten_year: str = Field(max_length=300)
    driving_force: str = Field(max_length=300)
    relevancy: Literal[1, 2, 3, 4, 5]


class ScanAnswer(_Compact):
    """Scan of the article."""

    # The docstring above is the tool's description, sent with every call: kept short on purpose. Every table
    # row carries its evidence quote; the prompt says what each field means.

    # List caps: the archive sample's maximum plus a margin (docs/contract.md); a longer list is a runaway answer.
    title: str = Field(max_length=200)
    summary: str = Field(max_length=1500)
    keywords: list[str] = Field(min_length=3, max_length=MAX_ITEMS["keywords"])
    themes: list[str] = Field(min_length=2, max_length=MAX_ITEMS["themes"])
    category: Category
    type: Kind
    signals: list[SignalRow] = Field(min_length=1, max_length=MAX_ITEMS["signals"])
    concerns: list[Row] = Field(max_length=MAX_ITEMS["table"])
    behaviors: list[Row] = Field(max_length=MAX_ITEMS["table"])
    technologies: list[Row] = Field(max_length=MAX_ITEMS["table"])
    issues: list[Row] = Field(max_length=MAX_ITEMS["table"])

    def rows(self) -> list[tuple[str, Row]]:
        found: list[tuple[str, Row]] = [("signals", s) for s in self.signals]
        for table in ("concerns", "behaviors", "technologies", "issues"):
            found += [(table, r) for r in getattr(self, table)]
        return found

    def texts(self) -> list[str]:
        out = [self.title, self.summary, *self.keywords, *self.themes]
        for _, row in self.rows():
            out += [row.name, row.description]
            if isinstance(row, SignalRow):
                out += [row.change, row.ten_year, row.driving_force]
        return out

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> ScanAnswer:
        ctx = info.context or {}
        found = problems(self, ctx.get("grounder"), language=ctx.get("language"), grounding=ctx.get("grounding", True),
                         echo=ctx.get("echo", frozenset()), repairs=ctx.get("repairs", False))  # fmt: skip
        if found.hard:  # soft problems never refuse an answer: they become notes in the sidecar
            raise ValueError("; ".join(found.hard))
        return self

    def as_scan(self) -> Scan:
        """The answer as a scan, values kept as written (for the rule set; the pipeline builds its own)."""
        tables: dict[str, list[dict[str, Any]]] = {}
        for table, row in self.rows():
            tables.setdefault(table, []).append(row.model_dump(exclude={"evidence"}))
        data = {"title": self.title, "origin": "", "origin_url": "", "url": "", "keywords": self.keywords,
                "themes": self.themes, "category": self.category, "type": self.type, "summary": self.summary,
                **tables}  # fmt: skip
        return Scan.model_validate(data, context=ARCHIVE)


class CompactScanAnswer(ScanAnswer):
    """Fewer rows, for small local models: every answer token costs about 0.1 s on two CPU cores, and a
    135M-parameter model has little worth saying beyond its first row or two anyway (measured: with 3 signals and
    2 rows per table its answers ran to the output limit, repeating one phrase)."""

    keywords: list[str] = Field(min_length=3, max_length=5)
    themes: list[str] = Field(min_length=2, max_length=3)
    signals: list[SignalRow] = Field(min_length=1, max_length=1)
    concerns: list[Row] = Field(max_length=1)
    behaviors: list[Row] = Field(max_length=1)
    technologies: list[Row] = Field(max_length=1)
    issues: list[Row] = Field(max_length=1)

    #: When set (`with_quotes`), the schema's evidence is an enum of these article sentences.
    quote_choices: ClassVar[tuple[str, ...]] = ()
    schema_item_bounds: ClassVar[bool] = True

    @classmethod
    def with_quotes(cls, quotes: list[str]) -> type[CompactScanAnswer]:
        """This answer model for one article: its schema offers `quotes` as the only evidence values, so a
        grammar-constrained model can only quote the article verbatim. Validation is unchanged (the quotes are
        still checked against the article); the class keeps its name, which is the tool's name."""
        if not quotes:
            return cls
        return type(cls.__name__, (cls,), {"__module__": cls.__module__, "__doc__": cls.__doc__,
                                           "quote_choices": tuple(quotes)})  # fmt: skip

    @classmethod
    def model_json_schema(  # type: ignore[override]
        cls,
        by_alias: bool = True,
        ref_template: str = "#/$defs/{model}",
        schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
        mode: JsonSchemaMode = "validation",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """With tight string lengths, which a grammar turns into a bound on every string: a small model that
        starts repeating itself inside a string is stopped there, not at the output limit. Kept short, the
        grammar stays about 28 kB with the quote enum (the full model's lengths made a 37 kB one that crashed
        llama.cpp; tests/extract/test_quotes.py keeps it under 32 kB)."""
        schema = super().model_json_schema(by_alias, ref_template, schema_generator, mode, **kwargs)
        for definition in schema.get("$defs", {}).values():
            for key, prop in definition.get("properties", {}).items():
                if key in GRAMMAR_LENGTHS:
                    prop["pattern"] = _text(GRAMMAR_LENGTHS[key])
        props = schema["properties"]
        props["summary"]["pattern"] = _text(GRAMMAR_LENGTHS["summary"])
        for key in ("keywords", "themes"):
            # No JSON punctuation in a keyword: measured, the model otherwise wrote `"} {"` items.
            props[key]["items"]["pattern"] = rf"^{_TERM}{{2,{GRAMMAR_LENGTHS['item']}}}$"
        # The title's word count, as a pattern (bounded repetition of words: a small grammar). Validation
        # still counts the words.
        props["title"]["pattern"] = TITLE_PATTERN
        if cls.quote_choices:
            # One shared enum, referenced by every row: the literals appear once in the grammar. Evidence comes
            # first in each row, so the model picks the sentence and then names what it shows.
            schema["$defs"]["Quote"] = {"type": "string", "enum": list(cls.quote_choices)}
            for key in ("Row", "SignalRow"):
                definition = schema["$defs"][key]
                rest = {k: v for k, v in definition["properties"].items() if k != "evidence"}
                definition["properties"] = {"evidence": {"$ref": "#/$defs/Quote"}, **rest}
        return schema


_WORD = r'[^ "\\\x00-\x1F]{1,24}'
TITLE_PATTERN = rf"^{_WORD}( {_WORD}){{{TITLE_WORDS[0] - 1},{TITLE_WORDS[1] - 1}}}$"
def _text(max_chars: int) -> str:
    """A bounded string as a pattern rather than `maxLength`: the same size of grammar, but it also keeps out
    raw control characters (llama-cpp-python's plain string rule lets a newline through, which is invalid JSON:
    measured), braces and brackets (measured: the model filled fields with `}] }} {`) and empty strings."""
    return rf"^{_CHAR}{{2,{max_chars}}}$"


_CHAR = r'[^"\\\x00-\x1F{}\[\]]'
_TERM = r'[^"\\\x00-\x1F{}\[\],:]'
GRAMMAR_LENGTHS = {"title": 160, "summary": 300, "item": 30, "name": 40, "description": 100, "evidence": 160,
                   "change": 80, "ten_year": 80, "driving_force": 80}  # fmt: skip


def limits(model: type[ScanAnswer]) -> dict[str, tuple[int, int]]:
    """(min, max) items per list field, read from the model so the prompt states what validation enforces."""
    out: dict[str, tuple[int, int]] = {}
    for field_name in ("keywords", "themes", "signals", "concerns"):
        lo, hi = 0, 0
        for meta in model.model_fields[field_name].metadata:
            lo = getattr(meta, "min_length", None) or lo
            hi = getattr(meta, "max_length", None) or hi
        out[field_name] = (lo, hi)
    return out


def _words(text: str) -> int:
    return len(text.split())


def schema_names(model: type[BaseModel]) -> list[str]:
    """Every name the schema sent for `model` shows the model: its title (the tool's name), its definitions and
    their titles, its field names."""
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("title"), str):
                names.append(node["title"])
            for key in ("$defs", "properties"):
                if isinstance(node.get(key), dict):
                    names.extend(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(model.model_json_schema())
    return names


def problems(
    answer: ScanAnswer,
    grounder: Grounder | None,
    *,
    language: str | None,
    grounding: bool,
    echo: frozenset[str] = frozenset(),
    repairs: bool = False,
) -> Problems:
    """Every rule the answer breaks, one sentence each, phrased as an instruction the model can act on: the
    answer's own rules (evidence, language, repeats) and the shared rule set (`extractor.rules.check_scan`).
    `repairs`: leave out the problems the extractor repairs when the re-asks are spent (a row copied into every
    secondary table)."""
    found = Problems()
    errors = found.hard
    if not answer.summary.strip():
        errors.append("summary is empty")
    if "\n\n" in answer.summary.strip():
        errors.append("summary must be one paragraph")
    for field in ("keywords", "themes"):
        items: list[str] = getattr(answer, field)
        if any(not i.strip() for i in items):
            errors.append(f"{field} holds an empty item")
        dupes = _duplicates(items)
        if dupes:
            errors.append(f"{field} repeat {', '.join(map(repr, dupes))}; list each once")
    tables: dict[str, list[Row]] = {}
    for table, row in answer.rows():
        tables.setdefault(table, []).append(row)
    for table, rows in tables.items():
        dupes = _duplicates([r.name for r in rows])
        if dupes:
            errors.append(f"{table} repeat the name {', '.join(map(repr, dupes))}; names must differ")
        for i, row in enumerate(rows, 1):
            where = f"{table}[{i}] {row.name!r}"
            if not row.name.strip():
                errors.append(f"{table}[{i}] has an empty name")
            if not row.description.strip():
                errors.append(f"{where} has an empty description")
            if isinstance(row, SignalRow):
                if not row.ten_year.strip() or not row.change.strip():
                    errors.append(f"{where} needs both change and ten_year")
                elif fuzz.ratio(normalize(row.change), normalize(row.ten_year)) >= SAME_TEXT:
                    found.soft.append(f"{where}: ten_year repeats change; say where it may lead in ten years")
            if _words(row.evidence) > QUOTE_MAX_WORDS:
                errors.append(f"{where}: evidence is longer than {QUOTE_MAX_WORDS} words; quote a short passage")
            elif grounding and grounder is not None:
                match = grounder.check(row.evidence)
                if not match.verified:
                    errors.append(
                        f"{where}: evidence {row.evidence!r} is {match.reason}; copy a sentence of the article verbatim"
                    )
    shared = check_scan(answer.as_scan(), article=grounder.article if grounder is not None else None, echo=echo,
                        format_problems=False)  # fmt: skip
    if repairs:  # rows copied into every secondary table: the copies are left out of the scan (Extractor._result)
        shared.hard = [h for h in shared.hard if COPIED not in h]
    found.extend(shared)
    if language:
        written = detect(f"{answer.title}. {answer.summary}")
        if written is not None and written != language:
            errors.append(f"the answer is written in {name(written)}; write it in {name(language)}")
    return found


def _duplicates(items: list[str]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for item in items:
        key = " ".join(item.split()).casefold()
        if key in seen and item not in dupes:
            dupes.append(item)
        seen.add(key)
    return dupes
