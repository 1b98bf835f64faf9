"""Builds the extraction regression fixtures: recorded answers (`fixtures/replay/`) and expected scans
(`fixtures/scans/article-*.md` and `.json`).

The answers in `fixtures/answers/article-*.json` were written by hand in the model's answer format (a list: one
answer per attempt, so a re-ask can be recorded too); this machine has no hosted model to record from. Each is
served through the real openai client and instructor, recorded by `RecordingTransport` under the key of the
exact request extractor sends, and the resulting scan rendered. Run after a deliberate prompt or schema change:

    uv run python tests/extract/fixtures_tool.py
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx2
import instructor

from extractor.extract import Extractor, LLMSettings
from extractor.extract._backends import Backend
from extractor.extract._replay import RecordingTransport
from extractor.models import NEWSLETTER_HOST, Sidecar
from extractor.render import render

ROOT = Path(__file__).resolve().parents[2] / "fixtures"
ARTICLES = ROOT / "articles"
ANSWERS = ROOT / "answers"
REPLAY = ROOT / "replay"
SCANS = ROOT / "scans"
MODEL = "hand-written-fixture"


@dataclass(frozen=True)
class Fixture:
    name: str
    text: str
    url: str
    origin: str
    title: str | None

    @property
    def origin_url(self) -> str:
        return f"https://{NEWSLETTER_HOST}/p/{self.origin}"


def fixtures() -> list[Fixture]:
    meta = json.loads((ARTICLES / "articles.json").read_text(encoding="utf-8"))
    return [
        Fixture(name, (ARTICLES / f"{name}.txt").read_text(encoding="utf-8"), m["url"], m["origin"], m["title"])
        for name, m in sorted(meta.items())
    ]


class AuthoredTransport(httpx2.BaseTransport):
    """Answers successive requests with the hand-written answers, as an OpenAI-compatible server would."""

    def __init__(self, answers: list[dict[str, object]]) -> None:
        self.answers = list(answers)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.read())
        answer = self.answers.pop(0)
        arguments = json.dumps(answer, ensure_ascii=False)
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body["messages"]) + len(json.dumps(body["tools"]))
        completion = {
            "id": f"chatcmpl-fixture-{len(self.answers)}",
            "object": "chat.completion",
            "created": 1767225600,
            "model": MODEL,
            "choices": [{
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": None, "tool_calls": [{
                    "id": "call_fixture", "type": "function",
                    "function": {"name": body["tools"][0]["function"]["name"], "arguments": arguments},
                }]},
            }],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(arguments) // 4,
                      "total_tokens": prompt_chars // 4 + len(arguments) // 4},
        }  # fmt: skip
        return httpx2.Response(200, json=completion, request=request)


def main() -> int:
    shutil.rmtree(REPLAY, ignore_errors=True)
    REPLAY.mkdir(parents=True)
    SCANS.mkdir(exist_ok=True)
    for fx in fixtures():
        answers = json.loads((ANSWERS / f"{fx.name}.json").read_text(encoding="utf-8"))
        backend = Backend(
            kind="replay", name="replay", model="recorded", mode=instructor.Mode.TOOLS,
            base_url="http://replay.invalid/v1", transport=RecordingTransport(REPLAY, AuthoredTransport(answers)),
        )  # fmt: skip
        with Extractor(LLMSettings(llm="replay:" + str(REPLAY)), backend) as extractor:
            result = extractor.extract(fx.text, url=fx.url, origin=fx.origin, origin_url=fx.origin_url, title=fx.title)
        (SCANS / f"{fx.name}.md").write_text(render(result.scan), encoding="utf-8", newline="")
        (SCANS / f"{fx.name}.json").write_text(Sidecar.of(result.scan, result.provenance).to_json(), encoding="utf-8")
        print(fx.name, result.provenance.attempts, "attempts", result.provenance.usage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
