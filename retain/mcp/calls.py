"""Every MCP call's gate: who is calling, their rate limit, the ops metrics, and one clear line on failure.

`RetainMCP` is the SDK's `MCPServer` with its two entry points (`call_tool`, `read_resource`) wrapped:
a call without an identity gets no data; a caller over their rate gets a tool error saying when to
try again; a Retain error (not found, not yours, bad query) reaches the client as its own one line,
a malformed argument as the fields that were wrong, anything else as one line naming the tool, never
a traceback (the server's log keeps it). Each call is counted in `retain_mcp_calls{tool,status}`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import AnyUrl, ValidationError

from core.errors import RetainError, mask_secrets
from core.metrics import metrics
from integrations.crm.retry import lost_connection_in

log = logging.getLogger("retain.mcp")
CALLER_KEY = "retain.caller"  # where the HTTP gate leaves the verified caller in the request's ASGI scope


@dataclass(frozen=True)
class Caller:
    """A verified identity: `who` is what Retain resolves to a person, `key` what their rate limit counts."""

    who: str
    key: str
    via: str  # stdio | token | slack


class NoIdentity(RetainError):
    """A call that carries no verified person: it gets no data."""


class RateLimits:
    """A token bucket per caller key: `burst` calls at once, refilled at `per_hour` calls an hour."""

    def __init__(self, per_hour: int, burst: int):
        self.rate, self.burst = per_hour / 3600.0, float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one call; 0 when allowed, else the seconds until the next call is."""
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


def caller_from(ctx: Context[Any, Any] | None, fixed: Caller | None) -> Caller:
    """The caller of this request: the process's own (stdio) or what the HTTP gate verified."""
    if fixed is not None:
        return fixed
    request = ctx.request_context.request if ctx is not None else None
    caller = getattr(request, "scope", {}).get(CALLER_KEY) if request is not None else None
    if not isinstance(caller, Caller):
        raise NoIdentity("This request carries no verified person, so no account data can be shared. Send "
                         "'Authorization: Bearer <token>' (an admin makes one with `retain mcp tokens add EMAIL`), "
                         "or connect through Slack identity auth.")
    return caller


def argument_error(name: str, exc: ValidationError) -> str:
    """Malformed arguments in one line: which fields, what was wrong (never the values sent)."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    return f"Bad arguments for {name}: " + "; ".join(parts) + ". See the tool's input schema."


class RetainMCP(MCPServer[Any]):
    """MCPServer whose tool calls and resource reads pass the caller, rate and error gate."""

    def __init__(self, *args: Any, caller: Caller | None, limits: RateLimits, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fixed_caller, self.limits = caller, limits

    def caller(self, ctx: Context[Any, Any] | None) -> Caller:
        """Who this request is from (NoIdentity when no one verified)."""
        return caller_from(ctx, self.fixed_caller)

    def _admit(self, ctx: Context[Any, Any] | None) -> Caller:
        caller = self.caller(ctx)  # NoIdentity before anything is counted against a rate
        wait = self.limits.take(caller.key)
        if wait:
            raise _Limited(f"Rate limit: this token has made its {int(self.limits.burst)} calls; the next is allowed "
                           f"in {max(1, round(wait))} s (mcp.calls_per_hour, mcp.burst).")
        return caller

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None) -> Any:
        """Run a tool for a verified caller within their rate; every failure is one clear line."""
        return await self._gated(name, lambda: super(RetainMCP, self).call_tool(name, arguments, context),
                                 context, ToolError)

    async def read_resource(self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
                            ) -> Iterable[ReadResourceContents] | Any:
        """Read a resource for a verified caller within their rate; every failure is one clear line."""
        kind = str(uri).split("://", 1)[-1].split("/", 1)[0]
        return await self._gated(f"resource:{kind}", lambda: super(RetainMCP, self).read_resource(uri, context),
                                 context, ResourceError)

    async def _gated(self, name: str, run: Callable[[], Any], context: Context[Any, Any] | None,
                     error: type[Exception]) -> Any:
        status, who, start = "ok", "nobody", time.perf_counter()
        try:
            who = self._admit(context).key
            return await run()
        except _Limited as exc:
            status = "limited"
            raise error(str(exc)) from None
        except NoIdentity as exc:
            status = "refused"
            raise error(str(exc)) from None
        except (ToolError, ResourceError) as exc:
            status = "error"
            raise error(_clear(name, exc)) from exc.__cause__ if isinstance(exc.__cause__, ValidationError) else None
        except RetainError as exc:
            status = "error"
            raise error(mask_secrets(str(exc))) from None
        finally:
            metrics().mcp_calls.labels(name, status).inc()
            seconds = round(time.perf_counter() - start, 3)
            log.info("mcp %s by %s: %s", name, who, status, extra={"status": status, "seconds": seconds})


class _Limited(Exception):  # noqa: N818 - internal: over the rate limit
    pass


def _clear(name: str, exc: Exception) -> str:
    """The line a client sees for a tool or resource failure."""
    cause = exc.__cause__
    while cause is not None and not isinstance(cause, RetainError | ValidationError) and cause.__cause__:
        cause = cause.__cause__
    if isinstance(cause, ValidationError):
        return argument_error(name, cause)
    if isinstance(cause, RetainError):
        return mask_secrets(str(cause))
    if cause is not None and lost_connection_in(cause):
        log.error("MCP %s: the database is unreachable (%s)", name, type(cause).__name__)
        return f"{name}: Retain's database is unreachable right now; nothing was changed. Try again shortly."
    if cause is not None:
        log.error("MCP %s failed", name, exc_info=cause)
        return (f"{name} failed unexpectedly ({type(cause).__name__}); nothing was changed. The server's log "
                "has the details.")
    return mask_secrets(str(exc))
