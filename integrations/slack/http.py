"""HTTP mode: Slack's Events API requests into Bolt (signature checked there), and a health check."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest

MAX_BODY_BYTES = 1 << 20  # Slack's requests are a few KB; anything over 1 MiB is refused unread


def serve_http(app: App, host: str, port: int) -> ThreadingHTTPServer:
    """HTTP mode: POST /slack/events into Bolt (signature checked there), GET /healthz."""

    class Handler(BaseHTTPRequestHandler):
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

        def do_GET(self) -> None:  # noqa: N802
            ok = self.path == "/healthz"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", "2" if ok else "0")
            self.end_headers()
            if ok:
                self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # Slack delivers bursts; the default backlog of 5 resets connections
        daemon_threads = True

    server = Server((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="retain-http").start()
    return server
