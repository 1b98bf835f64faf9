"""`WebArchive`: raw responses on disk, keyed by canonical URL, so reruns never refetch and `--offline` works.

Layout under the root (by default `EXTRACTOR_HOME/web/`): for each canonical URL, with `key` the sha256 hex
digest of the canonical URL, `{key[:2]}/{key}.json` (metadata) and `{key[:2]}/{key}.{ext}` (the decompressed
body, byte for byte). The JSON holds `url`, `canonical`, `final_url`, `status`, `content_type`, `charset`,
`fetched_at`, `body` (the body's file name) and `sha256` (of the body). Writes are atomic (temp file + rename),
so concurrent workers and interrupted runs never leave half an entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from extractor._atomic import atomic_write
from extractor.errors import OfflineMissError
from extractor.fetch._body import decode
from extractor.fetch._page import Page
from extractor.urls import canonicalize

_EXTENSIONS = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "txt", "text/markdown": "md"}
FORMAT = 1


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)


class WebArchive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(canonicalize(url).encode("utf-8")).hexdigest()

    def _meta_path(self, url: str) -> Path:
        key = self.key(url)
        return self.root / key[:2] / f"{key}.json"

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self._meta_path(url).is_file()

    def get(self, url: str) -> Page | None:
        """The stored page for `url` (any URL with the same canonical form), or None."""
        meta_path = self._meta_path(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            content = (meta_path.parent / meta["body"]).read_bytes()
        except FileNotFoundError:
            return None
        text, charset = decode(content, meta.get("charset"))
        return Page(
            url=url,
            final_url=meta["final_url"],
            status=int(meta["status"]),
            content_type=meta["content_type"],
            charset=charset,
            content=content,
            text=text,
            fetched_at=meta["fetched_at"],
            from_archive=True,
        )

    def load(self, url: str) -> Page:
        page = self.get(url)
        if page is None:
            raise OfflineMissError(f"not in the web archive at {self.root}: {url}", url)
        return page

    def put(self, page: Page) -> Page:
        """Stores `page` under its URL's canonical form; returns it unchanged."""
        meta_path = self._meta_path(page.url)
        ext = _EXTENSIONS.get(page.content_type, "xml" if "xml" in page.content_type else "body")
        body_name = f"{meta_path.stem}.{ext}"
        meta = {
            "format": FORMAT,
            "url": page.url,
            "canonical": canonicalize(page.url),
            "final_url": page.final_url,
            "status": page.status,
            "content_type": page.content_type,
            "charset": page.charset,
            "fetched_at": page.fetched_at,
            "body": body_name,
            "sha256": hashlib.sha256(page.content).hexdigest(),
        }
        _atomic_write(meta_path.parent / body_name, page.content)
        # The metadata goes last: an entry exists only once its body is complete.
        _atomic_write(meta_path, (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        return page

    def urls(self) -> list[str]:
        """Canonical URLs of every entry."""
        found = []
        for path in sorted(self.root.glob("*/*.json")):
            found.append(json.loads(path.read_text(encoding="utf-8"))["canonical"])
        return found

    def store(self, url: str, content: bytes, *, content_type: str = "text/html", charset: str = "utf-8",
              final_url: str | None = None, fetched_at: str = "2025-06-29T00:00:00Z") -> Page:
        """Stores a body obtained elsewhere (saved pages, fixtures)."""
        text, used = decode(content, charset)
        page = Page(url, final_url or url, 200, content_type, used, content, text, fetched_at)
        return replace(self.put(page), from_archive=False)
