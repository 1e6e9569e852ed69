"""The one place that builds Retain's dependencies: services, chat model, delivery, the assistant."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel

from agents.assistant import Assistant
from agents.context import request_deps
from agents.graph import build_graph
from core.errors import RetainError
from core.settings import Settings, load_settings
from integrations.gguf import ModelMissing, resolve
from integrations.llm import make_chat_model
from retain.actions import Delivery
from tools.services import Services


def chat_model(settings: Settings, warn: Callable[[str], object] | None = None) -> BaseChatModel | None:
    """The configured chat model; None (deterministic answers) when its file is missing."""
    try:
        return make_chat_model(settings)
    except ModelMissing:
        if warn:
            warn("no chat model: " + no_chat_model(settings))
        return None


def no_chat_model(settings: Settings) -> str:
    """One short line: the chat model is missing, so answers are the verified findings (and how to add one)."""
    name, _ = resolve(settings, "chat")
    return f"{name} is not in the models folder (`retain models pull` adds it), so answers are the verified findings"


def chat_line(settings: Settings, chat: BaseChatModel | None) -> str:
    """One short line: which chat model answers, or that answers are the verified findings."""
    if chat is not None:
        return f"Chat model: {settings.llm.model} ({settings.llm.backend})"
    if settings.llm.backend == "none":
        return "Chat model: none (llm.backend: none): answers are the verified findings"
    return "Chat model: none; " + no_chat_model(settings)


def build_assistant(services: Services, deterministic: bool = False,
                    warn: Callable[[str], object] | None = None, use_memory: bool = True) -> Assistant:
    """The assistant with the configured chat model (or none) and real delivery of approved follow-ups."""
    chat = None if deterministic else chat_model(services.settings, warn)
    return Assistant(services, chat=chat, use_memory=use_memory, actions=Delivery(services))


def make_graph(config: object = None) -> object:
    """The graph for `langgraph dev` / LangGraph Studio, with dependencies from the settings."""
    services = Services(load_settings())
    try:
        chat = make_chat_model(services.settings)
    except RetainError:
        chat = None
    return build_graph(request_deps(services, chat, actions=Delivery(services)))
