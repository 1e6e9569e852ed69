"""Retain's memory in Chroma: account notes, the knowledge base, and facts CSMs tell it.

Three collections, each named after the embedding model that filled it (changing the model
never mixes vectors from two models in one collection):

- account memory: notes, meeting notes, emails, ticket text and NPS comments from the CRM,
  chunked, synced incrementally (a document is re-embedded only when its text changed);
- knowledge: the playbooks in `configs/knowledge/*.md`, chunked by heading;
- facts: what a CSM asked Retain to remember, with who said it and when (kept in the CRM too,
  so `rebuild` restores them).

Retrieval is scoped in code: a search only ever matches accounts the viewer may see.
Embedded Chroma (PersistentClient) is not process-safe, so one process owns a persistent store
(a file lock says who); use `memory.mode: http` with `chroma run` to share one between processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from configs import CONFIG_DIR
from integrations.crm.models import Account, Activity, RememberedFact, SurveyResponse, Ticket
from integrations.crm.store import CRMStore
from integrations.embeddings import LlamaCppEmbedding
from retain.errors import AccessDenied, ConfigError, NotFoundError, RetainError
from tools import access
from tools.access import Viewer

KNOWLEDGE_DIR = CONFIG_DIR / "knowledge"
Progress = Callable[[str, int, int], None]
_BATCH = 128


class MemoryBusy(RetainError):
    """Another process owns the embedded memory store."""


@dataclass
class Doc:
    """One source document before chunking."""

    key: str  # e.g. activity:42, ticket:7, survey:3, fact:5, kb:tuning#quantization
    text: str
    meta: dict[str, Any]

    @property
    def digest(self) -> str:
        """Changes whenever the text or its metadata changes."""
        h = hashlib.sha1(self.text.encode())
        h.update(repr(sorted(self.meta.items())).encode())
        return h.hexdigest()


# ---------------------------------------------------------------- chunking
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def chunk_text(text: str, limit: int) -> list[str]:
    """Split on paragraphs, then sentences, then hard, into pieces of at most `limit` chars."""
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        para = para.strip()
        if not para:
            continue
        if len(para) <= limit:
            pieces.append(para)
            continue
        for sent in _SENTENCE.split(para):
            while len(sent) > limit:
                pieces.append(sent[:limit])
                sent = sent[limit:]
            pieces.append(sent)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= limit:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks or [text.strip()[:limit]]


def knowledge_docs(folder: Path = KNOWLEDGE_DIR) -> list[Doc]:
    """The playbooks, one document per `##` section (file title, heading and body)."""
    docs: list[Doc] = []
    for path in sorted(folder.glob("*.md")):
        title = path.stem
        sections: list[tuple[str, list[str]]] = []
        for line in path.read_text().splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
            elif line.startswith("## "):
                sections.append((line[3:].strip(), []))
            elif sections:
                sections[-1][1].append(line)
        for heading, body in sections:
            text = "\n".join(body).strip()
            if not text:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
            docs.append(Doc(f"kb:{path.stem}#{slug}", f"{title} / {heading}\n{text}",
                            {"kind": "playbook", "topic": path.stem, "heading": heading,
                             "label": f"{title}: {heading}", "source_type": "playbook",
                             "source_id": f"{path.name}#{slug}", "date": "", "account_id": 0}))
    return docs


def crm_docs(store: CRMStore) -> Iterator[Doc]:
    """Notes, ticket text and survey comments from the CRM, as memory documents."""
    with store.session() as s:
        accts = {r[0]: (r[1], r[2] or 0) for r in s.execute(select(Account.id, Account.name, Account.owner_id))}

        def who(aid: int) -> dict[str, Any]:
            name, owner = accts.get(aid, ("", 0))
            return {"account": name, "owner_id": owner}

        for a in s.scalars(select(Activity).order_by(Activity.id)):
            yield Doc(f"activity:{a.id}", f"{a.subject}\n{a.body}",
                      {"kind": a.kind, "account_id": a.account_id, "date": a.occurred_on.isoformat(),
                       "source_type": "activity", "source_id": str(a.id), "label": a.subject,
                       "author": a.author, **who(a.account_id)})
        for t in s.scalars(select(Ticket).order_by(Ticket.id)):
            yield Doc(f"ticket:{t.id}", f"Ticket: {t.subject}\n{t.body}",
                      {"kind": "ticket", "account_id": t.account_id, "date": t.opened_at.date().isoformat(),
                       "source_type": "ticket", "source_id": str(t.id), "label": t.subject,
                       "status": t.status, "priority": t.priority, **who(t.account_id)})
        for r in s.scalars(select(SurveyResponse).where(SurveyResponse.comment.is_not(None))
                           .where(SurveyResponse.comment != "").order_by(SurveyResponse.id)):
            yield Doc(f"survey:{r.id}", f"{r.kind.upper()} {r.score}: {r.comment}",
                      {"kind": r.kind, "account_id": r.account_id, "date": r.responded_on.isoformat(),
                       "source_type": r.kind, "source_id": str(r.id), "label": f"{r.kind.upper()} {r.score}",
                       "score": r.score, **who(r.account_id)})


def fact_docs(store: CRMStore) -> Iterator[Doc]:
    """Remembered facts, as memory documents."""
    with store.session() as s:
        names: dict[int, str] = {r[0]: r[1] for r in s.execute(select(Account.id, Account.name))}
        for f in s.scalars(select(RememberedFact).order_by(RememberedFact.id)):
            yield Doc(f"fact:{f.id}", f.text,
                      {"kind": "fact", "account_id": f.account_id, "date": f.said_at.date().isoformat(),
                       "source_type": "fact", "source_id": str(f.id), "label": f"remembered from {f.said_by}",
                       "said_by": f.said_by, "said_at": f.said_at.isoformat(timespec="seconds"),
                       "account": names.get(f.account_id, "")})


# ---------------------------------------------------------------- embedding cache
class EmbeddingCache:
    """Vectors by (model, text) in a small SQLite file, so rebuilds and re-syncs skip the model."""

    def __init__(self, path: Path, model_id: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model_id = model_id
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, "
                        "PRIMARY KEY (model, key))")
        self.lock = threading.Lock()

    def embed(self, ef: Callable[[list[str]], Any], texts: list[str]) -> list[np.ndarray]:
        """Vectors for `texts`: cached ones read, the rest embedded once (duplicates once) and stored."""
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        with self.lock:
            for k in range(0, len(keys), 500):
                part = keys[k:k + 500]
                rows = self.db.execute(
                    f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({','.join('?' * len(part))})",
                    [self.model_id, *part]).fetchall()
                found.update({key: np.frombuffer(blob, dtype=np.float32) for key, blob in rows})
        todo = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        if todo:
            vecs = ef(list(todo.values()))
            new = {key: np.asarray(v, dtype=np.float32) for key, v in zip(todo, vecs, strict=True)}
            found.update(new)
            with self.lock, self.db:
                self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                    [(self.model_id, key, v.tobytes()) for key, v in new.items()])
        return [found[key] for key in keys]


# ---------------------------------------------------------------- the store lock
_LOCKS: dict[str, Any] = {}
_LOCKS_GUARD = threading.Lock()


def _own(path: Path) -> None:
    """Take the process-wide lock on an embedded Chroma folder, or say who holds it."""
    key = str(path.resolve())
    with _LOCKS_GUARD:
        if key in _LOCKS:
            return
        path.mkdir(parents=True, exist_ok=True)
        fh = open(path / "retain.lock", "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise MemoryBusy(f"The memory store {path} is in use by {holder}. Embedded Chroma is "
                             "not process-safe: stop that process, or run `chroma run` and set "
                             "memory.mode: http so several processes can share it.") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"retain pid {os.getpid()}")
        fh.flush()
        _LOCKS[key] = fh


# ---------------------------------------------------------------- memory
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
        from integrations.models import require

        self.settings = settings
        self.store = store
        self.model_path = require(settings, "embedding")
        self.model_id = _model_id(settings.embedding.model, self.model_path)
        self.ef = LlamaCppEmbedding(str(self.model_path), settings.embedding.n_ctx)
        self.cache = EmbeddingCache(settings.data_dir / "embedding_cache.sqlite", self.model_id)
        self._client = client
        self._handles: dict[str, Any] = {}

    @property
    def client(self) -> Any:
        """The Chroma client (embedded by default, or a `chroma run` server)."""
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma = ChromaSettings(anonymized_telemetry=False)
            mem = self.settings.memory
            if mem.mode == "http":
                try:
                    self._client = chromadb.HttpClient(host=mem.host, port=mem.port, settings=chroma)
                    self._client.heartbeat()
                except Exception as exc:  # noqa: BLE001 - any connection failure is the same to the user
                    raise ConfigError(f"Cannot reach the Chroma server at {mem.host}:{mem.port} ({exc}). "
                                      "Start it with `chroma run --path DIR --host HOST --port PORT` or set "
                                      "memory.mode: persistent.") from None
            else:
                path = self.settings.data_dir / "chroma"
                _own(path)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma)
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

    def remember(self, viewer: Viewer, account_id: int, text: str, said_by: str, origin: str = "",
                 when: datetime | None = None) -> dict[str, Any]:
        """Keep a fact about an account (in the CRM and in memory); the viewer must see the account."""
        text = text.strip()
        if not text:
            raise NotFoundError("Nothing to remember: say the fact after 'remember'.")
        if len(text) > 2000:
            raise NotFoundError("That fact is longer than 2,000 characters; keep it to a few sentences.")
        with self.store.session() as s:
            name = s.scalar(select(Account.name).where(Account.id == account_id))
        if name is None:
            raise NotFoundError(f"No account with id {account_id}.")
        access.check(self.store, viewer, account_id, "That account")
        with self.store.session() as s:
            fact = RememberedFact(account_id=account_id, text=text, said_by=said_by,
                                  said_at=when or datetime.now().replace(microsecond=0), origin=origin)
            s.add(fact)
            s.commit()
            fid = fact.id
        self._sync("facts", fact_docs(self.store), None)
        return {"id": fid, "account_id": account_id, "account": name, "text": text, "said_by": said_by}

    # -- reading
    def allowed_accounts(self, viewer: Viewer) -> list[int] | None:
        """Account ids the viewer may see (None: all)."""
        owners = access.visible_owner_ids(self.store, viewer)
        if owners is None:
            return None
        with self.store.session() as s:
            return list(s.scalars(select(Account.id).where(Account.owner_id.in_(owners))))

    def search(self, query: str, viewer: Viewer, *, account_ids: list[int] | None = None,
               kinds: list[str] | None = None, k: int = 5, as_of: date | None = None,
               collections: tuple[str, ...] = ("accounts", "facts")) -> list[Hit]:
        """Chunks about the query from accounts the viewer may see, recency-aware, one per document."""
        query = query.strip()
        if not query:
            raise NotFoundError("Empty search: say what to look for.")
        allowed = self.allowed_accounts(viewer)
        if account_ids is not None and allowed is not None and set(account_ids) - set(allowed):
            raise AccessDenied("Some of those accounts are not in your portfolio, so I can't search "
                               "their notes. Ask their owner, your manager or an admin.")
        scope = account_ids if account_ids is not None else allowed
        if scope is not None and not scope:
            return []
        if account_ids is not None:
            with self.store.session() as s:
                owners: set[int] | None = {o or 0 for o in s.scalars(
                    select(Account.owner_id).where(Account.id.in_(account_ids)))}
        else:
            owners = access.visible_owner_ids(self.store, viewer)

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
            targets += [(c, where(account_ids is not None)) for c in parts if c is not None]
        if "facts" in collections:
            targets.append((self.collection("facts"), where(True)))
        return self._query(query, targets, k, as_of, keep=set(scope) if scope is not None else None)

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
            results = list(_pool().map(one, targets))
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


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="retain-memory")
    return _POOL


def _day(value: Any) -> int:
    if not value:
        return 0
    return date.fromisoformat(str(value)[:10]).toordinal()


def _source(meta: dict[str, Any]) -> dict[str, str]:
    return {"type": str(meta.get("source_type", "")), "id": str(meta.get("source_id", "")),
            "date": str(meta.get("date", "")), "label": str(meta.get("label", "")),
            "account": str(meta.get("account", ""))}


def _model_id(name: str, path: Path) -> str:
    """A short, stable id for the embedding model: its name and a fingerprint of the file."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with path.open("rb") as fh:
        h.update(fh.read(1 << 20))
        fh.seek(max(0, size - (1 << 20)))
        h.update(fh.read(1 << 20))
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()[:40] or "model"
    return f"{slug}-{h.hexdigest()[:10]}"

