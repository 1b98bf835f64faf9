"""Checks one scan page: does it parse, does it render back byte for byte (directly and through its JSON form),
and which rules it breaks (`extractor.rules`: hard, soft). Pure: the caller reads the files."""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.errors import ScanFormatError
from extractor.models import Sidecar
from extractor.parse import parse
from extractor.render import render
from extractor.rules import check_scan


@dataclass(frozen=True)
class Difference:
    line: int  # 1-based
    expected: str | None  # None: the page ended before this line
    got: str | None


@dataclass(frozen=True)
class CheckResult:
    path: str
    parsed: bool
    error: str | None = None
    error_line: int | None = None
    roundtrip: bool = False
    difference: Difference | None = None
    problems: list[str] = field(default_factory=list)
    #: The rule set's findings (`extractor.rules.check_scan`), one sentence each.
    hard: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return not (self.parsed and self.roundtrip)


def first_difference(expected: str, got: str) -> Difference | None:
    if expected == got:
        return None
    a, b = expected.split("\n"), got.split("\n")
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) else None
        right = b[i] if i < len(b) else None
        if left != right:
            return Difference(i + 1, left, right)
    # same lines, different bytes elsewhere (a BOM, the end of the file)
    return Difference(len(a), a[-1], b[-1])


def check_text(text: str, path: str = "-", *, echo: frozenset[str] = frozenset()) -> CheckResult:
    """`echo`: the prompt's word runs (`PromptTemplate.echo`), to find text copied from our own instructions."""
    try:
        scan = parse(text)
    except ScanFormatError as exc:
        return CheckResult(path, parsed=False, error=exc.reason, error_line=exc.line or None,
                           hard=[f"not a scan page: {exc}"])  # fmt: skip
    again = render(Sidecar.from_json(Sidecar.of(scan).to_json()).scan)
    found = check_scan(scan, echo=echo)
    return CheckResult(
        path,
        parsed=True,
        roundtrip=again == text,
        difference=first_difference(text, again),
        problems=scan.problems(),
        hard=found.hard,
        soft=found.soft,
    )
