"""Chat models: a local GGUF through llama-cpp-python (in-process), or any OpenAI-compatible server.

llama.cpp contexts are not thread-safe, so one `Llama` per model file per process is loaded on
first use and every call goes through its lock. Every call records prompt and completion tokens,
the prompt tokens served from the KV cache (prefix reuse) and seconds, in `LLMCall`.
Structured output is JSON-schema-constrained decoding into a pydantic model, with one repair
attempt and then a clear error.

The graph talks to chat models through LangChain's `BaseChatModel` (`complete`, `structured`):
the backends here are wrapped by `RetainChatModel` (`make_chat_model`), and any other LangChain
chat model (a fake in tests, a hosted one) is used as it is, with its calls counted from the
reply's usage metadata.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypedDict, TypeVar, cast

import httpx
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, ValidationError

from core.errors import RetainError, mask_secrets
from core.faults import fault
from core.metrics import metrics
from integrations import llama
from prompts import load

M = TypeVar("M", bound=BaseModel)
Message = dict[str, str]


class LLMError(RetainError):
    """The model failed to give a usable answer."""


class LLMTimeout(LLMError):
    """A call ran past its time budget."""


@dataclass
class LLMCall:
    """What one model call cost."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    seconds: float
    model: str
    purpose: str = ""


class CallTotals(TypedDict):
    """Sums over a request's model calls."""

    calls: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    seconds: float


class CallDict(TypedDict):
    """One call as plain JSON (`LLMCall`'s fields)."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    seconds: float
    model: str
    purpose: str


@dataclass
class CallLog:
    """Every call a request made, for answers, --verbose and benchmarks."""

    calls: list[LLMCall] = field(default_factory=list)

    def totals(self) -> CallTotals:
        """Sums over the calls."""
        return {"calls": len(self.calls),
                "prompt_tokens": sum(c.prompt_tokens for c in self.calls),
                "cached_tokens": sum(c.cached_tokens for c in self.calls),
                "completion_tokens": sum(c.completion_tokens for c in self.calls),
                "seconds": round(sum(c.seconds for c in self.calls), 3)}

    def as_list(self) -> list[CallDict]:
        """The calls as plain dicts."""
        return [cast(CallDict, asdict(c)) for c in self.calls]

    def by_kind(self) -> dict[str, int]:
        """How many calls of each kind (understand, prose, draft, needs, ...) the request made."""
        out: dict[str, int] = {}
        for c in self.calls:
            out[kind_of(c.purpose)] = out.get(kind_of(c.purpose), 0) + 1
        return out


KINDS = {"route": "understand", "compose": "prose", "rewrite": "prose", "briefing": "prose", "draft": "draft",
         "needs": "needs"}


def kind_of(purpose: str) -> str:
    """The kind of a call from its purpose ("needs:repair" is a needs call): understand, prose, draft, needs."""
    head = purpose.split(":")[0]
    return KINDS.get(head, head or "other")


class ChatModel(Protocol):
    """What Retain needs from a chat model."""

    name: str
    log: CallLog

    def complete(self, messages: list[Message], *, max_tokens: int | None = None,
                 schema: dict[str, Any] | None = None, purpose: str = "") -> str:
        """The assistant's reply text (JSON text when a schema is given)."""
        ...


def _common_prefix(a: Any, b: list[int]) -> int:
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def load_llama(path: Path, n_ctx: int, n_threads: int = 0, n_batch: int = 512) -> llama.Loaded:
    """The process-wide chat model for this file and shape, loaded on first use."""
    try:
        return llama.load(path, n_ctx=n_ctx, n_threads=n_threads, n_batch=n_batch)
    except FileNotFoundError:
        raise LLMError(f"Model file {path} does not exist. Put the GGUF file there, set "
                       "RETAIN_LLM__MODEL_PATH, or run `retain models pull`.") from None


class LlamaCppChat:
    """A local GGUF chat model; calls are serialised, timed and counted."""

    def __init__(self, path: Path, *, n_ctx: int = 4096, n_threads: int = 0, n_batch: int = 512,
                 max_tokens: int = 512, temperature: float = 0.2, timeout_s: float = 120.0,
                 log: CallLog | None = None, prompt_cache_mb: int = 256):
        self.path = Path(path)
        self.name = self.path.name
        self.n_ctx, self.n_threads, self.n_batch = n_ctx, n_threads, n_batch
        self.prompt_cache_mb = prompt_cache_mb
        self.max_tokens, self.temperature, self.timeout_s = max_tokens, temperature, timeout_s
        self.log = log if log is not None else CallLog()

    def complete(self, messages: list[Message], *, max_tokens: int | None = None,
                 schema: dict[str, Any] | None = None, purpose: str = "") -> str:
        """Generate a reply; with `schema`, decoding is constrained to JSON matching it."""
        model = load_llama(self.path, self.n_ctx, self.n_threads, self.n_batch)
        fmt = {"type": "json_object", "schema": schema} if schema is not None else None
        budget = max_tokens or self.max_tokens
        with model.lock:
            llama.prompt_cache(model, self.prompt_cache_mb << 20)
            before, saved = list(model.llama._input_ids), llama.cached_prefixes(model)
            seen = llama.PromptSeen(model.llama)
            start = time.perf_counter()
            deadline = start + self.timeout_s
            pieces: list[str] = []
            completion, finish = 0, ""
            stream: Iterator[Any] = seen.create_chat_completion(  # type: ignore[assignment]
                messages=messages, max_tokens=budget, temperature=self.temperature,
                response_format=fmt, stream=True)
            timed_out = False
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    finish = choice.get("finish_reason") or finish
                    if choice.get("delta", {}).get("content"):
                        pieces.append(choice["delta"]["content"])
                        completion += 1
                        if completion == 2:
                            fault("in_llm")
                    if time.perf_counter() > deadline:
                        timed_out = True
                        break
            except ValueError as exc:  # e.g. the prompt is longer than the context window
                raise LLMError(f"The model could not take this prompt ({exc}). Raise llm.n_ctx or "
                               "ask a narrower question.") from None
            seconds = time.perf_counter() - start
            after = list(model.llama._input_ids)
        prompt = seen.prompt if seen.prompt is not None else after[:max(0, len(after) - completion)]
        prompt_tokens = len(prompt)
        # Generated tokens: all but the last one were read back into the context (the last too if it was eos).
        completion_tokens = max(completion, len(after) - prompt_tokens + (finish == "length"))
        reused = max([_common_prefix(before, prompt)] + [_common_prefix(k, prompt) for k in saved])
        cached = min(reused, max(0, prompt_tokens - 1))
        self.log.calls.append(LLMCall(prompt_tokens, completion_tokens, cached, round(seconds, 4),
                                      self.name, purpose))
        if timed_out:
            raise LLMTimeout(f"The model call ran past its {self.timeout_s:g} s budget and was "
                             "stopped. Raise llm.timeout_s or use a smaller model.")
        return "".join(pieces)


def api_root(base_url: str) -> str:
    """The OpenAI-compatible API's root: `http://host:8080` and `http://host:8080/v1` both mean `.../v1`.

    Servers and SDKs disagree on whether the base URL carries the version (OpenAI's SDK and vLLM's
    docs include `/v1`); a URL whose last segment is a version (`/v1`, `/openai/v2`) is used as
    it is, any other gets `/v1`.
    """
    url = base_url.strip().rstrip("/")
    return url if re.search(r"/v\d+$", url) else url + "/v1"


class OpenAICompatChat:
    """Any OpenAI-compatible chat server (llama.cpp server, `python -m llama_cpp.server`, vLLM)."""

    def __init__(self, base_url: str, model: str, *, api_key: str = "", max_tokens: int = 512,
                 temperature: float = 0.2, timeout_s: float = 120.0, log: CallLog | None = None):
        self.base_url = api_root(base_url)
        self.shown_url = mask_secrets(self.base_url)  # what errors and logs may say
        self.name = model
        self.max_tokens, self.temperature, self.timeout_s = max_tokens, temperature, timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)
        self.log = log if log is not None else CallLog()

    def complete(self, messages: list[Message], *, max_tokens: int | None = None,
                 schema: dict[str, Any] | None = None, purpose: str = "") -> str:
        """One chat completion over HTTP."""
        body: dict[str, Any] = {"model": self.name, "messages": messages,
                                "max_tokens": max_tokens or self.max_tokens,
                                "temperature": self.temperature,
                                # llama.cpp's server keeps the KV cache of the last prompt per slot: a call
                                # that shares the system prefix reads only its new tokens.
                                "cache_prompt": True}
        if schema is not None:
            body["response_format"] = {"type": "json_object", "schema": schema}
        start = time.perf_counter()
        try:
            r = self.client.post("/chat/completions", json=body)  # appended to the root's path
        except httpx.TimeoutException:
            raise LLMTimeout(f"The model server at {self.shown_url} did not answer within "
                             f"{self.timeout_s:g} s.") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"Cannot reach the model server at {self.shown_url}: "
                           f"{mask_secrets(str(exc))}.") from None
        if r.status_code != 200:
            raise LLMError(f"The model server at {self.shown_url} answered {r.status_code}: "
                           f"{mask_secrets(r.text[:200])}")
        data = r.json()
        usage = data.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        cached = details.get("cached_tokens") or (data.get("timings") or {}).get("cache_n") or 0  # llama.cpp's server
        self.log.calls.append(LLMCall(int(usage.get("prompt_tokens", 0)),
                                      int(usage.get("completion_tokens", 0)),
                                      int(cached),
                                      round(time.perf_counter() - start, 4), self.name, purpose))
        return str(data["choices"][0]["message"].get("content") or "")


def structured(chat: BaseChatModel | ChatModel, messages: list[Message], output: type[M], *, log: CallLog | None = None,
               max_tokens: int | None = None, purpose: str = "") -> M:
    """A pydantic object from JSON-schema-constrained output; one repair attempt, then LLMError."""
    schema = output.model_json_schema()
    text = complete(chat, messages, log=log, max_tokens=max_tokens, schema=schema, purpose=purpose)
    try:
        return output.model_validate_json(text)
    except ValidationError as first:
        repair = messages + [
            {"role": "assistant", "content": text},
            {"role": "user", "content": load("repair").format(error=_short(first))},
        ]
        text = complete(chat, repair, log=log, max_tokens=max_tokens, schema=schema, purpose=purpose + ":repair")
        try:
            return output.model_validate_json(text)
        except ValidationError as second:
            raise LLMError(f"The model did not produce a valid {output.__name__} after one repair "
                           f"({_short(second)}).") from None


def _short(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"


def make_chat_model(settings: Any, log: CallLog | None = None) -> BaseChatModel | None:
    """The configured chat model, or None when llm.backend is 'none' (deterministic answers)."""
    llm = settings.llm
    if llm.backend == "none":
        return None
    if llm.backend == "openai":
        if not llm.base_url:
            raise LLMError("llm.backend is 'openai' but llm.base_url is empty. Set RETAIN_LLM__BASE_URL.")
        return as_langchain(OpenAICompatChat(llm.base_url, llm.model, api_key=llm.api_key,
                                             max_tokens=llm.max_tokens, temperature=llm.temperature,
                                             timeout_s=llm.timeout_s, log=log))
    from integrations.gguf import require

    return as_langchain(LlamaCppChat(require(settings, "chat"), n_ctx=llm.n_ctx, n_threads=llm.n_threads,
                                     n_batch=llm.n_batch, max_tokens=llm.max_tokens,
                                     temperature=llm.temperature, timeout_s=llm.timeout_s, log=log,
                                     prompt_cache_mb=llm.prompt_cache_mb))


def model_name(chat: BaseChatModel) -> str:
    """The name a chat model goes by (its file or served model; a LangChain model's own name)."""
    if isinstance(chat, RetainChatModel):
        return chat.name_of_model
    return str(getattr(chat, "model_name", "") or getattr(chat, "model", "") or chat._llm_type)


def dumps(obj: Any) -> str:
    """Compact, stable JSON for prompts (stable text keeps the KV-cache prefix reusable)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


class RetainChatModel(BaseChatModel):
    """A Retain backend (llama.cpp or OpenAI-compatible) behind LangChain's chat-model interface.

    The same serialised, counted calls; `schema=` (JSON-schema-constrained output), `max_tokens=`
    and `purpose=` pass through `invoke(..., **kwargs)`. Each reply carries what the call cost in
    `usage_metadata` and, with the KV-cache reuse and seconds, in `response_metadata["retain_call"]`.
    """

    inner: Any

    @property
    def _llm_type(self) -> str:
        return "retain-" + type(self.inner).__name__.lower()

    @property
    def name_of_model(self) -> str:
        """The backend's model name."""
        return str(getattr(self.inner, "name", self._llm_type))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        text = self.inner.complete(to_dicts(messages), max_tokens=kwargs.get("max_tokens"),
                                   schema=kwargs.get("schema"), purpose=kwargs.get("purpose", ""))
        last = self.inner.log.calls[-1] if self.inner.log.calls else None
        usage = ({"input_tokens": last.prompt_tokens, "output_tokens": last.completion_tokens,
                  "total_tokens": last.prompt_tokens + last.completion_tokens} if last else None)
        meta = {"retain_call": asdict(last)} if last else {}
        msg = AIMessage(content=text, usage_metadata=usage, response_metadata=meta)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=msg)])


_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


def to_dicts(messages: list[BaseMessage]) -> list[Message]:
    """LangChain messages as role/content dicts (what llama.cpp and OpenAI servers take)."""
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


def to_messages(messages: list[Message]) -> list[BaseMessage]:
    """Role/content dicts as LangChain messages."""
    kinds = {"system": SystemMessage, "assistant": AIMessage, "user": HumanMessage}
    return [kinds.get(m["role"], HumanMessage)(content=m["content"]) for m in messages]


def as_langchain(model: ChatModel | BaseChatModel) -> BaseChatModel:
    """Any chat model as a LangChain `BaseChatModel` (a Retain backend is wrapped; LangChain's pass as they are)."""
    if isinstance(model, BaseChatModel):
        return model
    return RetainChatModel(inner=model)


def complete(chat: BaseChatModel | ChatModel, messages: list[Message], *, log: CallLog | None = None,
             max_tokens: int | None = None, schema: dict[str, Any] | None = None, purpose: str = "") -> str:
    """One call through LangChain's interface; its cost is added to `log`. Model failures raise LLMError."""
    chat = as_langchain(chat)
    start = time.perf_counter()
    reply = chat.invoke(to_messages(messages), max_tokens=max_tokens, schema=schema, purpose=purpose)
    usage = getattr(reply, "usage_metadata", None) or {}
    m = metrics()
    m.llm_calls.labels(purpose.split(":")[0] or "other").inc()
    m.llm_tokens.labels("prompt").inc(int(usage.get("input_tokens", 0)))
    m.llm_tokens.labels("completion").inc(int(usage.get("output_tokens", 0)))
    m.llm_seconds.inc(time.perf_counter() - start)
    if log is not None:
        call = (reply.response_metadata or {}).get("retain_call")
        if call:
            log.calls.append(LLMCall(**call))
        else:
            usage = getattr(reply, "usage_metadata", None) or {}
            log.calls.append(LLMCall(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)), 0,
                                     round(time.perf_counter() - start, 4),
                                     str(getattr(chat, "model_name", "") or chat._llm_type), purpose))
    return str(reply.content)
