"""Readiness: can this process answer? What answering needs decides; what it can do without is "degraded".

Liveness (`/healthz`) is only "the process serves HTTP"; readiness (`/readyz`) is what a load
balancer or Kubernetes should route on. Required: the database (reachable, schema current) and the
answering process (alive and started). Optional: the memory store and the LLM backend: without
them answers still come, from the verified findings, so a worker is ready and reported degraded
(an LLM server that is down must not take every worker out of the load balancer at once).
Details say which check failed and why in a few words; they never carry a URL, host, path or secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text

from integrations.crm.retry import lost_connection_in
from integrations.crm.store import head_revision
from integrations.llm import api_root
from tools.services import Services

TIMEOUT_S = 2.0
REQUIRED = ("database", "answering")


class NotReady(Exception):  # noqa: N818 - a check's own verdict, shown as is
    """A check's failure in its own words (no URL, no secret)."""


def _check(fn: Callable[[], str], what: str) -> dict[str, Any]:
    try:
        return {"ok": True, "detail": fn()}
    except NotReady as exc:
        return {"ok": False, "detail": str(exc)}
    except httpx.HTTPError as exc:
        return {"ok": False, "detail": f"{what} unreachable ({type(exc).__name__})"}
    except Exception as exc:  # noqa: BLE001 - any failure is "not ready", by its kind: its text may hold a URL
        why = "unreachable" if lost_connection_in(exc) else "failed"
        return {"ok": False, "detail": f"{what} {why} ({type(exc).__name__})"}


def readiness(services: Services, answering: Callable[[], tuple[bool, str]] | None = None
              ) -> tuple[bool, dict[str, Any]]:
    """(ready, per-check results); each check has ok, detail and whether answering needs it (`required`)."""
    st = services.settings

    def database() -> str:
        with services.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        have, head = services.store.schema_version(), head_revision()
        if have != head:
            raise NotReady(f"schema at revision {have}, this Retain needs {head}")
        return f"reachable, schema {have}"

    def process() -> str:
        if answering is None:
            return "in this process"
        alive, detail = answering()
        if not alive:
            raise NotReady(detail)
        return detail

    def memory() -> str:
        if st.memory.mode != "http":
            return "embedded (Chroma in the data directory)"
        r = httpx.get(f"http://{st.memory.host}:{st.memory.port}/api/v2/heartbeat", timeout=TIMEOUT_S)
        if r.status_code != 200:
            raise NotReady(f"the Chroma server answered {r.status_code}: answers go on without memory")
        return "Chroma server reachable"

    def llm() -> str:
        if st.llm.backend == "none":
            return "off (answers from verified findings)"
        if st.llm.backend == "openai":
            headers = {"Authorization": f"Bearer {st.llm.api_key}"} if st.llm.api_key else {}
            root = api_root(st.llm.base_url)  # the same URL the answers call
            r = httpx.get(root + "/models", headers=headers, timeout=TIMEOUT_S)
            if r.status_code in (401, 403):
                raise NotReady(f"the LLM server refused the key ({r.status_code}): check llm.api_key")
            if r.status_code != 200:
                raise NotReady(f"no OpenAI-compatible API at llm.base_url ({r.status_code} on /models): "
                               "check llm.base_url")
            return "OpenAI-compatible server reachable at llm.base_url"
        from integrations.gguf import require

        require(st, "chat")
        return "llama.cpp in-process (model file present)"

    checks = {"database": _check(database, "database"), "answering": _check(process, "answering process"),
              "memory": _check(memory, "Chroma server"), "llm": _check(llm, "LLM server")}
    for name, c in checks.items():
        c["required"] = name in REQUIRED
    return all(c["ok"] for name, c in checks.items() if name in REQUIRED), checks


def summary(ok: bool, checks: dict[str, Any]) -> dict[str, Any]:
    """The /readyz body: ready, a one-word status, the failing checks by name, and every check."""
    failed = [n for n, c in checks.items() if not c["ok"]]
    status = "not ready" if not ok else "degraded" if failed else "ready"
    return {"ready": ok, "status": status, "failed": failed, "checks": checks}
