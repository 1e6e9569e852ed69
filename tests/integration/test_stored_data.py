"""Issue 29 item 1: a database row is data, never code.

A crafted `score_runs` row (a compressed pickle whose `__reduce__` calls `exec`) and a crafted LangGraph
checkpoint (a msgpack constructor naming `builtins.exec`) are written into the real stores; the commands
and the follow-up that read them must not run them (a canary file stays absent), say so in a warning
and carry on with recomputed scores and the thread's conversation.
"""

from __future__ import annotations

import logging
import pickle
import sqlite3
import zlib
from pathlib import Path

import ormsgpack
import pytest
from sqlalchemy import select, text

from agents.assistant import Assistant
from integrations.checkpoints import open_checkpointer
from integrations.crm.models import ScoreRun
from tools.access import OPERATOR
from tools.health import score_portfolio
from tools.scores import ScoreCache, card_digest

DANA = "dana.reyes@retain.example"


class _Exec:
    """Pickles to `exec(code)`: what an attacker with write access to the table would store."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def _touch(canary: Path) -> str:
    return f"open({str(canary)!r}, 'w').write('ran')"


def _plant_score_run(rt, canary: Path) -> None:
    """Replace today's stored run (or add one) with a crafted pickle, at the current data version.

    The pickle holds real scores with the payload in an attribute, so a reader that unpickles it goes on
    working as if nothing happened (as the adversarial pass saw: every command exited 0).
    """
    ctx = rt.tool_context(OPERATOR)
    health = score_portfolio(rt.store, ctx.card, ctx.as_of)
    health.features.attrs["note"] = _Exec(_touch(canary))
    payload = zlib.compress(pickle.dumps((health.features, health.previous), protocol=5), 1)
    digest, version = card_digest(ctx.card), rt.store.data_version()
    with rt.store.session() as s:
        s.execute(ScoreRun.__table__.delete())
        s.execute(ScoreRun.__table__.insert().values(day=ctx.as_of, data_version=version, card=digest,
                                                     created_at=ctx.as_of, accounts=1, payload=payload))


def test_a_crafted_pickled_score_run_is_refused_and_recomputed(rt, tmp_path, caplog):
    canary = tmp_path / "canary-scores"
    _plant_score_run(rt, canary)
    cache = ScoreCache()
    with caplog.at_level(logging.WARNING, logger="retain.scores"):
        health = cache.get(rt.tool_context(OPERATOR))
    assert not canary.exists()
    assert cache.computed == 1 and len(health.features) > 100  # recomputed, not read
    assert "refused and recomputed" in caplog.text
    with rt.store.session() as s:  # the crafted row was replaced by a run in the Arrow format
        run = s.scalars(select(ScoreRun)).one()
    assert run.payload.startswith(b"ARROW1") and run.accounts == len(health.features)
    again = ScoreCache()  # another process reads the good run back
    assert again.get(rt.tool_context(OPERATOR)).features.equals(health.features) and again.computed == 0


def test_cli_commands_never_run_a_crafted_score_run(rt, run_cli, tmp_path):
    canary = tmp_path / "canary-cli"
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir)}
    for args in (("accounts", "--json"), ("scores", "--json")):
        _plant_score_run(rt, canary)
        code, out, err = run_cli(*args, env_extra=env)
        assert code == 0, err
        assert not canary.exists(), args


def _tamper_latest_checkpoint(data_dir: Path, canary: Path) -> None:
    """Add a msgpack constructor `builtins.exec(code)` to the thread's latest checkpoint, as a row writer could."""
    evil = ormsgpack.Ext(1, ormsgpack.packb(("builtins", "exec", [_touch(canary)])))
    conn = sqlite3.connect(data_dir / "checkpoints.sqlite")
    rowid, blob = conn.execute("SELECT rowid, checkpoint FROM checkpoints ORDER BY rowid DESC LIMIT 1").fetchone()
    cp = ormsgpack.unpackb(blob, ext_hook=lambda code, data: ormsgpack.Ext(code, data),
                           option=ormsgpack.OPT_NON_STR_KEYS)
    cp["channel_values"]["note"] = evil
    conn.execute("UPDATE checkpoints SET checkpoint = ?, type = 'msgpack' WHERE rowid = ?",
                 (ormsgpack.packb(cp, option=ormsgpack.OPT_NON_STR_KEYS), rowid))
    conn.commit()
    conn.close()


def test_a_crafted_checkpoint_is_refused_and_the_thread_still_follows_up(rt, tmp_path, caplog):
    data_dir = tmp_path / "cp"
    bot = Assistant(rt, use_memory=False, checkpointer=open_checkpointer(data_dir))
    first = bot.ask("which of my customers renew before February?", DANA, "t1")
    assert first["answer"]["text"]
    canary = tmp_path / "canary-checkpoint"
    _tamper_latest_checkpoint(data_dir, canary)
    bot = Assistant(rt, use_memory=False, checkpointer=open_checkpointer(data_dir))  # a new process's reader
    with caplog.at_level(logging.WARNING):
        r = bot.ask("which one of those is biggest?", DANA, "t1")
    assert not canary.exists()
    assert "Blocked deserialization of builtins.exec" in caplog.text
    with rt.store.session() as s:  # the follow-up still resolves against the conversation's last result
        biggest = s.scalar(text(
            "select a.name from contracts k join accounts a on a.id=k.account_id where a.owner_id=4 and "
            "k.status='active' and k.renewal_date between '2026-11-23' and '2027-01-31' order by a.arr desc limit 1"))
    assert biggest in r["answer"]["text"]


def test_the_checkpoint_store_of_either_database_reads_with_the_strict_serializer(rt, tmp_path):
    """SQLite's saver, or PostgreSQL's in that run: a crafted blob of either kind is never run."""
    saver = open_checkpointer(tmp_path / "cp", rt.store)
    canary = tmp_path / "canary-serde"
    evil = ormsgpack.packb({"v": ormsgpack.Ext(1, ormsgpack.packb(("builtins", "exec", [_touch(canary)])))})
    assert saver.serde.loads_typed(("msgpack", evil)) == {"v": [_touch(canary)]}  # the blocked call's raw data
    with pytest.raises(NotImplementedError):
        saver.serde.loads_typed(("pickle", pickle.dumps(_Exec(_touch(canary)))))
    assert not canary.exists()


def test_scores_arrow_cannot_type_are_served_not_stored(rt, caplog):
    """A column mixing kinds of values (which pickle took) is not stored; the process still has the scores."""
    from tools.scores import save_run

    ctx = rt.tool_context(OPERATOR)
    health = score_portfolio(rt.store, ctx.card, ctx.as_of)
    health.features["odd"] = ["text" if i % 2 else 1 for i in range(len(health.features))]
    with caplog.at_level(logging.WARNING, logger="retain.scores"):
        save_run(rt.store, health, rt.store.data_version())
    assert "not stored" in caplog.text
    with rt.store.session() as s:
        assert s.scalars(select(ScoreRun)).first() is None
