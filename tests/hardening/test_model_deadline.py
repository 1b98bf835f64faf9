"""The model call has a wall-clock deadline: a server that trickles a byte at a time cannot hold a worker past
EXTRACTOR_TIMEOUT (it held one 184 s with a 5 s timeout), and the call is not retried against it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from extractor.errors import ModelDeadlineError, Outcome, outcome_of
from extractor.extract import make_extractor
from extractor.extract._settings import LLMSettings
from tests.pipeline.article_site import article_text


class Trickler:
    """A loopback HTTP server that answers every request one byte every `pace` seconds, for minutes: in the
    status line and headers (`where="headers"`) or in a body announced whole (`where="body"`)."""

    def __init__(self, where: str, pace: float = 0.3) -> None:
        self.where = where
        self.pace = pace
        self.requests = 0
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            payload = b'{"id": "x", "object": "chat.completion", "choices": []}' + b" " * 10_000
            head_out = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + b"x-pad: " + b"a" * 10_000 + b"\r\n"
            if self.where == "body":
                conn.sendall(head_out + f"content-length: {len(payload)}\r\n\r\n".encode())
                trickle = payload
            else:
                trickle = head_out + f"content-length: {len(payload)}\r\n\r\n".encode() + payload
            try:
                for byte in trickle:
                    if self._stop.wait(self.pace):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def __enter__(self) -> Trickler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()


@pytest.fixture(params=["headers", "body"])
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    with Trickler(request.param) as server:
        yield server


def test_a_trickling_model_server_is_cut_at_the_deadline_and_not_retried(trickler: Trickler) -> None:
    title, paragraphs = article_text(1, "deadline")
    settings = LLMSettings(llm=trickler.base_url, model="stub", timeout=2.0, transient_retries=4, reasks=0)
    extractor = make_extractor(settings)
    text = title + "\n\n" + "\n\n".join(paragraphs)
    times = []
    try:
        for _ in range(2):  # the first call also loads the tokenizer and language models: time the second too
            start = time.monotonic()
            with pytest.raises(ModelDeadlineError) as raised:
                extractor.extract(text, url="https://a.test/1", origin="20250629d",
                                  origin_url="https://kghosh.substack.com/p/20250629d")  # fmt: skip
            times.append(time.monotonic() - start)
    finally:
        extractor.close()
    assert times[1] < 3.0, times  # 2 s, give or take scheduling on a busy machine; unbounded before
    assert trickler.requests == 2  # one request per call: a deadline is not retried
    assert raised.value.transient and outcome_of(raised.value) is Outcome.LLM_ERROR
    assert "2 s deadline" in str(raised.value)
