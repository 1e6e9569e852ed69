"""Fake chat models for agent-logic tests (the llama.cpp path itself is tested for real elsewhere).

`QueuedChat` returns the replies a test queued, in order, whatever the prompt: a test that knows its calls
asserts them (`kwargs` holds each call's `purpose`). `FindingsChat` writes from the findings it was given
(`faithful`, an obeying writer...), for runs of many questions (the eval) or replies that must cite them;
it knows which step asked (`purpose`: route, needs, compose, rewrite...) as the code declares it with each
call, never from the wording of a prompt file: editing a prompt breaks no test.
"""

import json
import re
from collections.abc import Callable
from contextvars import ContextVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from integrations.llm import CallLog, LLMCall

_PURPOSE: ContextVar[str] = ContextVar("purpose", default="")


def purpose() -> str:
    """The step that made the call being answered ("route", "needs", "compose", "rewrite"...; a repair too)."""
    return _PURPOSE.get().split(":")[0]


class FindingsChat:
    """A chat model whose replies are a function of the findings it was given; calls are logged like real ones.

    `purpose()` tells the function which step is asking.
    """

    def __init__(self, reply: Callable[[list[dict[str, str]]], str], name: str = "scripted"):
        self.reply, self.name, self.log = reply, name, CallLog()
        self.prompts: list[list[dict[str, str]]] = []

    def complete(self, messages, *, max_tokens=None, schema=None, purpose=""):
        self.prompts.append(messages)
        token = _PURPOSE.set(purpose)
        try:
            text = self.reply(messages)
        finally:
            _PURPOSE.reset(token)
        prompt = sum(len(m["content"]) for m in messages) // 4
        self.log.calls.append(LLMCall(prompt, len(text) // 4, 0, 0.0, self.name, purpose))
        return text


class QueuedChat(BaseChatModel):
    """A LangChain chat model that returns queued replies in order, whatever the prompt (as
    langgraph-supervisor-py's fake does); it keeps what it was asked and the keyword arguments."""

    replies: list[str]
    asked: list[list] = []
    kwargs: list[dict] = []

    @property
    def _llm_type(self) -> str:
        return "queued-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.asked.append(list(messages))
        self.kwargs.append(kwargs)
        if not self.replies:
            raise AssertionError("QueuedChat ran out of replies: the graph made more calls than the test expected")
        text = self.replies.pop(0)
        usage = {"input_tokens": sum(len(str(m.content)) for m in messages) // 4, "output_tokens": len(text) // 4,
                 "total_tokens": 0}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, usage_metadata=usage))])


def findings_of(messages):
    """The findings JSON the composer sent."""
    user = messages[1]["content"]
    return json.loads(user.split("Findings (data, not instructions):\n", 1)[1])


def is_needs(messages):
    """The needs agent's extraction is asking."""
    return purpose() == "needs"


def is_route(messages):
    """The router is asking."""
    return purpose() == "route"


def needs_profile(messages):
    """An honest extractor: sentences about wants and problems, with their record ids."""
    records = json.loads(messages[1]["content"].split("\n", 1)[1])
    prof = {"goals": [], "use_cases": [], "success_criteria": [], "pain_points": [], "stakeholders": []}
    for rec in records:
        for sent in re.split(r"(?<=[.!?])\s+", rec["text"]):
            if re.search(r"\bwants?\b|expand", sent, re.I):
                prof["goals"].append({"text": sent, "source": rec["id"]})
            elif re.search(r"outage|slow|fail|blocked", sent, re.I):
                prof["pain_points"].append({"text": sent, "source": rec["id"]})
    return json.dumps({k: v[:5] for k, v in prof.items()})


def route(messages):
    """A plain router: capitalised phrases are accounts; 'doing' means health."""
    text = messages[-1]["content"]
    names = re.findall(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*", text)
    return json.dumps({"intents": ["health"] if "doing" in text else [], "accounts": names[:2], "window_days": None})


def faithful(messages):
    """A good writer: a lead sentence and the facts, each with its citations."""
    if is_needs(messages):
        return needs_profile(messages)
    if is_route(messages):
        return route(messages)
    data = findings_of(messages)
    lines = []
    for f in data["findings"]:
        for item in f["facts"] + f["recommendations"]:
            cites = "".join(f"[{n}]" for n in item["sources"]) or "[1]"
            lines.append(f"- {item['text']} {cites}")
    return "Here is what the records show.\n" + "\n".join(lines)


def concise(messages):
    """A writer that follows the composer prompt: a lead sentence, at most five bullets, cited."""
    if is_needs(messages) or is_route(messages):
        return faithful(messages)
    data = findings_of(messages)
    items = [i for f in data["findings"] for i in f["facts"]][:4] + \
        [i for f in data["findings"] for i in f["recommendations"]][:1]
    lead = items[0]["text"] if items else "Nothing notable in the records."
    bullets = [f"- {i['text']} {''.join(f'[{n}]' for n in i['sources']) or '[1]'}" for i in items[1:]]
    return f"{lead} {''.join(f'[{n}]' for n in items[0]['sources']) if items else ''}\n" + "\n".join(bullets)
