"""A cold `retain ask` loads what answering needs, not what other commands need (start-up is most of its time)."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from integrations.crm.models import CSM

NOT_FOR_AN_ANSWER = ("alembic", "pptx")  # migrations (the store is at head), QBR decks
# A lookup, a list or a metric reads rows, not the day's scores (pandas, Arrow), memory (Chroma) or a model.
NOT_FOR_A_LOOKUP = (*NOT_FOR_AN_ANSWER, "pandas", "pyarrow", "chromadb", "llama_cpp", "sklearn")


def _cold_ask(rt, question: str) -> tuple[str, set[str]]:
    """Answer `question` in a new process; return its output and the top-level modules it imported."""
    with rt.store.session() as s:
        who = s.scalars(select(CSM.email).where(CSM.role == "csm").order_by(CSM.email)).first()
    env = dict(os.environ, RETAIN_DATA_DIR=str(rt.settings.data_dir), RETAIN_LLM__BACKEND="none",
               RETAIN_DATABASE_URL=rt.settings.database_url)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "retain", "--as", who, "ask", "--no-llm",
                          question], env=env, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()
              if line.startswith("import time:")}
    assert "sqlalchemy" in loaded  # the probe reads the import log it should
    return out.stdout, loaded


def test_a_cold_ask_answers_without_loading_migrations_or_deck_libraries(rt):
    text, loaded = _cold_ask(rt, "who is the champion at Initech?")
    assert "Initech" in text
    assert not loaded & set(NOT_FOR_AN_ANSWER), sorted(loaded & set(NOT_FOR_AN_ANSWER))


@pytest.mark.parametrize(("question", "expect"), [
    ("who is the champion at Initech?", "Initech"),  # a lookup
    ("list the open high priority tickets", "ticket"),  # a list of records
    ("what's my NRR this year?", "NRR"),  # a metric
])
def test_a_lookup_list_or_metric_imports_no_data_frames_memory_or_model(rt, question, expect):
    text, loaded = _cold_ask(rt, question)
    assert expect.lower() in text.lower()
    assert not loaded & set(NOT_FOR_A_LOOKUP), sorted(loaded & set(NOT_FOR_A_LOOKUP))


@pytest.mark.parametrize(("question", "expect"), [
    ("how is Acme Corp doing?", "Strength"),  # one account's health, drivers and strengths
    ("anything I should worry about today?", "At risk"),  # the asker's book: at risk, renewals, detectors
])
def test_a_health_or_vague_question_reads_stored_scores_without_data_frames_or_memory_store(rt, question, expect):
    """The day's stored scores are read per account with pyarrow alone (tools.score_view), no pandas.

    Risk signals need the embedding model's vectors (cached), never the Chroma collections.
    """
    rt.prewarm()  # today's and yesterday's scores stored, as `retain demo seed` or a server's start does
    text, loaded = _cold_ask(rt, question)
    assert expect in text
    assert "pyarrow" in loaded  # the probe sees the stored run being read
    assert not loaded & {"pandas", "chromadb", "sklearn"}, sorted(loaded & {"pandas", "chromadb", "sklearn"})


def test_help_loads_no_graph_model_or_data_frame_libraries():
    """`retain --help` is the first command a newcomer runs: it lists commands without importing what answers."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "retain", "--help"], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ask" in out.stdout
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()
              if line.startswith("import time:")}
    assert "typer" in loaded  # the probe reads the import log it should
    heavy = {"langgraph", "langchain_core", "langsmith", "pandas", "pyarrow", "chromadb", "llama_cpp", "sklearn",
             "alembic", "pptx"}
    assert not loaded & heavy, sorted(loaded & heavy)
