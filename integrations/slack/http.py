"""HTTP mode: Slack's Events API requests into Bolt (signature checked there), and the operations endpoints.

GET /healthz (liveness: the process serves), /readyz (readiness: `ready()` checks the database,
memory and LLM; 503 with the failing check when not ready) and /metrics (Prometheus). Socket Mode
has no HTTP server for Slack, so `serve_ops` serves the same three on their own port.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest

MAX_BODY_BYTES = 1 << 20  # Slack's requests are a few KB; anything over 1 MiB is refused unread


Ready = Callable[[], tuple[bool, dict[str, Any]]]


def _ops_get(handler: BaseHTTPRequestHandler, ready: Ready | None) -> None:
    """Answer GET /healthz, /readyz or /metrics (404 otherwise)."""
    path = handler.path.split("?")[0]
    status, ctype, body = 404, "text/plain", b""
    if path == "/healthz":
        status, body = 200, b"ok"
    elif path == "/readyz":
        ok, checks = ready() if ready is not None else (True, {})
        status, ctype = (200 if ok else 503), "application/json"
        body = json.dumps({"ready": ok, "checks": checks}).encode()
    elif path == "/metrics":
        from core.metrics import CONTENT_TYPE, render

        status, ctype, body = 200, CONTENT_TYPE, render()
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # Slack delivers bursts; the default backlog of 5 resets connections
    daemon_threads = True


def _ops_handler(ready: Ready | None) -> type[BaseHTTPRequestHandler]:
    """A request handler that answers the operations GETs and logs nothing (bodies never reach the logs)."""

    class OpsHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            _ops_get(self, ready)

        def log_message(self, *args: Any) -> None:
            pass

    return OpsHandler


def serve_ops(host: str, port: int, ready: Ready | None = None) -> ThreadingHTTPServer:
    """The operations endpoints alone (Socket Mode), on a daemon thread."""
    server = _Server((host, port), _ops_handler(ready))
    threading.Thread(target=server.serve_forever, daemon=True, name="retain-ops").start()
    return server


def serve_http(app: App, host: str, port: int, ready: Ready | None = None) -> ThreadingHTTPServer:
    """HTTP mode: POST /slack/events into Bolt (signature checked there), and the operations GETs."""

    class Handler(_ops_handler(ready)):  # type: ignore[misc,valid-type]
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
            resp = app.dispatch(BoltRequest(body=body, headers={k.lower(): [v] for k, v in self.headers.items()}))
            data = (resp.body or "").encode()
            self.send_response(resp.status)
            for k, vs in resp.headers.items():
                for v in vs:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = _Server((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="retain-http").start()
    return server
