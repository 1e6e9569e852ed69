"""The CRM's own vocabulary, read through `tools.vocabulary` (agents read data only through tools)."""

from tools.vocabulary import VOCAB_TTL_S, Vocabulary, vocabulary

__all__ = ["VOCAB_TTL_S", "Vocabulary", "vocabulary"]
