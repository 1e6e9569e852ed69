"""Retain's memory in Chroma (see `collections`): documents, the Chroma client, the collections."""

from integrations.memory.chroma import EmbeddingCache, MemoryBusy
from integrations.memory.collections import Hit, Memory
from integrations.memory.documents import Doc, chunk_text, crm_docs, fact_docs, knowledge_docs

__all__ = ["Doc", "EmbeddingCache", "Hit", "Memory", "MemoryBusy", "chunk_text", "crm_docs", "fact_docs",
           "knowledge_docs"]
