"""Real retrieval with the MiniLM GGUF model and a real Chroma PersistentClient."""


import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings
from models_dir import MINILM, model
from sqlalchemy import create_engine, func, select

from core.settings import load_settings
from integrations.crm.models import EmbeddingVector
from integrations.embeddings import LlamaCppEmbedding
from integrations.memory.chroma import DatabaseEmbeddingCache
from integrations.memory.collections import cache_for

NOTES = {
    "cyberdyne-sso": "Still blocked on Okta SSO. The SAML assertion is rejected, pilot users cannot sign in.",
    "globex-latency": "p95 latency doubled after the switch to nimbus-large v4.0; agents time out.",
    "initech-renewal": "COO wants to talk about price and reliability before the renewal.",
    "hooli-seats": "They are at 98% of seats and asked for enterprise tier pricing.",
    "umbrella-ft": "Fine-tune loss exploded to NaN after they raised the learning rate 10x.",
}


def client(path):
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def test_embeddings_are_normalised_and_semantic():
    ef = LlamaCppEmbedding(str(model(MINILM)))
    a, b, c = ef(["login problems with single sign-on", "SSO / Okta failing", "invoice overage question"])
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-4)
    assert float(np.dot(a, b)) > float(np.dot(a, c))


def test_sso_query_ranks_sso_note_first_and_reopens_offline(tmp_path, monkeypatch):
    col = client(tmp_path).get_or_create_collection("notes", embedding_function=LlamaCppEmbedding(str(model(MINILM))))
    col.add(ids=list(NOTES), documents=list(NOTES.values()))
    hits = col.query(query_texts=["login problems with single sign-on"], n_results=3)
    assert hits["ids"][0][0] == "cyberdyne-sso"
    # Reopen with no embedding function given and no network: Chroma rebuilds ours from its config.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    again = client(tmp_path).get_collection("notes")
    hits = again.query(query_texts=["model got slower after upgrade"], n_results=1)
    assert hits["ids"][0][0] == "globex-latency"


def test_the_vector_cache_in_the_database_is_shared_by_every_worker(rt):
    """Two workers (two engines on one CRM database, as two hosts would have): a text is embedded once."""
    ef = LlamaCppEmbedding(str(model(MINILM)))
    embedded: list[str] = []

    def counting(texts):
        embedded.extend(texts)
        return ef(texts)

    settings = load_settings(data_dir=str(rt.settings.data_dir), database_url=rt.settings.database_url,
                             embedding={"cache": "database"})
    first = cache_for(settings, rt.store, "minilm-test")
    assert isinstance(first, DatabaseEmbeddingCache)
    version = rt.store.data_version()
    a = first.embed(counting, list(NOTES.values())[:3])
    assert len(embedded) == 3
    other = create_engine(rt.store.engine.url)  # the second worker's own connection pool
    try:
        second = DatabaseEmbeddingCache(other, "minilm-test")
        b = second.embed(counting, list(NOTES.values()))
        assert len(embedded) == 5  # only the two texts the first worker had not embedded
        assert all(np.allclose(x, y) for x, y in zip(a, b[:3], strict=True))
        with other.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(EmbeddingVector)) == 5
    finally:
        other.dispose()
    assert rt.store.data_version() == version  # a cache write is not a CRM change: stored scores stay
