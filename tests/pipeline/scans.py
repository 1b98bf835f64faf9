"""Building valid scans for the output tests (values vary with the arguments; nothing is recorded)."""

from __future__ import annotations

from extractor.models import Entry, Provenance, Scan, Signal, Usage


def make_scan(n: int, origin: str = "20250629d", title: str | None = None) -> Scan:
    return Scan(
        title=title or f"Article number {n}",
        origin=origin,
        origin_url=f"https://kghosh.substack.com/p/{origin}" if origin else "",
        url=f"https://example.org/articles/{n}",
        keywords=[f"keyword {n}", "cities"],
        themes=["urban change"],
        category="city",
        type="news",
        summary=f"Summary of article {n}.",
        signals=[
            Signal(name=f"signal {n}", description="d", change="c", ten_year="t", driving_force="f", relevancy=3)
        ],
        concerns=[Entry(name=f"concern {n}", description="worry")],
        technologies=[Entry(name="sensors", description="cheap"), Entry(name="drones", description="fast")],
    )


def make_provenance(created_at: str) -> Provenance:
    return Provenance(
        model="stub", prompt_version="v1", usage=Usage(prompt_tokens=10, completion_tokens=5), attempts=1,
        created_at=created_at,
    )
