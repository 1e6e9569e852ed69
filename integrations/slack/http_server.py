"""An HTTP server where a slow or silent client costs a buffer, not a thread.

`ThreadingHTTPServer` gives every connection a thread that blocks reading it, with no time limit:
300 clients that send half a request hold 300 threads for ever. Here one thread accepts and reads
every open connection (a selector), buffering each request until its headers and declared body have
arrived; a connection that has not sent a whole request within `read_timeout_s` gets 408 and is
closed. Only whole requests reach the fixed pool of `workers` threads that run the request handler,
which reads the request from memory. At most `max_open` connections are buffered at once (the oldest
is dropped to make room). A failure is logged as one line with its type, never a traceback.
"""

from __future__ import annotations

import io
import logging
import re
import selectors
import socket
import socketserver
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("retain.http")

MAX_HEADER_BYTES = 64 * 1024
_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*(\d{1,12})[ \t]*\r?$")
_TIMEOUT = b"HTTP/1.0 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_TOO_LARGE = b"HTTP/1.0 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass
class _Conn:
    sock: socket.socket
    addr: Any
    deadline: float
    buf: bytearray = field(default_factory=bytearray)
    need: int | None = None  # bytes of the whole request, once its headers are in


class _PreRead:
    """A connection whose request was already read: the handler reads it from memory, writes to the socket."""

    def __init__(self, sock: socket.socket, data: bytes):
        self._sock, self._data = sock, data

    def makefile(self, mode: str = "r", *args: Any) -> Any:
        """The buffered request for reading; the socket itself for writing."""
        return io.BytesIO(self._data) if "r" in mode else self._sock.makefile("wb")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _needed(head: bytes, end: int, max_body: int) -> int:
    """Bytes of the whole request: its headers, plus the body its Content-Length declares (if acceptable).

    A missing, chunked or too large body is not waited for: the handler refuses it without reading it.
    """
    m = _LENGTH.search(head)
    length = int(m.group(1)) if m else 0
    return end + 4 + (length if length <= max_body else 0)


class BoundedHTTPServer(socketserver.TCPServer):
    """A TCP server for an HTTP request handler: one reader for every connection, a fixed worker pool."""

    allow_reuse_address = True
    request_queue_size = 256  # Slack delivers bursts; the default backlog of 5 resets connections

    def __init__(self, address: tuple[str, int], handler: Any, *, workers: int = 8, read_timeout_s: float = 10.0,
                 max_open: int = 1024, max_body: int = 1 << 20):
        super().__init__(address, handler)
        self.read_timeout_s, self.max_open, self.max_body = read_timeout_s, max_open, max_body
        self.socket.setblocking(False)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retain-http")
        self._selector = selectors.DefaultSelector()
        self._open: dict[int, _Conn] = {}  # by file number; touched by the reader thread only
        self._stop = threading.Event()
        self._stopped = threading.Event()

    def server_bind(self) -> None:
        """Bind, and know the port (0 asks the system for a free one)."""
        super().server_bind()
        self.server_port: int = self.server_address[1]

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept and read until `shutdown`; whole requests go to the workers."""
        self._selector.register(self.socket, selectors.EVENT_READ, None)
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(poll_interval):
                    if key.data is None:
                        self._accept()
                    else:
                        self._read(key.data)
                self._expire()
        finally:
            for conn in list(self._open.values()):
                self._close(conn)
            self._selector.close()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop accepting, finish the requests being handled, close the listening socket."""
        self._stop.set()
        self._stopped.wait(30)
        self._pool.shutdown(wait=True)
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line with the error's type (no traceback, no request data)."""
        exc = sys.exc_info()[1]
        log.warning("HTTP request from %s failed: %s", _ip(client_address), type(exc).__name__ if exc else "error")

    # -- the reader thread
    def _accept(self) -> None:
        try:
            sock, addr = self.socket.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        sock.setblocking(False)
        if len(self._open) >= self.max_open:  # make room: the connection waiting longest goes
            self._close(min(self._open.values(), key=lambda c: c.deadline))
        conn = _Conn(sock, addr, time.monotonic() + self.read_timeout_s)
        self._open[sock.fileno()] = conn
        self._selector.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        try:
            chunk = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away
            self._close(conn)
            return
        conn.buf += chunk
        if conn.need is None:
            end = conn.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.buf) > MAX_HEADER_BYTES:
                    self._close(conn, _TOO_LARGE)
                return
            conn.need = _needed(bytes(conn.buf[:end]), end, self.max_body)
        if len(conn.buf) >= conn.need:
            self._release(conn)
            self._pool.submit(self._handle, conn.sock, conn.addr, bytes(conn.buf[:conn.need]))

    def _expire(self) -> None:
        now = time.monotonic()
        late = [c for c in self._open.values() if c.deadline <= now]
        for conn in late:
            self._close(conn, _TIMEOUT)
        if late:
            log.warning("closed %d connections that sent no whole request within %.0f s", len(late),
                        self.read_timeout_s)

    def _release(self, conn: _Conn) -> None:
        self._open.pop(conn.sock.fileno(), None)
        try:
            self._selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass

    def _close(self, conn: _Conn, reply: bytes = b"") -> None:
        self._release(conn)
        try:
            if reply:
                conn.sock.send(reply)
        except OSError:
            pass
        conn.sock.close()

    # -- a worker
    def _handle(self, sock: socket.socket, addr: Any, data: bytes) -> None:
        request = _PreRead(sock, data)
        try:
            sock.setblocking(True)
            sock.settimeout(self.read_timeout_s)  # a client that stops reading the answer cannot hold a worker
            self.finish_request(request, addr)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - one line per failed request, and the worker lives on
            self.handle_error(request, addr)
        finally:
            self.shutdown_request(request)  # type: ignore[arg-type]


def _ip(addr: Any) -> str:
    return str(addr[0]) if isinstance(addr, tuple) and addr else "?"
