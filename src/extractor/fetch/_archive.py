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
import re
from dataclasses import replace
from pathlib import Path

from extractor._atomic import atomic_write
from extractor.errors import ArchiveEntryError, OfflineMissError
from extractor.fetch._body import decode
from extractor.fetch._page import Page
from extractor.urls import canonicalize

_EXTENSIONS = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "txt", "text/markdown": "md"}
FORMAT = 1
_BODY_NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,8}")


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
        """The stored page for `url` (any URL with the same canonical form), or None. An entry that cannot be
        trusted (unreadable, its body named outside its folder, a body that does not match its hash) raises
        `ArchiveEntryError`: the archive is data on disk, and a damaged or planted entry must never be read as
        a page, nor make us read any other file."""
        meta_path = self._meta_path(url)
        try:
            raw = meta_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArchiveEntryError(f"web archive entry {meta_path}: {exc.strerror or exc}", url) from exc
        try:
            meta = json.loads(raw)
            body = self._body_path(meta_path, meta["body"])
            expected = str(meta["sha256"])
            status = int(meta["status"])
            final_url, content_type = str(meta["final_url"]), str(meta["content_type"])
            fetched_at = str(meta["fetched_at"])
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            raise ArchiveEntryError(f"web archive entry {meta_path} is damaged ({problem})", url) from None
        try:
            content = body.read_bytes()
        except OSError as exc:
            problem = f"body {body.name}: {exc.strerror or exc}"
            raise ArchiveEntryError(f"web archive entry {meta_path}: {problem}", url) from None
        if hashlib.sha256(content).hexdigest() != expected:
            problem = f"body {body.name} does not match its sha256"
            raise ArchiveEntryError(f"web archive entry {meta_path}: {problem}", url)
        text, charset = decode(content, meta.get("charset"))
        return Page(
            url=url,
            final_url=final_url,
            status=status,
            content_type=content_type,
            charset=charset,
            content=content,
            text=text,
            fetched_at=fetched_at,
            from_archive=True,
        )

    @staticmethod
    def _body_path(meta_path: Path, name: object) -> Path:
        """The body file an entry names: only `{key}.{ext}` beside the entry, as `put` writes it; never a path
        (absolute, `../`) nor a link leading out of the entry's folder."""
        if not (isinstance(name, str) and _BODY_NAME.fullmatch(name) and name.startswith(meta_path.stem + ".")):
            raise ValueError(f"body {name!r} is not a file name of this entry")
        path = meta_path.parent / name
        if path.resolve().parent != meta_path.parent.resolve():
            raise ValueError(f"body {name!r} leads out of the archive")
        return path

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
            try:
                found.append(str(json.loads(path.read_bytes())["canonical"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged entry: `get` says so when its URL is asked for
        return found

    def store(self, url: str, content: bytes, *, content_type: str = "text/html", charset: str = "utf-8",
              final_url: str | None = None, fetched_at: str = "2025-06-29T00:00:00Z") -> Page:
        """Stores a body obtained elsewhere (saved pages, fixtures)."""
        text, used = decode(content, charset)
        page = Page(url, final_url or url, 200, content_type, used, content, text, fetched_at)
        return replace(self.put(page), from_archive=False)
