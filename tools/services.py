"""Dependencies built once from the settings and handed to commands, tools and agents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.settings import Settings
from integrations.crm.store import CRMStore, open_store
from tools import renewal_model
from tools.access import OPERATOR, Asker, resolve_asker
from tools.crm import ToolContext
from tools.health import Scorecard, load_scorecard
from tools.renewal_model import RenewalModel
from tools.risk_signals import Embed, load_lexicon
from tools.scores import ScoreCache

PREWARM_CHUNK = 5_000  # accounts whose telemetry the detectors read at once when warming up

if TYPE_CHECKING:
    from integrations.memory import Memory


MODEL_KEY = "renewal_model"  # retain_meta key of the fitted renewal model (JSON)


@dataclass
class Services:
    """The CRM store, scorecard and renewal model for one set of settings."""

    settings: Settings

    @cached_property
    def store(self) -> CRMStore:
        """The CRM store, migrated to the current schema."""
        return open_store(self.settings.db_url, self.settings.database)

    @cached_property
    def card(self) -> Scorecard:
        """The health scorecard."""
        return load_scorecard(self.settings.health_file)

    @property
    def model_file(self) -> Path:
        """Where the fitted renewal model is kept."""
        return self.settings.data_dir / "renewal_model.json"

    def renewal_model(self) -> renewal_model.RenewalModel | None:
        """The fitted renewal model: the one kept in the database (every worker's), else the data folder's file."""
        kept = self.store.get_meta(MODEL_KEY)
        if kept:
            return renewal_model.RenewalModel.from_json(json.loads(kept))
        return renewal_model.load(self.model_file)

    def save_renewal_model(self, model: RenewalModel | None) -> None:
        """Keep a fitted model for every process and host (database) and in the data folder; None forgets it."""
        if model is None:
            self.model_file.unlink(missing_ok=True)
            self.store.set_meta(MODEL_KEY, "")
            return
        renewal_model.save(model, self.model_file)
        self.store.set_meta(MODEL_KEY, json.dumps(model.to_json()))

    @cached_property
    def memory(self) -> Memory:
        """The Chroma memory (embedded or server), opened on first use."""
        from integrations.gguf import require

        require(self.settings, "embedding")  # no embedding model: fail here, before chromadb is imported
        from integrations.memory import Memory

        return Memory(self.settings, self.store)

    @cached_property
    def embedder(self) -> Embed:
        """The embedding model with its vector cache, without Chroma: vectors for callers that search no collection.

        Risk signals compare note sentences with their lexicon this way, so a health question never
        imports chromadb. Raises like `memory` when the model is missing.
        """
        from integrations.gguf import require

        path = require(self.settings, "embedding")
        from integrations.memory.chroma import cache_for, model_id
        from integrations.vectors import embed_texts

        emb = self.settings.embedding
        cache = cache_for(self.settings, self.store, model_id(emb.model, path))

        def model(texts: list[str]) -> list[np.ndarray]:
            return embed_texts(str(path), emb.n_ctx, emb.n_threads, texts)

        return lambda texts: cache.embed(model, list(texts))

    def asker(self, who: Asker | str | None = None) -> Asker:
        """The person a request acts for, resolved from their identity (an `Asker` is already resolved).

        None means settings.cli_user, else the operator's admin view. An empty string is no identity
        and gets no access (NotFoundError); so does an identity nobody has, or a deactivated person's.
        """
        if isinstance(who, Asker):
            return who
        if who is None:
            who = self.settings.cli_user or OPERATOR
        return resolve_asker(self.store, who)

    @cached_property
    def scores(self) -> ScoreCache:
        """The portfolio's scores, shared by every request of this process until the data or the day changes."""
        return ScoreCache()

    def prewarm(self) -> None:
        """Make first answers as quick as later ones (a serving process calls it at start, in a thread).

        Scores today and yesterday, runs the telemetry detectors over every scored account (in chunks,
        so memory stays near one chunk's telemetry) and compiles the risk lexicon: what a vague first
        question ("anything I should worry about?") would otherwise pay for.
        """
        ctx = ToolContext(store=self.store, card=self.card, viewer=self.asker(OPERATOR),
                          as_of=self.settings.as_of(), scores=self.scores)
        for day in (ctx.as_of, ctx.as_of - timedelta(days=1)):
            self.scores.get(ctx, day)
        load_lexicon().compiled()
        ids = [int(a) for a in self.scores.get(ctx).features.index]
        for k in range(0, len(ids), PREWARM_CHUNK):
            self.scores.detected(ctx, ids[k : k + PREWARM_CHUNK])

    def tool_context(self, who: Asker | str | None = None) -> ToolContext:
        """A tool context for one request, as `who` (reading the process's shared scores)."""
        return ToolContext(store=self.store, card=self.card, viewer=self.asker(who),
                           as_of=self.settings.as_of(), model=self.renewal_model(), scores=self.scores,
                           high_value_arr=self.settings.labels.high_value_arr,
                           fiscal_start=self.settings.fiscal_year_start_month)
