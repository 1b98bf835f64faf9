"""An mkdocs hook (loaded by mkdocs from this file's path, see `mkdocs_config`): puts each page's HTML body in
place of its marker paragraph.

Page bodies are HTML already (rendered with autoescaping in `_pages`). Handing 3,000 pages of raw HTML to
Python-Markdown costs more than half of a build (its HTML parser runs over every tag twice), so each markdown
source holds only a marker naming the body's digest, and the body waits in `bodies/` beside the docs folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MARKER = re.compile(r"<p>XS-BODY-[0-9a-f]{16}</p>")


def body_path(docs_dir: Path, src_uri: str) -> Path:
    return docs_dir.parent / "bodies" / f"{src_uri}.html"


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    match = MARKER.search(html)
    if match is None:
        return html
    body = body_path(Path(config["docs_dir"]), page.file.src_uri).read_text(encoding="utf-8")
    return html[: match.start()] + body + html[match.end() :]
