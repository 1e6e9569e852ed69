"""The one place that builds Retain's dependencies: services, chat model, delivery, the assistant."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel

from agents.assistant import Assistant
from agents.graph import build_graph
from agents.state import Deps
from core.errors import RetainError
from core.settings import Settings, load_settings
from integrations.gguf import ModelMissing
from integrations.llm import make_chat_model
from retain.actions import Delivery
from tools.services import Services


def chat_model(settings: Settings, warn: Callable[[str], object] | None = None) -> BaseChatModel | None:
    """The configured chat model; None (deterministic answers) when its file is missing."""
    try:
        return make_chat_model(settings)
    except ModelMissing as exc:
        if warn:
            warn(f"{exc} Answering from the verified findings without an LLM.")
        return None


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
    return build_graph(Deps(services=services, chat=chat, actions=Delivery(services)))
