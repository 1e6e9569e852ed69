"""Retain's memory in Chroma: account notes, the knowledge base, and facts CSMs tell it.

Three collections, each named after the embedding model that filled it (changing the model
never mixes vectors from two models in one collection):

- account memory: notes, meeting notes, emails, ticket text and NPS comments from the CRM,
  chunked, synced incrementally (a document is re-embedded only when its text changed);
- knowledge: the playbooks in `configs/knowledge/*.md`, chunked by heading;
- facts: what a CSM asked Retain to remember, with who said it and when (kept in the CRM too,
  so `rebuild` restores them).

This layer searches what it is told to; who may see what is decided in `tools.recall`.
Embedded Chroma (PersistentClient) is not process-safe, so one process owns a persistent store
(a file lock says who); use `memory.mode: http` with `chroma run` to share one between processes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.errors import NotFoundError
from integrations.crm.store import CRMStore
from integrations.embeddings import LlamaCppEmbedding
from integrations.gguf import require
from integrations.memory.chroma import cache_for, model_id, open_client, pool
from integrations.memory.documents import Doc, chunk_text, crm_docs, fact_docs, knowledge_docs

Progress = Callable[[str, int, int], None]
_BATCH = 128


@dataclass
class Hit:
    """One retrieved chunk with its source reference."""

    text: str
    score: float
    similarity: float
    source: dict[str, str]
    account_id: int
    kind: str
    meta: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"text": self.text, "score": round(self.score, 4), "similarity": round(self.similarity, 4),
                "kind": self.kind, "account_id": self.account_id, "account": self.meta.get("account", ""),
                "source": self.source}


class Memory:
    """The three collections for one embedding model, on embedded or server Chroma."""

    COLLECTIONS = ("accounts", "knowledge", "facts")

    def __init__(self, settings: Any, store: CRMStore, client: Any = None):
        self.settings = settings
        self.store = store
        self.model_path = require(settings, "embedding")
        self.model_id = model_id(settings.embedding.model, self.model_path)
        self.ef = LlamaCppEmbedding(str(self.model_path), settings.embedding.n_ctx, settings.embedding.n_threads)
        self.cache = cache_for(settings, store, self.model_id)
        self._client = client
        self._handles: dict[str, Any] = {}

    @property
    def client(self) -> Any:
        """The Chroma client (embedded by default, or a `chroma run` server)."""
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    def name(self, which: str, owner: int | None = None) -> str:
        """A collection's name: its role, its owner partition, and the embedding model that fills it.

        Account memory is partitioned by the account owner, so a CSM's search reads only their own
        partition (a metadata filter over one big collection costs ~20 ms at 50,000 chunks).
        """
        part = f"o{owner}-" if which == "accounts" else ""
        return f"retain-{which}-{part}{self.model_id}"

    def collection(self, which: str, owner: int | None = None) -> Any:
        """One collection (account memory: one owner's partition), created on first use."""
        if which not in self.COLLECTIONS:
            raise ValueError(which)
        name = self.name(which, owner if which == "accounts" else None)
        if name not in self._handles:
            self._handles[name] = self.client.get_or_create_collection(
                name, embedding_function=self.ef,  # type: ignore[arg-type]
                metadata={"hnsw:space": "cosine", "retain_model": self.settings.embedding.model,
                          "retain_model_file": self.model_path.name})
        return self._handles[name]

    def collections(self, which: str) -> dict[str, Any]:
        """The existing collections of one role for this model (every owner partition for accounts)."""
        if which != "accounts":
            return {self.name(which): self.collection(which)}
        prefix, suffix = "retain-accounts-o", f"-{self.model_id}"
        out = {}
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(prefix) and name.endswith(suffix) and name[len(prefix):-len(suffix)].isdigit():
                out[name] = self._handle(name)
        return {n: c for n, c in out.items() if c is not None}

    def _handle(self, name: str) -> Any:
        """A cached collection handle, or None when the collection does not exist."""
        if name not in self._handles:
            try:
                self._handles[name] = self.client.get_collection(name, embedding_function=self.ef)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - chromadb raises NotFoundError/ValueError by version
                return None
        return self._handles[name]

    def count(self, which: str) -> int:
        """Chunks held for one role."""
        return sum(c.count() for c in self.collections(which).values())

    def get(self, which: str, where: dict[str, Any]) -> list[str]:
        """Ids of the chunks matching a metadata filter, across partitions."""
        return [i for c in self.collections(which).values() for i in c.get(where=where)["ids"]]

    # -- writing
    def sync(self, progress: Progress | None = None) -> dict[str, dict[str, int]]:
        """Bring every collection up to date with the CRM and the knowledge base; only changes are embedded."""
        return {
            "accounts": self._sync("accounts", crm_docs(self.store), progress),
            "knowledge": self._sync("knowledge", knowledge_docs(), progress),
            "facts": self._sync("facts", fact_docs(self.store), progress),
        }

    def rebuild(self, progress: Progress | None = None) -> dict[str, Any]:
        """Drop this model's collections and any left by other models, then sync from scratch."""
        dropped = []
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith("retain-"):
                self.client.delete_collection(name)
                dropped.append(name)
        self._handles.clear()
        return {"dropped": dropped, **self.sync(progress)}

    def sync_facts(self) -> dict[str, int]:
        """Bring the facts collection up to date with the CRM (after a fact is remembered)."""
        return self._sync("facts", fact_docs(self.store), None)

    def _sync(self, which: str, docs: Iterable[Doc], progress: Progress | None) -> dict[str, int]:
        cols = self.collections(which)
        have: dict[str, tuple[str, int, str]] = {}
        for cname, col in cols.items():
            got = col.get(where={"chunk": 0}, include=["metadatas"])
            for meta in got["metadatas"] or []:
                have[str(meta["doc_key"])] = (str(meta["digest"]), int(meta["n_chunks"]), cname)  # type: ignore[arg-type]
        wanted = {d.key: d for d in docs}
        changed = [d for k, d in wanted.items() if k not in have or have[k][0] != d.digest]
        gone = [k for k in have if k not in wanted]
        stale: dict[str, list[str]] = {}
        for key in gone + [d.key for d in changed if d.key in have]:
            stale.setdefault(have[key][2], []).extend(f"{key}#{i}" for i in range(have[key][1]))
        for cname, ids in stale.items():
            for start in range(0, len(ids), 5000):
                cols[cname].delete(ids=ids[start:start + 5000])
        limit = self.settings.memory.chunk_chars
        rows: list[tuple[str, str, dict[str, Any]]] = []
        for d in changed:
            parts = chunk_text(d.text, limit)
            for i, part in enumerate(parts):
                meta = {**d.meta, "doc_key": d.key, "chunk": i, "n_chunks": len(parts),
                        "digest": d.digest, "day": _day(d.meta.get("date"))}
                rows.append((f"{d.key}#{i}", part, meta))
        rows.sort(key=lambda r: int(r[2].get("owner_id", 0)))
        total = len(rows)
        for start in range(0, total, _BATCH):
            batch = rows[start:start + _BATCH]
            vecs = self.cache.embed(self.ef, [r[1] for r in batch])
            by_owner: dict[int, list[int]] = {}
            for j, r in enumerate(batch):
                by_owner.setdefault(int(r[2].get("owner_id", 0)), []).append(j)
            for owner, idx in by_owner.items():
                self.collection(which, owner).add(
                    ids=[batch[j][0] for j in idx], documents=[batch[j][1] for j in idx],
                    metadatas=[batch[j][2] for j in idx], embeddings=[vecs[j] for j in idx])  # type: ignore[arg-type]
            if progress:
                progress(which, min(start + _BATCH, total), total)
        if progress and not total:
            progress(which, 0, 0)
        return {"documents": len(wanted), "embedded": len(changed), "removed": len(gone),
                "unchanged": len(wanted) - len(changed), "chunks": total}

    # -- reading
    def search(self, query: str, *, scope: set[int] | None, owners: set[int] | None, named: bool = False,
               kinds: list[str] | None = None, k: int = 5, as_of: date | None = None,
               collections: tuple[str, ...] = ("accounts", "facts")) -> list[Hit]:
        """Chunks about the query, recency-aware, one per document, only from accounts in `scope`.

        `scope` is the account ids a hit may come from (None: any) and `owners` the owner partitions
        to read (None: all); the caller works both out from who is asking (`tools.recall`). `named`
        says the scope names particular accounts, so it is applied inside the partitions too.
        """
        query = query.strip()
        if not query:
            raise NotFoundError("Empty search: say what to look for.")
        if scope is not None and not scope:
            return []

        def where(by_account: bool) -> dict[str, Any] | None:
            clauses: list[dict[str, Any]] = []
            if by_account and scope is not None:
                clauses.append({"account_id": {"$in": sorted(scope)}})
            if kinds:
                clauses.append({"kind": {"$in": list(kinds)}})
            return clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)

        targets: list[tuple[Any, dict[str, Any] | None]] = []
        if "accounts" in collections:
            # The owner partitions already hold only the viewer's accounts; a filter inside them is
            # needed only to narrow to named accounts. Every hit is checked against scope below.
            parts = (list(self.collections("accounts").values()) if owners is None
                     else [self._handle(self.name("accounts", o)) for o in sorted(owners)])
            targets += [(c, where(named)) for c in parts if c is not None]
        if "facts" in collections:
            targets.append((self.collection("facts"), where(True)))
        return self._query(query, targets, k, as_of, keep=scope)

    def search_knowledge(self, query: str, *, topics: list[str] | None = None, k: int = 4) -> list[Hit]:
        """Playbook sections about the query (the knowledge base is shared by everyone)."""
        query = query.strip()
        if not query:
            raise NotFoundError("Empty search: say what to look for.")
        where = {"topic": {"$in": list(topics)}} if topics else None
        return self._query(query, [(self.collection("knowledge"), where)], k, None, recency=False)

    def _query(self, query: str, targets: list[tuple[Any, dict[str, Any] | None]], k: int,
               as_of: date | None, recency: bool = True, keep: set[int] | None = None) -> list[Hit]:
        vec = self.ef([query])[0]
        today = (as_of or self.settings.as_of()).toordinal()
        half = self.settings.memory.recency_half_life_days
        hits: list[Hit] = []

        def one(target: tuple[Any, dict[str, Any] | None]) -> Any:
            return target[0].query(query_embeddings=[vec], n_results=max(4 * k, 20), where=target[1],
                                   include=["documents", "metadatas", "distances"])

        if len(targets) > 2:  # a manager's or admin's partitions: Chroma's engine runs them in parallel
            results = list(pool().map(one, targets))
        else:
            results = [one(t) for t in targets]
        for res in results:
            for text, meta, dist in zip(res["documents"][0], res["metadatas"][0],  # type: ignore[index]
                                        res["distances"][0], strict=True):  # type: ignore[index]
                aid = int(meta.get("account_id") or 0)  # type: ignore[arg-type]
                if keep is not None and aid not in keep:
                    continue
                sim = 1.0 - float(dist)
                day = int(meta.get("day") or 0)  # type: ignore[arg-type]
                weight = 0.5 ** (max(0, today - day) / half) if recency and day else 1.0
                hits.append(Hit(text=str(text), score=sim * (0.8 + 0.2 * weight), similarity=sim,
                                source=_source(meta), account_id=aid, kind=str(meta.get("kind", "")),
                                meta=dict(meta)))
        hits.sort(key=lambda h: -h.score)
        out: list[Hit] = []
        seen_docs: set[str] = set()
        seen_text: set[str] = set()
        for h in hits:
            doc = str(h.meta.get("doc_key"))
            norm = re.sub(r"\W+", " ", h.text.lower()).strip()
            if doc in seen_docs or norm in seen_text:
                continue
            seen_docs.add(doc)
            seen_text.add(norm)
            out.append(h)
            if len(out) == k:
                break
        return out

    def stats(self) -> list[dict[str, Any]]:
        """Collections in the store, their model and size."""
        rows = []
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            c = self.client.get_collection(name) if isinstance(col, str) else col
            rows.append({"collection": name, "chunks": c.count(), "current": name.endswith(self.model_id)})
        return rows


def _day(value: Any) -> int:
    if not value:
        return 0
    return date.fromisoformat(str(value)[:10]).toordinal()


def _source(meta: dict[str, Any]) -> dict[str, str]:
    return {"type": str(meta.get("source_type", "")), "id": str(meta.get("source_id", "")),
            "date": str(meta.get("date", "")), "label": str(meta.get("label", "")),
            "account": str(meta.get("account", ""))}
