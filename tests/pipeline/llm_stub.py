"""A loopback OpenAI-compatible chat server for pipeline tests and `bench/pipeline.py`.

It answers every `/v1/chat/completions` request with a scan built from the article in the request (title and
summary from its first sentences, evidence quotes copied verbatim), so the extractor's validation and grounding
pass without a model. `latency` seconds are slept per call (the bench uses 2 s, a hosted model's pace); `calls`
counts requests, so a test can assert that a rerun made none. Tool-call answers when the request has `tools`,
JSON content otherwise.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ARTICLE = re.compile(r"<article>\s*(.*?)\s*</article>", re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _sentences(text: str) -> list[str]:
    found = [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if len(s.split()) >= 6]
    return found or [" ".join(text.split()[:12])]


def _quote(sentence: str) -> str:
    return " ".join(sentence.split()[:14])


def answer_for(article: str) -> dict[str, Any]:
    """A valid ScanAnswer for `article`: every text comes from the article, every quote is verbatim."""
    sents = _sentences(article)
    words = " ".join(sents).split()
    title = " ".join(words[:12]).rstrip(".,;:")
    summary = " ".join(sents[:2])
    vocab = sorted({w.strip(".,;:!?\"'()").lower() for w in words if len(w) > 6})[:20] or ["article"]
    keywords = list(dict.fromkeys(vocab[:5]))
    while len(keywords) < 3:
        keywords.append(f"topic {len(keywords) + 1}")
    themes = [f"{keywords[0]} and society", f"future of {keywords[1]}"]

    def row(i: int) -> dict[str, Any]:
        s = sents[i % len(sents)]
        return {"name": f"{keywords[i % len(keywords)]} item {i}", "description": s[:200], "evidence": _quote(s)}

    signals = [
        row(i)
        | {
            "change": f"More {keywords[i % len(keywords)]} appears now",
            "ten_year": f"In ten years institutions are reorganised around {keywords[(i + 1) % len(keywords)]}",
            "driving_force": "cost and convenience",
            "relevancy": 3,
        }
        for i in range(2)
    ]
    return {
        "title": title,
        "summary": summary,
        "keywords": keywords,
        "themes": themes,
        "category": "technology",
        "type": "news",
        "signals": signals,
        "concerns": [row(2)],
        "behaviors": [],
        "technologies": [row(3)],
        "issues": [],
    }


class StubLLM:
    """`with StubLLM(latency=2.0) as llm:` then `EXTRACTOR_LLM=llm.base_url`, `EXTRACTOR_MODEL=llm.model`."""

    model = "stub-model"

    def __init__(self, latency: float = 0.0, host: str = "127.0.0.1") -> None:
        self.latency = latency
        self.calls = 0
        #: Requests answered at once, now and at most: what a concurrency limit on the model must bound.
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with stub._lock:
                    stub.calls += 1
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    time.sleep(stub.latency)
                    data = json.dumps(stub.completion(body)).encode()
                finally:
                    with stub._lock:
                        stub.in_flight -= 1
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # /v1/models
                data = json.dumps({"object": "list", "data": [{"id": stub.model, "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []) if m.get("role") == "user")
        found = _ARTICLE.search(text)
        args = json.dumps(answer_for(found.group(1) if found else text))
        prompt_tokens = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            message["tool_calls"] = [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}
            ]
            finish = "tool_calls"
        else:
            message["content"] = args
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(args.split()),
                "total_tokens": prompt_tokens + len(args.split()),
            },
        }

    def start(self) -> StubLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
