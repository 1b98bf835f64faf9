"""Recorded answers: an httpx2 transport under the openai client that answers from files, or records them.

A request's key is a hash of its JSON body minus the model name, so a change of prompt, schema or settings is a
miss (a 404 the openai client reports as a permanent error) rather than a silently stale answer. Files are
`DIR/{key}.json`, each holding the server's response body, pretty-printed so a review can read it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import httpx2

MISS_CODE = "replay_miss"


def request_key(body: bytes) -> str:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return hashlib.sha256(body).hexdigest()[:32]
    if isinstance(data, dict):
        data.pop("model", None)
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


class ReplayTransport(httpx2.BaseTransport):
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        key = request_key(request.read())
        path = self.directory / f"{key}.json"
        if not path.is_file():
            error = {"message": f"replay: no recorded answer for this request (key {key}) in {self.directory}",
                     "type": "invalid_request_error", "code": MISS_CODE}  # fmt: skip
            return httpx2.Response(404, json={"error": error}, request=request)
        return httpx2.Response(
            200, content=path.read_bytes(), headers={"content-type": "application/json"}, request=request
        )


class RecordingTransport(httpx2.BaseTransport):
    """Passes requests on and writes every successful chat completion to `directory`."""

    def __init__(self, directory: Path, inner: httpx2.BaseTransport | None = None) -> None:
        self.directory = directory
        self.inner = inner or httpx2.HTTPTransport()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        key = request_key(request.read())
        response = self.inner.handle_request(request)
        if response.status_code == 200 and request.url.path.endswith("/chat/completions"):
            body = response.read()
            text = json.dumps(json.loads(body), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            with self._lock:
                self.directory.mkdir(parents=True, exist_ok=True)
                (self.directory / f"{key}.json").write_text(text, encoding="utf-8")
            return httpx2.Response(200, content=body, headers=response.headers, request=request)
        return response

    def close(self) -> None:
        self.inner.close()
