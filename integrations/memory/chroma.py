"""The Chroma side of memory: the client (embedded or server), the embedded store's lock, the vector cache."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import ConfigError, RetainError
from integrations.crm.models import EmbeddingVector
from integrations.crm.store import CRMStore
from integrations.sqlite_wal import use_wal


class MemoryBusy(RetainError):
    """Another process owns the embedded memory store."""


class EmbeddingCache:
    """Vectors by (model, text) in a small SQLite file, so rebuilds and re-syncs skip the model."""

    def __init__(self, path: Path, model_id: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model_id = model_id
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        use_wal(self.db)
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, "
                        "PRIMARY KEY (model, key))")
        self.lock = threading.Lock()

    def embed(self, ef: Callable[[list[str]], Any], texts: list[str]) -> list[np.ndarray]:
        """Vectors for `texts`: cached ones read, the rest embedded once (duplicates once) and stored."""
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for k in range(0, len(unique), 500):
            found.update({key: np.frombuffer(blob, dtype=np.float32) for key, blob in self._read(unique[k:k + 500])})
        todo = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        if todo:
            vecs = ef(list(todo.values()))
            new = {key: np.asarray(v, dtype=np.float32) for key, v in zip(todo, vecs, strict=True)}
            found.update(new)
            self._write([(key, v.tobytes()) for key, v in new.items()])
        return [found[key] for key in keys]

    def _read(self, keys: list[str]) -> list[tuple[str, bytes]]:
        with self.lock:
            return self.db.execute(
                f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({','.join('?' * len(keys))})",
                [self.model_id, *keys]).fetchall()

    def _write(self, rows: list[tuple[str, bytes]]) -> None:
        with self.lock, self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                [(self.model_id, key, blob) for key, blob in rows])


class DatabaseEmbeddingCache(EmbeddingCache):
    """The same cache in the CRM database (table embedding_vectors): one for every worker and host.

    With several `retain serve` workers on several hosts, a text embedded by one is read by the
    others instead of being embedded again; concurrent writers of the same text keep the first.
    """

    def __init__(self, engine: Engine, model_id: str):  # noqa: D107 - no file, no SQLite connection
        self.model_id, self.engine = model_id, engine

    def _read(self, keys: list[str]) -> list[tuple[str, bytes]]:
        with self.engine.connect() as conn:
            return [(k, v) for k, v in conn.execute(select(EmbeddingVector.key, EmbeddingVector.vec).where(
                EmbeddingVector.model == self.model_id, EmbeddingVector.key.in_(keys)))]

    def _write(self, rows: list[tuple[str, bytes]]) -> None:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        values = [{"model": self.model_id, "key": key, "vec": blob} for key, blob in rows]
        with self.engine.begin() as conn:
            for k in range(0, len(values), 500):
                conn.execute(insert(EmbeddingVector).values(values[k:k + 500]).on_conflict_do_nothing())


_LOCKS: dict[str, FileLock] = {}
_LOCKS_GUARD = threading.Lock()


def cache_for(settings: Any, store: CRMStore, model_id: str) -> EmbeddingCache:
    """The vector cache the settings ask for.

    auto: the CRM database when it is PostgreSQL and no cache_file is set, else the file.
    """
    how = settings.embedding.cache
    if how == "database" or (how == "auto" and not settings.embedding.cache_file
                             and store.engine.dialect.name != "sqlite"):
        return DatabaseEmbeddingCache(store.engine, model_id)
    return EmbeddingCache(Path(settings.embedding.cache_file or settings.data_dir / "embedding_cache.sqlite"),
                          model_id)


def own(path: Path) -> None:
    """Take the process-wide lock on an embedded Chroma folder, or say who holds it."""
    key = str(path.resolve())
    with _LOCKS_GUARD:
        if key in _LOCKS:
            return
        path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path / "retain.lock", thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = (path / "retain.owner").read_text().strip() if (path / "retain.owner").exists() else ""
            raise MemoryBusy(f"The memory store {path} is in use by {holder or 'another process'}. Embedded "
                             "Chroma is not process-safe: stop that process, or run `chroma run` and set "
                             "memory.mode: http so several processes can share it.") from None
        (path / "retain.owner").write_text(f"retain pid {os.getpid()}")
        _LOCKS[key] = lock  # held for the life of the process


def open_client(settings: Any) -> Any:
    """The Chroma client the settings ask for: a `chroma run` server, or the embedded store (locked)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma = ChromaSettings(anonymized_telemetry=False)
    mem = settings.memory
    if mem.mode == "http":
        try:
            client = chromadb.HttpClient(host=mem.host, port=mem.port, settings=chroma)
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001 - any connection failure is the same to the user
            raise ConfigError(f"Cannot reach the Chroma server at {mem.host}:{mem.port} ({exc}). "
                              "Start it with `chroma run --path DIR --host HOST --port PORT` or set "
                              "memory.mode: persistent.") from None
        return client
    path = settings.data_dir / "chroma"
    own(path)
    return chromadb.PersistentClient(path=str(path), settings=chroma)


_POOL: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """The thread pool that queries several owner partitions at once."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="retain-memory")
    return _POOL


def model_id(name: str, path: Path) -> str:
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
