"""The llama.cpp path, for real, on the tiny test models (tests/models_dir.py)."""

import socket
import subprocess
import sys
import threading
import time
from typing import Literal

import httpx
import pytest
from models_dir import SMOLLM2, TINY_CHAT, model
from pydantic import BaseModel, Field

from integrations.llm import LlamaCppChat, LLMError, LLMTimeout, OpenAICompatChat, structured

SYSTEM = {"role": "system", "content": "You are Retain, a customer-success assistant. " * 8}


class Route(BaseModel):
    intent: Literal["health", "renewal", "onboarding", "tuning"]
    confidence: Literal["low", "medium", "high"]


def chat(**kw):
    return LlamaCppChat(model(TINY_CHAT), n_ctx=512, max_tokens=48, **kw)


def test_load_and_generate_records_tokens():
    m = chat()
    text = m.complete([SYSTEM, {"role": "user", "content": "Tell me a story."}], max_tokens=16)
    assert isinstance(text, str) and text
    call = m.log.calls[-1]
    assert call.prompt_tokens > 20 and 0 < call.completion_tokens <= 16 and call.seconds > 0


def test_json_schema_output_parses_into_pydantic():
    m = chat()
    out = structured(m, [SYSTEM, {"role": "user", "content": "How is Acme doing?"}], Route, max_tokens=80)
    assert isinstance(out, Route) and out.intent in ("health", "renewal", "onboarding", "tuning")


def test_structured_gives_clear_error_after_one_repair():
    class Long(BaseModel):
        words: list[str] = Field(min_length=50)

    m = chat()
    with pytest.raises(LLMError, match="after one repair"):
        structured(m, [SYSTEM, {"role": "user", "content": "List words."}], Long, max_tokens=8)
    assert len(m.log.calls) == 2


def test_prefix_reuse_shows_in_counters():
    m = chat()
    m.complete([SYSTEM, {"role": "user", "content": "First question about Acme."}], max_tokens=4)
    m.complete([SYSTEM, {"role": "user", "content": "Second question about Globex."}], max_tokens=4)
    second = m.log.calls[-1]
    assert second.cached_tokens >= 60  # the shared system prompt was not prefilled again
    assert second.cached_tokens < second.prompt_tokens


def test_concurrent_calls_are_serialised_without_crash():
    m = chat()
    errors, outs = [], []

    def work(i):
        try:
            outs.append(m.complete([SYSTEM, {"role": "user", "content": f"Story {i}"}], max_tokens=12))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(outs) == 6 and len(m.log.calls) == 6


def test_timeout_is_honoured():
    m = LlamaCppChat(model(TINY_CHAT), n_ctx=512, max_tokens=400, timeout_s=0.001)
    with pytest.raises(LLMTimeout, match="budget"):
        m.complete([SYSTEM, {"role": "user", "content": "Tell a long story."}])


def test_missing_model_says_where_to_put_it(tmp_path):
    m = LlamaCppChat(tmp_path / "nope.gguf")
    with pytest.raises(LLMError, match="retain models pull"):
        m.complete([{"role": "user", "content": "hi"}])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(url, proc, timeout_s):
    """Wait until the OpenAI-compatible server at `url` lists its models; False if it exits or times out."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.3)
    return False


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model(TINY_CHAT)),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not _serving(url, proc, 300):
        proc.kill()
        pytest.fail("llama_cpp.server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


def test_openai_compatible_backend_against_llama_cpp_server(server):
    m = OpenAICompatChat(server, "stories", max_tokens=40)
    text = m.complete([SYSTEM, {"role": "user", "content": "Hello"}], max_tokens=8)
    assert isinstance(text, str)
    out = structured(m, [SYSTEM, {"role": "user", "content": "How is Acme?"}], Route, max_tokens=80)
    assert isinstance(out, Route)
    assert m.log.calls[-1].prompt_tokens > 20


def test_base_url_with_or_without_its_version_and_readiness_calls_the_same_api(server, rt):
    """Operators write `http://host:8080` or `http://host:8080/v1` (OpenAI's SDK, vLLM's docs): both answer,
    and readiness checks the URL the answers call: a wrong path is not ready, and the answers say why."""
    from core.settings import load_settings
    from retain.ops import readiness
    from tools.services import Services

    def ready(url):
        extra = {"database_url": rt.settings.database_url} if rt.settings.database_url else {}
        return readiness(Services(load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today,
                                                llm={"backend": "openai", "base_url": url}, **extra)))

    for url in (server, server + "/", server + "/v1", server + "/v1/"):
        m = OpenAICompatChat(url, "stories", max_tokens=8)
        assert isinstance(m.complete([{"role": "user", "content": "Hello"}]), str) and m.log.calls
        ok, checks = ready(url)
        assert ok and checks["llm"]["ok"] and checks["llm"]["detail"].startswith("OpenAI-compatible server"), checks
    wrong = server + "/api/v2"
    with pytest.raises(LLMError, match="answered 404"):
        OpenAICompatChat(wrong, "stories").complete([{"role": "user", "content": "Hello"}])
    ok, checks = ready(wrong)
    assert ok and not checks["llm"]["ok"] and "check llm.base_url" in checks["llm"]["detail"]  # degraded


def test_openai_backend_unreachable_is_clear():
    m = OpenAICompatChat(f"http://127.0.0.1:{_free_port()}", "x", timeout_s=2)
    with pytest.raises(LLMError, match="Cannot reach"):
        m.complete([{"role": "user", "content": "hi"}])


def test_langchain_adapter_runs_the_real_model_and_reports_usage():
    from langchain_core.messages import HumanMessage, SystemMessage

    from integrations.llm import as_langchain

    m = chat()
    lc = as_langchain(m)
    msg = lc.invoke([SystemMessage(SYSTEM["content"]), HumanMessage("How is Acme doing?")], max_tokens=8)
    assert isinstance(msg.content, str)
    assert msg.usage_metadata["input_tokens"] == m.log.calls[-1].prompt_tokens > 20
    routed = lc.invoke([HumanMessage("Route: how is Acme?")], schema=Route.model_json_schema(), max_tokens=60)
    assert Route.model_validate_json(routed.content)


def test_retain_models_serve_answers_over_the_openai_api_with_a_real_instruct_model(tmp_path):
    """`retain models serve` is what the README has an operator run for the LLM server: the real SmolLM2
    over HTTP, structured output through Retain's client (on an AMX CPU the stock server crashed here)."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")  # llama.cpp is verbose: a pipe nobody reads would fill and block it
    smol = model(SMOLLM2)
    proc = subprocess.Popen([sys.executable, "-m", "retain", "models", "serve", str(smol),
                             "--port", str(port), "--n_ctx", "1024", "--n_threads", "1"],
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        if not _serving(url, proc, 300):
            pytest.fail("retain models serve did not start: " + (tmp_path / "server.log").read_text()[-2000:])
        m = OpenAICompatChat(url + "/v1", "smollm2", max_tokens=60, timeout_s=600)
        out = structured(m, [{"role": "user", "content": "Classify: how is Acme doing? Answer as JSON."}], Route)
        assert isinstance(out, Route) and m.log.calls[-1].completion_tokens > 0
        assert proc.poll() is None  # still serving after real completions
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
