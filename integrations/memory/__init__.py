"""Retain's memory in Chroma (see `collections`): documents, the Chroma client, the collections.

Names load on first use (PEP 562), so reading the playbooks (`documents`) never imports chromadb.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integrations.memory.chroma import EmbeddingCache, MemoryBusy
    from integrations.memory.collections import Hit, Memory
    from integrations.memory.documents import Doc, chunk_text, crm_docs, fact_docs, knowledge_docs

_WHERE = {"EmbeddingCache": "chroma", "MemoryBusy": "chroma", "Hit": "collections", "Memory": "collections",
          "Doc": "documents", "chunk_text": "documents", "crm_docs": "documents", "fact_docs": "documents",
          "knowledge_docs": "documents"}

__all__ = ["Doc", "EmbeddingCache", "Hit", "Memory", "MemoryBusy", "chunk_text", "crm_docs", "fact_docs",
           "knowledge_docs"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'integrations.memory' has no attribute {name!r}")
    return getattr(import_module(f"integrations.memory.{_WHERE[name]}"), name)
