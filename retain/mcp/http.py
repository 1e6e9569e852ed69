"""`retain mcp --http`: the MCP server over streamable HTTP, behind a gate that knows who is calling.

Every request to /mcp must prove a person, or it is answered 401 and reaches nothing:
- `Authorization: Bearer rtn_…`, a token made with `retain mcp tokens add EMAIL` (kept hashed,
  revocable: a revoked token or a deactivated person is refused on the next request); or
- with `mcp.slack_identity: true`, a request signed by Slack with the app's signing secret
  (`X-Slack-Signature`, `X-Slack-Request-Timestamp`, within 5 minutes), as Slackbot's MCP client
  sends with Slack identity auth; the caller is the signed body's `params._meta.slack.user_id`
  (in `mcp.slack_team_id`'s workspace when set), mapped to a person like the Slack app does.
  A signed request without a user (initialize, tools/list) is let through with no identity: the
  tools then share no data.
/healthz is open; /readyz (503 when the database is not) and /metrics (the ops metrics, MCP calls
included) answer this host only, or the bearer of `slack.ops_token` when one is set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.metrics import CONTENT_TYPE, render
from integrations.slack.config import secrets
from retain.mcp.calls import CALLER_KEY, Caller
from retain.ops import readiness, summary
from tools import mcp_tokens
from tools.services import Services

log = logging.getLogger("retain.mcp")
SLACK_WINDOW_S = 300
MAX_BODY = 1_000_000
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Refused(Exception):  # noqa: N818 - a request the gate answers 401
    """Why the gate refused a request (one line, never a secret)."""


class Unavailable(Exception):  # noqa: N818 - a request the gate answers 503
    """The token could not be checked (the database is unreachable): try again, nothing was read."""


class Gate:
    """ASGI middleware in front of the MCP app: verifies the caller of every /mcp request."""

    def __init__(self, app: ASGIApp, services: Services, path: str = "/mcp"):
        self.app, self.rt, self.path = app, services, path
        st = services.settings
        self.slack_secret = secrets(st)["signing_secret"] if st.mcp.slack_identity else ""
        self.ops_token = st.slack.ops_token.get_secret_value()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let verified /mcp requests through with their caller; answer the ops routes; refuse the rest."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in ("/healthz", "/readyz", "/metrics"):
            await (await self._ops(path, Request(scope)))(scope, receive, send)
            return
        if path.rstrip("/") != self.path:
            await PlainTextResponse("not found", status_code=404)(scope, receive, send)
            return
        body = await _read(receive)
        if body is None:
            await _refuse("The request body is over 1 MB.", 413)(scope, receive, send)
            return
        try:
            scope[CALLER_KEY] = await self._caller(Request(scope), body)
        except Refused as exc:
            await _refuse(str(exc), 401)(scope, receive, send)
            return
        except Unavailable as exc:
            await _refuse(str(exc), 503)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _caller(self, request: Request, body: bytes) -> Caller | None:
        auth = request.headers.get("authorization", "")
        if auth:
            kind, _, token = auth.partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                raise Refused("Send 'Authorization: Bearer <token>'.")
            try:
                bearer = await anyio.to_thread.run_sync(mcp_tokens.verify, self.rt.store, token.strip())
            except Exception as exc:  # noqa: BLE001 - by its kind only: a driver's text may hold the URL
                log.error("MCP token check failed (%s): answering 503", type(exc).__name__)
                raise Unavailable("Retain cannot check tokens right now (its database is unreachable); "
                                  "nothing was read. Try again shortly.") from None
            if bearer is None:
                raise Refused("This token is unknown or was revoked. Ask an admin for a new one "
                              "(`retain mcp tokens add EMAIL`).")
            return Caller(who=bearer.email, key=f"token:{bearer.token_id}", via="token")
        if "x-slack-signature" in request.headers and self.slack_secret:
            return self._slack(request, body)
        raise Refused("No credentials: send 'Authorization: Bearer <token>' (an admin makes one with "
                      "`retain mcp tokens add EMAIL`)" + (", or connect through Slack identity auth." if
                                                           self.slack_secret else "."))

    def _slack(self, request: Request, body: bytes) -> Caller | None:
        ts = request.headers.get("x-slack-request-timestamp", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > SLACK_WINDOW_S:
            raise Refused("The Slack signature's timestamp is missing or older than 5 minutes.")
        mac = hmac.new(self.slack_secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(f"v0={mac}", request.headers.get("x-slack-signature", "")):
            raise Refused("The Slack signature does not match this app's signing secret.")
        try:
            msg = json.loads(body or b"{}")
        except ValueError:
            return None  # the MCP app answers the malformed body itself
        slack = ((msg.get("params") or {}).get("_meta") or {}).get("slack") if isinstance(msg, dict) else None
        if not isinstance(slack, dict) or not slack.get("user_id"):
            return None
        team = str(slack.get("team_id") or "")
        want = self.rt.settings.mcp.slack_team_id
        if want and team != want:
            raise Refused("This Slack workspace is not the one Retain serves (mcp.slack_team_id).")
        user = str(slack["user_id"])
        return Caller(who=user, key=f"slack:{team}:{user}", via="slack")

    async def _ops(self, path: str, request: Request) -> Response:
        if path == "/healthz":
            return PlainTextResponse("ok")
        client = request.client.host if request.client else ""
        if self.ops_token:
            given = request.headers.get("authorization", "").partition(" ")[2]
            if not hmac.compare_digest(given.encode(), self.ops_token.encode()):
                return PlainTextResponse("send Authorization: Bearer <slack.ops_token>", status_code=401)
        elif client not in LOOPBACK:
            return PlainTextResponse("metrics answer this host only (or set slack.ops_token)", status_code=403)
        if path == "/readyz":  # the database (reachable, schema current); memory and LLM only degrade
            ok, checks = await anyio.to_thread.run_sync(readiness, self.rt)
            return JSONResponse(summary(ok, checks), status_code=200 if ok else 503)
        return Response(render(), media_type=CONTENT_TYPE)


def _refuse(why: str, status: int) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="retain"'} if status == 401 else \
        {"Retry-After": "5"} if status == 503 else {}
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": why}},
                        status_code=status, headers=headers)


async def _read(receive: Receive) -> bytes | None:
    """The whole request body (None when it is over MAX_BODY)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, rest: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then what the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await rest()

    return receive


def serve(mcp: MCPServer[Any], services: Services, host: str, port: int,
          ready: Callable[[str], object] | None = None) -> None:
    """Serve the MCP app on host:port until stopped; `ready(url)` is called once the socket listens."""
    names = services.settings.mcp.public_hosts
    security = None if not names else TransportSecuritySettings(
        allowed_hosts=[h for n in [*names, *LOOPBACK] for h in (n, f"{n}:*")],
        allowed_origins=[f"{scheme}://{n}" + port for n in [*names, *LOOPBACK] for scheme in ("https", "http")
                         for port in ("", ":*")])
    app = Gate(mcp.streamable_http_app(host=host, transport_security=security), services)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # listening before `ready` says so: a client told the URL must never be refused
    bound = sock.getsockname()[1]
    if ready is not None:
        ready(f"http://{host}:{bound}/mcp")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])
