"""Retain's MCP server under its own client: seconds per tool call over streamable HTTP, one and several at once.

Seeds the demo in a temporary folder, makes a token per CSM with `retain mcp tokens add`, starts
`retain mcp --http --no-llm` as a real process on 127.0.0.1 and calls each tool with the MCP SDK's
client: `--rounds` sequential calls per tool for one person, then every CSM calling at once.
Deterministic answers (no chat model), so the figures are the server's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("portfolio", {"limit": 50}),
    ("query", {"query": {"entity": "tickets", "fields": ["subject", "priority", "account"], "limit": 50}}),
    ("account", {"name": "Acme Corp"}),
    ("metric", {"metric": "nrr"}),
    ("ask", {"question": "which accounts are at risk and why?"}),
]


def retain(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "retain", *args], env=env, capture_output=True, text=True,
                         timeout=1800, check=True)
    return out.stdout


async def session_calls(url: str, token: str, rounds: int, only: str | None = None) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                  timeout=httpx2.Timeout(60, read=1800)) as hc, \
            streamable_http_client(url, http_client=hc) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        for _ in range(rounds):
            for name, args in CALLS:
                if only and name != only:
                    continue
                t = time.perf_counter()
                res = await s.call_tool(name, args)
                times.setdefault(name, []).append(time.perf_counter() - t)
                assert not res.is_error or name == "account", res.content[0].text  # Acme is Dana's only
    return times


def stats(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"n": len(xs), "p50": round(statistics.median(xs), 3), "p95": round(xs[int(0.95 * (len(xs) - 1))], 3),
            "max": round(xs[-1], 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--out", default="bench/mcp.json")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="retain-mcp-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RETAIN_")}
        env |= {"RETAIN_DATA_DIR": tmp, "RETAIN_TODAY": "2026-11-23", "RETAIN_LLM__BACKEND": "none",
                "RETAIN_MCP__BURST": "100000"}
        retain(env, "demo", "seed")
        csms = [c["email"] for c in json.loads(retain(env, "csms", "--json")) if c["role"] == "csm"]
        tokens = {e: json.loads(retain(env, "mcp", "tokens", "add", e, "--json"))["token"] for e in csms}
        proc = subprocess.Popen([sys.executable, "-m", "retain", "mcp", "--http", "--port", "0", "--no-llm"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            url = next(line for line in proc.stderr if " on http://" in line).rsplit(" on ", 1)[1].strip()
            first = anyio.run(session_calls, url, tokens[csms[0]], 1, "portfolio")["portfolio"][0]
            one = anyio.run(session_calls, url, tokens[csms[0]], opts.rounds)

            async def everyone() -> dict[str, list[float]]:
                merged: dict[str, list[float]] = {}

                async def person(tok: str) -> None:
                    for k, v in (await session_calls(url, tok, 2)).items():
                        merged.setdefault(k, []).extend(v)

                async with anyio.create_task_group() as tg:
                    for tok in tokens.values():
                        tg.start_soon(person, tok)
                return merged

            t = time.perf_counter()
            many = anyio.run(everyone)
            wall = time.perf_counter() - t
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    report = {"first_call_s": round(first, 3), "one_person": {k: stats(v) for k, v in one.items()},
              "concurrent": {"people": len(tokens), "wall_s": round(wall, 2),
                             "calls": sum(len(v) for v in many.values()),
                             "per_tool": {k: stats(v) for k, v in many.items()}},
              "cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    print(json.dumps(report, indent=2))
    with open(opts.out, "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
