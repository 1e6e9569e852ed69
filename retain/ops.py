"""Readiness: can this process answer? The database, the memory store and the LLM backend, each checked.

Liveness (`/healthz`) is only "the process serves HTTP"; readiness (`/readyz`) is what a load
balancer or Kubernetes should route on. Details never carry secrets (`mask_secrets`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from core.errors import mask_secrets
from integrations.crm.store import head_revision
from integrations.llm import api_root
from tools.services import Services

TIMEOUT_S = 2.0


def _check(fn: Any) -> dict[str, Any]:
    try:
        detail = fn()
        return {"ok": True, "detail": detail}
    except Exception as exc:  # noqa: BLE001 - any failure is "not ready", with its reason
        return {"ok": False, "detail": mask_secrets(f"{type(exc).__name__}: {str(exc)[:200]}")}


def readiness(services: Services) -> tuple[bool, dict[str, Any]]:
    """(ready, per-check results) for the database, memory and LLM backend."""
    st = services.settings

    def database() -> str:
        with services.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        have, head = services.store.schema_version(), head_revision()
        if have != head:
            raise RuntimeError(f"schema at revision {have}, this Retain needs {head}")
        return f"{services.store.engine.dialect.name}, schema {have}"

    def memory() -> str:
        if st.memory.mode != "http":
            return "embedded (Chroma in the data directory)"
        r = httpx.get(f"http://{st.memory.host}:{st.memory.port}/api/v2/heartbeat", timeout=TIMEOUT_S)
        r.raise_for_status()
        return f"chroma server {st.memory.host}:{st.memory.port}"

    def llm() -> str:
        if st.llm.backend == "none":
            return "off (answers from verified findings)"
        if st.llm.backend == "openai":
            headers = {"Authorization": f"Bearer {st.llm.api_key}"} if st.llm.api_key else {}
            root = api_root(st.llm.base_url)  # the same URL the answers call
            r = httpx.get(root + "/models", headers=headers, timeout=TIMEOUT_S)
            if r.status_code in (401, 403):
                raise RuntimeError(f"the LLM server at {root} refused the key ({r.status_code}): check llm.api_key")
            if r.status_code != 200:
                raise RuntimeError(f"no OpenAI-compatible API at {root} ({r.status_code} on /models): "
                                   "check llm.base_url")
            return f"OpenAI-compatible server at {root}"
        from integrations.gguf import require

        path: Path = require(st, "chat")
        return f"llama.cpp in-process ({path.name})"

    checks = {"database": _check(database), "memory": _check(memory), "llm": _check(llm)}
    return all(c["ok"] for c in checks.values()), checks
