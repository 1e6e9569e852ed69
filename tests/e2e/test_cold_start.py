"""A cold `retain ask` loads what answering needs, not what other commands need (start-up is most of its time)."""

import os
import subprocess
import sys

from sqlalchemy import select

from integrations.crm.models import CSM

NOT_FOR_AN_ANSWER = ("alembic", "pptx")  # migrations (the store is at head), QBR decks


def test_a_cold_ask_answers_without_loading_migrations_or_deck_libraries(rt):
    with rt.store.session() as s:
        who = s.scalars(select(CSM.email).where(CSM.role == "csm").order_by(CSM.email)).first()
    env = dict(os.environ, RETAIN_DATA_DIR=str(rt.settings.data_dir), RETAIN_LLM__BACKEND="none",
               RETAIN_DATABASE_URL=rt.settings.database_url)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "retain", "--as", who, "ask", "--no-llm",
                          "who is the champion at Initech?"], env=env, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Initech" in out.stdout
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()
              if line.startswith("import time:")}
    assert "sqlalchemy" in loaded  # the probe reads the import log it should
    assert not loaded & set(NOT_FOR_AN_ANSWER), sorted(loaded & set(NOT_FOR_AN_ANSWER))
