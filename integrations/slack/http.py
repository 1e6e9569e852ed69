"""HTTP mode: Slack's Events API requests into Bolt (signature checked there), and the operations endpoints.

GET /healthz (liveness: the process serves), /readyz (readiness: `ready()`; 503 when what answering
needs is down, 200 with status "degraded" when only an optional dependency is) and /metrics
(Prometheus). Socket Mode has no HTTP server for Slack, so `serve_ops` serves the same three on
their own port. Who may read /readyz and /metrics (`OpsAccess`): by default only this host (loopback
clients); widened by `slack.ops_host`; with `slack.ops_token`, only requests bearing it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body

from core.errors import ConfigError
from integrations.slack.http_server import BoundedHTTPServer

MAX_BODY_BYTES = 1 << 20  # Slack's requests are a few KB; anything over 1 MiB is refused unread
log = logging.getLogger("retain.http")


Ready = Callable[[], tuple[bool, dict[str, Any]]]


@dataclass(frozen=True)
class OpsAccess:
    """Who may read /readyz and /metrics: loopback clients only (`local_only`), and the bearer of `token` if set."""

    local_only: bool = True
    token: str = ""

    @classmethod
    def for_host(cls, host: str, token: str = "") -> OpsAccess:
        """Loopback only unless `host` (slack.ops_host) is an address others can reach, such as 0.0.0.0."""
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        return cls(local_only=local, token=token)

    def allows(self, handler: BaseHTTPRequestHandler) -> int:
        """0 when the request may read, else the status to refuse it with (403 not local, 401 no token)."""
        if self.local_only:
            try:
                if not ipaddress.ip_address(handler.client_address[0]).is_loopback:
                    return 403
            except ValueError:
                return 403
        if self.token:
            sent = handler.headers.get("Authorization") or ""
            if not hmac.compare_digest(sent.encode(), f"Bearer {self.token}".encode()):
                return 401
        return 0


def _ops_get(handler: BaseHTTPRequestHandler, ready: Ready | None, access: OpsAccess) -> None:
    """Answer GET /healthz, /readyz or /metrics (404 otherwise)."""
    path = handler.path.split("?")[0]
    status, ctype, body = 404, "text/plain", b""
    if path == "/healthz":
        status, body = 200, b"ok"
    elif path in ("/readyz", "/metrics") and (refused := access.allows(handler)):
        status, body = refused, (b"ops endpoints are local only: see slack.ops_host" if refused == 403
                                 else b"send Authorization: Bearer <slack.ops_token>")
    elif path == "/readyz":
        ok, checks = ready() if ready is not None else (True, {})
        failed = [name for name, c in checks.items() if not c.get("ok")]
        state = "not ready" if not ok else "degraded" if failed else "ready"
        status, ctype = (200 if ok else 503), "application/json"
        body = json.dumps({"ready": ok, "status": state, "failed": failed, "checks": checks}).encode()
    elif path == "/metrics":
        from core.metrics import CONTENT_TYPE, render

        status, ctype, body = 200, CONTENT_TYPE, render()
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def malformed(body: str, content_type: str | None) -> str | None:
    """What is wrong with a request body Bolt would fail to read (read as Bolt reads it), or None."""
    try:
        data = parse_body(body, content_type)
    except ValueError:
        return "the body is not valid JSON"
    if not isinstance(data, dict):
        return "the body is not a JSON object"
    if not isinstance(data.get("event", {}), dict):
        return "its event is not a JSON object"
    return None


class _Server(BoundedHTTPServer):
    """Read timeouts and a bounded worker pool: half-sent requests cannot hold the server's threads."""


def _ops_handler(ready: Ready | None, access: OpsAccess) -> type[BaseHTTPRequestHandler]:
    """A request handler that answers the operations GETs and logs nothing (bodies never reach the logs)."""

    class OpsHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            _ops_get(self, ready, access)

        def log_message(self, *args: Any) -> None:
            pass

    return OpsHandler


def serve_ops(host: str, port: int, ready: Ready | None = None, token: str = "") -> BoundedHTTPServer:
    """The operations endpoints alone (Socket Mode) on `host` (slack.ops_host), on a daemon thread."""
    try:
        server = _Server((host, port), _ops_handler(ready, OpsAccess.for_host(host, token)), workers=2)
    except OSError as exc:
        raise ConfigError(f"Cannot serve the operations endpoints on {host}:{port} ({exc.strerror}). Set "
                          "slack.ops_port to a free port (each serve on a host needs its own), or 0 for none."
                          ) from None
    threading.Thread(target=server.serve_forever, daemon=True, name="retain-ops").start()
    return server


def serve_http(app: App, host: str, port: int, ready: Ready | None = None, access: OpsAccess | None = None, *,
               workers: int = 8, read_timeout_s: float = 10.0) -> BoundedHTTPServer:
    """HTTP mode: POST /slack/events into Bolt (signature checked there), and the operations GETs (`access`).

    Each request must arrive whole within `read_timeout_s` (else 408); `workers` threads handle them.
    """

    class Handler(_ops_handler(ready, access or OpsAccess())):  # type: ignore[misc,valid-type]
        def _refuse(self, status: int) -> None:
            """Answer without reading the body, and close the connection (the body is never read)."""
            self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] != "/slack/events":
                return self._refuse(404)
            try:
                size = int(self.headers.get("Content-Length") or -1)
            except ValueError:
                size = -1
            if size < 0:  # chunked or missing: Slack always sends a length
                return self._refuse(411)
            if size > MAX_BODY_BYTES:  # refused before reading: an unsigned 64 MB POST costs nothing
                return self._refuse(413)
            body = self.rfile.read(size).decode("utf-8", "replace")
            problem = malformed(body, self.headers.get("Content-Type"))
            if problem:  # signed or not: Bolt would raise on it; one line, no body, no traceback
                log.warning("refused a malformed Slack request from %s: %s", self.client_address[0], problem)
                return self._refuse(400)
            try:
                resp = app.dispatch(BoltRequest(body=body, headers={k.lower(): [v] for k, v in self.headers.items()}))
            except Exception as exc:  # noqa: BLE001 - one line per failed request; Slack retries a 500
                log.error("a Slack request from %s failed in Bolt: %s", self.client_address[0], type(exc).__name__)
                return self._refuse(500)
            data = (resp.body or "").encode()
            self.send_response(resp.status)
            for k, vs in resp.headers.items():
                for v in vs:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = _Server((host, port), Handler, workers=workers, read_timeout_s=read_timeout_s,
                     max_body=MAX_BODY_BYTES)
    threading.Thread(target=server.serve_forever, daemon=True, name="retain-http").start()
    return server
