"""Retain against the usual way of building this: LLM calls and tokens per question.

The peer is LangGraph's prebuilt ReAct agent over the same CRM tools (every tool schema in its
prompt), driven by a scripted model that makes the ideal tool calls for each question: the best
case for the peer (find the account, then every needed tool in one parallel step, then the answer).
Retain runs its real graph with a scripted writer model. Tokens are counted with the real Qwen2
tokenizer (`../shared/models/ggml-vocab-qwen2.gguf`), on the text each model would be sent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from rich.console import Console
from rich.table import Table

from agents.assistant import Assistant
from agents.evaluate import load_questions
from core.settings import load_settings
from integrations.llm import CallLog, LLMCall
from retain import demo
from tools import renewal_model
from tools.access import OPERATOR
from tools.agent_tools import build_tools
from tools.services import Services

MODELS = Path(os.environ.get("RETAIN_MODELS_DIR", Path(__file__).resolve().parents[2] / "shared" / "models"))
PLANS = {  # the ideal data tools per intent (after find_account)
    "health": ["health_breakdown", "list_tickets", "nps_summary"],
    "renewal": ["renewal_outlook", "account_overview", "health_breakdown"],
    "tuning": ["model_performance", "usage_trend"],
    "onboarding": ["onboarding_status", "list_tickets"],
    "needs": ["account_overview", "list_tickets", "nps_summary"],
}
PEER_SYSTEM = ("You are a customer success assistant. Use the tools to look up CRM data about the accounts the "
               "CSM asks about, then answer concisely with the facts you found.")


class Tokenizer:
    """Exact Qwen2/Qwen2.5 token counts (vocab-only GGUF through llama.cpp)."""

    def __init__(self) -> None:
        from llama_cpp import Llama

        self.llama = Llama(model_path=str(MODELS / "ggml-vocab-qwen2.gguf"), vocab_only=True, verbose=False)

    def count(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=True))

    def chat(self, messages: list[dict[str, str]], tools: list[dict[str, Any]] | None = None) -> int:
        """Tokens of a Qwen2.5 chat-template rendering (tools go in the system turn, as Qwen's template does)."""
        parts = []
        for i, m in enumerate(messages):
            content = m["content"]
            if i == 0 and m["role"] == "system" and tools:
                content += "\n\n# Tools\n\n<tools>\n" + "\n".join(json.dumps(t) for t in tools) + "\n</tools>"
            parts.append(f"<|im_start|>{m['role']}\n{content}<|im_end|>\n")
        return self.count("".join(parts) + "<|im_start|>assistant\n")


class ScriptedPeer(BaseChatModel):
    """The peer's model: ideal tool calls, then the final answer; counts what it is sent."""

    plan: list[list[tuple[str, dict[str, Any]]]]
    answer: str
    tokenizer: Any
    tools_json: list[dict[str, Any]] = []
    calls: list[dict[str, int]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted-peer"

    def bind_tools(self, tools: Any, **kw: Any) -> Any:  # the ReAct agent binds every tool schema
        from langchain_core.utils.function_calling import convert_to_openai_tool

        self.tools_json = [convert_to_openai_tool(t) for t in tools]
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kw: Any) -> ChatResult:
        plain = [{"role": {"human": "user", "ai": "assistant", "tool": "tool"}.get(m.type, "system"),
                  "content": (m.content if isinstance(m.content, str) else json.dumps(m.content))
                  + (json.dumps([{"name": c["name"], "arguments": c["args"]} for c in m.tool_calls])
                     if getattr(m, "tool_calls", None) else "")} for m in messages]
        if plain[0]["role"] != "system":
            plain.insert(0, {"role": "system", "content": PEER_SYSTEM})
        step = sum(1 for m in messages if m.type == "ai")
        if step < len(self.plan):
            calls = [{"name": n, "args": a, "id": f"c{step}{k}"} for k, (n, a) in enumerate(self.plan[step])]
            msg = AIMessage(content="", tool_calls=calls)
            out = json.dumps([{"name": n, "arguments": a} for n, a in self.plan[step]])
        else:
            msg, out = AIMessage(content=self.answer), self.answer
        prompt = self.tokenizer.chat(plain, self.tools_json)
        prev = self.calls[-1] if self.calls else None  # the same conversation grows: llama.cpp reuses it
        cached = min(prompt - 1, prev["prompt"] + prev["completion"]) if prev else 0
        self.calls.append({"prompt": prompt, "completion": self.tokenizer.count(out), "cached": cached})
        return ChatResult(generations=[ChatGeneration(message=msg)])


class CountingWriter:
    """Retain's chat model for the benchmark: writes the verified findings, counts Qwen2 tokens."""

    def __init__(self, tokenizer: Tokenizer):
        import importlib.util

        fakes = Path(__file__).resolve().parents[1] / "tests" / "fakes.py"
        spec = importlib.util.spec_from_file_location("fakes", fakes)
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        self.write, self.tok, self.name, self.log = mod.concise, tokenizer, "counting-writer", CallLog()

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int | None = None, schema: Any = None,
                 purpose: str = "") -> str:
        text = self.write(messages)
        prompt = self.tok.chat(messages)
        system = self.tok.chat(messages[:1])
        cached = system if any(c.purpose == purpose for c in self.log.calls) else 0  # stable prefix reuse
        self.log.calls.append(LLMCall(prompt, self.tok.count(text), cached, 0.0, self.name, purpose))
        return text


def run(limit: int | None = None) -> dict[str, Any]:
    """Both systems over the eval questions that name one account or a portfolio."""
    import warnings

    from langgraph.prebuilt import create_react_agent

    warnings.filterwarnings("ignore", message="create_react_agent has been moved")

    today = date(2026, 11, 23)
    tok = Tokenizer()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rt = Services(load_settings(data_dir=tmp, today=today.isoformat(), llm={"backend": "none"}))
        demo.write(rt.store, demo.generate(150, 7, today))
        renewal_model.save(renewal_model.fit(rt.store, rt.card), rt.model_file)
        writer = CountingWriter(tok)
        retain = Assistant(rt, chat=writer, use_memory=False)  # type: ignore[arg-type]
        qs = [q for q in load_questions(Path(__file__).resolve().parents[1] / "tests" / "eval" / "questions.yaml")
              if q.get("expect", "answer") == "answer" and not q.get("thread") and q.get("intents")
              and "remember" not in q["intents"] and "help" not in q["intents"]]
        for q in qs[:limit]:
            n0 = len(writer.log.calls)
            r = retain.ask(q["ask"], q.get("as") or OPERATOR, f"bench:{q['id']}")
            mine = writer.log.calls[n0:]
            ctx = rt.tool_context(q.get("as") or OPERATOR)
            tools = build_tools(ctx)
            accounts = [a["name"] for a in r["route"].get("accounts", [])]
            if accounts:
                plan = [[("find_account", {"name": a}) for a in accounts]]
                ids = [t["account_id"] for t in r["route"]["accounts"]]
                plan.append([(tool, {"account_id": i}) for i in ids
                             for intent in q["intents"] for tool in PLANS.get(intent, [])])
            else:
                plan = [[("portfolio", {"segment": "at risk"} if "risk" in q["ask"] else {})]]
            peer_model = ScriptedPeer(plan=plan, answer=r["answer"]["text"],  # the same answer text as Retain's
                                      tokenizer=tok, calls=[])
            agent = create_react_agent(peer_model, tools, prompt=PEER_SYSTEM)
            agent.invoke({"messages": [("user", q["ask"])]}, {"recursion_limit": 20})
            rows.append({
                "id": q["id"], "retain_calls": len(mine), "retain_prompt": sum(c.prompt_tokens for c in mine),
                "retain_cached": sum(c.cached_tokens for c in mine),
                "retain_completion": sum(c.completion_tokens for c in mine),
                "peer_calls": len(peer_model.calls), "peer_prompt": sum(c["prompt"] for c in peer_model.calls),
                "peer_cached": sum(c["cached"] for c in peer_model.calls),
                "peer_completion": sum(c["completion"] for c in peer_model.calls)})
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k != "id"}
    return {"questions": len(rows), "median": med, "rows": rows,
            "prompt_ratio": round(med["retain_prompt"] / med["peer_prompt"], 3)}


def main() -> None:
    """Print the comparison."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=None)
    a, _ = p.parse_known_args()
    r = run(a.limit)
    if a.json:
        json.dump(r, sys.stdout, indent=2)
        return
    m = r["median"]
    t = Table(title=f"Per answered question, median over {r['questions']} eval questions (Qwen2 tokens)")
    for c in ("", "LLM calls", "prompt tokens", "from prefix cache", "completion tokens"):
        t.add_column(c, justify="right")
    t.add_row("Retain", f"{m['retain_calls']:.0f}", f"{m['retain_prompt']:,.0f}", f"{m['retain_cached']:,.0f}",
              f"{m['retain_completion']:,.0f}")
    t.add_row("peer (ReAct, ideal calls)", f"{m['peer_calls']:.0f}", f"{m['peer_prompt']:,.0f}",
              f"{m['peer_cached']:,.0f}",
              f"{m['peer_completion']:,.0f}")
    t.add_row("Retain / peer", f"{m['retain_calls'] / m['peer_calls']:.2f}", f"{r['prompt_ratio']:.2f}", "",
              f"{m['retain_completion'] / max(1, m['peer_completion']):.2f}")
    Console().print(t)


if __name__ == "__main__":
    main()
