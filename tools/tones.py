"""Tones of texts, kept in the database (`text_sentiments`) so scoring computes only texts it has not seen.

A tone is stored by the text's sha1 and `sentiment.version()`: a changed lexicon or VADER release
misses every stored tone and computes afresh. Stored rows are plain numbers, never code. Every worker
and host shares them; two writers of the same text keep the first (the value is the same).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from integrations.crm.models import TextSentiment
from integrations.crm.store import CRMStore
from tools import sentiment

log = logging.getLogger(__name__)

CHUNK = 500  # keys per IN list (under SQLite's bound-parameter limit)


class Counts:
    """How many tones this process computed and read from the database (for tests and bench)."""

    computed = 0
    stored = 0


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def tones(store: CRMStore, texts: Iterable[str]) -> list[float]:
    """`sentiment.score` of each text, in order: stored tones where there are, the rest computed and stored."""
    texts = list(texts)
    keys = [_key(t) for t in texts]
    distinct = dict(zip(keys, texts, strict=True))
    ver = sentiment.version()
    known: dict[str, float] = {}
    todo = list(distinct)
    with store.engine.connect() as conn:
        for k in range(0, len(todo), CHUNK):
            known.update((key, tone) for key, tone in conn.execute(select(TextSentiment.key, TextSentiment.tone)
                         .where(TextSentiment.version == ver, TextSentiment.key.in_(todo[k:k + CHUNK]))))
    fresh = {key: sentiment.score(text) for key, text in distinct.items() if key not in known}
    Counts.computed += len(fresh)
    Counts.stored += len(distinct) - len(fresh)
    if fresh:
        _save(store, ver, fresh)
    known.update(fresh)
    return [known[k] for k in keys]


def _save(store: CRMStore, ver: str, fresh: dict[str, float]) -> None:
    insert = pg_insert if store.engine.dialect.name == "postgresql" else sqlite_insert
    rows = [{"version": ver, "key": key, "tone": tone} for key, tone in fresh.items()]
    try:
        with store.engine.begin() as conn:  # one statement, executed for many rows (batched by SQLAlchemy)
            conn.execute(insert(TextSentiment).on_conflict_do_nothing(), rows)
    except SQLAlchemyError as exc:  # a read-only replica, a lock held too long: score now, store next time
        log.warning("tones of %d texts not stored (%s); they are computed again next time", len(rows),
                    type(exc).__name__)
