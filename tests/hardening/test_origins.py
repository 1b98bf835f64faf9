"""Origins are issue ids: a draft's odd file name gives pages that pass `check`, and `--origin` refuses values
such as `javascript:…` that would end up as links in the page header and the index."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from extractor.check import check_text
from extractor.errors import ConfigError
from extractor.models import Scan, Signal
from extractor.render import render
from extractor.urls import check_origin, origin_slug
from tests.hardening.conftest import cli
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM


def test_a_draft_with_an_odd_name_gives_pages_that_pass_check(env: dict[str, str], site: ArticleSite,
                                                              tmp_path: Path) -> None:  # fmt: skip
    draft = tmp_path / "weird name (1) [x].md"
    draft.write_text("# Draft\n\n" + "\n".join(f"* [Article {n}]({site.url(n)})" for n in range(2)) + "\n")
    out = tmp_path / "scans"
    done = cli("page", str(draft), "--out", str(out), env=env)
    assert done.code == 0, done.stderr
    pages = [p for p in out.glob("*.md") if p.name != "index.md"]
    assert len(pages) == 2
    checked = cli("check", *map(str, pages), env=env)
    assert checked.code == 0, checked.stdout + checked.stderr
    for page in pages:
        header = page.read_text().split("\n", 1)[0]
        assert header.endswith("(from page [weird-name-1-x](https://kghosh.substack.com/p/weird-name-1-x).)")


def test_origin_option_refuses_what_is_not_an_issue_id(env: dict[str, str], site: ArticleSite, llm: StubLLM,
                                                       tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "scans"
    for bad in ("javascript:alert(1)", "x](https://evil.test)"):
        line = cli("scan", site.url(0), "--origin", bad, "--out", str(out), env=env).one_line_error()
        assert "--origin" in line
    assert llm.calls == 0
    assert not out.exists() or not any(out.glob("*.md"))
    done = cli("scan", site.url(0), "--origin", "20250629d", "--out", str(out), env=env)
    assert done.code == 0, done.stderr
    assert "[20250629d](https://kghosh.substack.com/p/20250629d)" in (out / "index.md").read_text()


def test_check_origin() -> None:
    for bad in ("javascript:alert(1)", "a b", "20250629d]", "[x]", "-x", "a/b", "x" * 81):
        try:
            check_origin(bad)
        except ConfigError:
            continue
        raise AssertionError(bad)
    assert [check_origin(o) for o in ("20250629d", "20250629", "weekly-notes-12", "")] == [
        "20250629d", "20250629", "weekly-notes-12", ""]  # fmt: skip


@given(st.text(max_size=120))
def test_any_name_gives_an_origin_a_page_header_keeps(name: str) -> None:
    origin = origin_slug(name)
    assert check_origin(origin) == origin
    scan = Scan(title="A title", origin=origin, origin_url=f"https://kghosh.substack.com/p/{origin}",
                url="https://a.test/1", keywords=["k"], themes=["t"], category="technology", type="news",
                summary="A summary.", signals=[Signal(name="s", description="d", change="c", ten_year="t",
                                                      driving_force="f", relevancy=3)])  # fmt: skip
    result = check_text(render(scan))
    assert result.parsed and result.roundtrip, result
