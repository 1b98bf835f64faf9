"""The web archive is data on disk: an entry may only name its own body, beside it, and a body must match its
hash. A damaged entry is fetched again online and is a clear outcome offline, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.errors import ArchiveEntryError, Outcome, outcome_of
from extractor.fetch import Fetcher, FetchSettings, WebArchive
from tests.hardening.conftest import cli
from tests.pipeline.article_site import ArticleSite


def _fetcher(site: ArticleSite, archive: WebArchive, *, offline: bool = False) -> Fetcher:
    settings = FetchSettings(allow_hosts=frozenset(site.allow_hosts.split(",")), retries=0)
    return Fetcher(settings, offline=offline, archive=archive)


def _meta(archive: WebArchive, url: str) -> Path:
    key = archive.key(url)
    return archive.root / key[:2] / f"{key}.json"


def _edit(meta_path: Path, **changes: object) -> None:
    meta = json.loads(meta_path.read_text())
    meta.update(changes)
    meta_path.write_text(json.dumps(meta))


@pytest.fixture
def archive(tmp_path: Path, site: ArticleSite) -> WebArchive:
    """An archive holding article 0 of the site, fetched for real."""
    archive = WebArchive(tmp_path / "web")
    fetcher = _fetcher(site, archive)
    fetcher.fetch(site.url(0))
    fetcher.close()
    return archive


@pytest.mark.parametrize("body", ["ABSOLUTE", "../../secret.txt", "../00/x.html", "LINK"])
def test_an_entry_cannot_name_a_file_outside_its_folder(archive: WebArchive, site: ArticleSite, tmp_path: Path,
                                                        body: str) -> None:  # fmt: skip
    secret = tmp_path / "secret.txt"
    secret.write_text("a private key that must never be read as an article " * 40)
    meta_path = _meta(archive, site.url(0))
    if body == "ABSOLUTE":
        body = str(secret)
    elif body == "LINK":  # a well-formed body name that is a link to the secret
        link = meta_path.with_suffix(".txt")
        link.symlink_to(secret)
        body = link.name
    _edit(meta_path, body=body)
    with pytest.raises(ArchiveEntryError) as raised:
        _fetcher(site, archive, offline=True).fetch(site.url(0))
    assert "private key" not in str(raised.value)
    assert outcome_of(raised.value) is Outcome.HTTP_ERROR


def test_a_body_that_does_not_match_its_hash_is_refetched_online_and_refused_offline(
    archive: WebArchive, site: ArticleSite
) -> None:
    meta_path = _meta(archive, site.url(0))
    body_path = meta_path.parent / json.loads(meta_path.read_text())["body"]
    original = body_path.read_bytes()
    body_path.write_bytes(original.replace(b"<p>", b"<p>Planted text. ", 1))
    with pytest.raises(ArchiveEntryError, match="sha256"):
        _fetcher(site, archive, offline=True).fetch(site.url(0))
    hits = site.hits.get("/a/0.html", 0)
    page = _fetcher(site, archive).fetch(site.url(0))
    assert site.hits["/a/0.html"] == hits + 1 and page.content == original and not page.from_archive
    assert body_path.read_bytes() == original  # the entry was replaced by the fresh fetch
    assert _fetcher(site, archive, offline=True).fetch(site.url(0)).from_archive


def test_a_corrupt_entry_is_a_clear_outcome_through_the_command(env: dict[str, str], site: ArticleSite,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    archive = WebArchive(tmp_path / "web")
    fetcher = _fetcher(site, archive)
    fetcher.fetch(site.post_url)
    for n in range(site.posted):
        fetcher.fetch(site.url(n))
    fetcher.close()
    _meta(archive, site.url(1)).write_bytes(b'{"url": "trunc')
    out = tmp_path / "scans"
    post = site.post_url
    done = cli("page", post, "--offline", "--archive", str(archive.root), "--out", str(out), env=env)
    assert done.code == 0 and "Traceback" not in done.stderr, done.stderr
    data = json.loads(cli("status", "--json", env=env).stdout)
    outcome = {a["url"]: (a["outcome"], a["error"]) for a in data["articles"]}
    assert outcome[site.url(1)][0] == "http_error" and "damaged" in outcome[site.url(1)][1]
    assert outcome[site.url(0)][0] == "ok"
    # The source itself damaged: one line, exit 1 (a source that cannot be read).
    _meta(archive, post).write_bytes(b"\x00garbage")
    line = cli("page", post, "--offline", "--archive", str(archive.root), "--out", str(out), env=env).one_line_error(1)
    assert "damaged" in line
