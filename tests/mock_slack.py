"""A local stand-in for Slack's Web API on 127.0.0.1 that records every call (as slack-bolt's tests do)."""

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class MockSlack:
    """POST /api/<method>; answers like Slack; `fail` injects errors such as 429 with Retry-After.

    `fail_after` injects a failure *after* the call took effect (the message is posted), as a real
    network or Slack's front end can: a status such as 500, or "reset" (the connection is dropped
    with no answer). Posted messages are kept per channel (`messages`), updated by chat.update and
    read back by conversations.replies in the Web API's own shape (top-level posts also by
    conversations.history, from `history`).
    """

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.uploads: list[bytes] = []
        self.fail: dict[str, list[tuple[int, dict]]] = {}
        self.replies: dict[str, dict] = {}  # fixed answers for other methods (e.g. apps.connections.open)
        self.lock = threading.Lock()
        self._ts = 0
        self.history: dict[str, list[dict]] = {}  # conversation id -> its top-level messages, oldest first
        self.together: dict[str, list] = {}  # method -> [barrier, calls still to hold] (see `overlap`)
        self.fail_after: dict[str, list[int | str]] = {}
        self.messages: dict[str, list[dict]] = {}  # channel -> every message posted there (threads included)
        self.on: dict[str, object] = {}  # method -> fn(params), run when the call arrives (e.g. to kill a worker)
        self.pending_files: dict[str, dict] = {}  # file id -> what getUploadURLExternal was told, and the bytes
        self.files: list[dict] = []  # files shared by files.completeUploadExternal: channel, thread, name, bytes
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                method = self.path.split("/api/", 1)[-1].split("?")[0]
                raw_bytes = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if method.startswith("/upload/"):  # the upload URL files.getUploadURLExternal handed out
                    file_id = method.rsplit("/", 1)[-1]
                    with mock.lock:
                        mock.uploads.append(raw_bytes)
                        if file_id in mock.pending_files:
                            mock.pending_files[file_id]["content"] = raw_bytes
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                raw = raw_bytes.decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                    for k in ("blocks", "view", "chunks", "prompts", "loading_messages", "metadata"):
                        if isinstance(params.get(k), str):
                            params[k] = json.loads(params[k])
                self.respond(method, params)

            def do_GET(self):  # noqa: N802 - conversations.history and other reads come as GET
                method, _, query = self.path.split("/api/", 1)[-1].partition("?")
                self.respond(method, {k: v[0] for k, v in parse_qs(query).items()})

            def respond(self, method, params):
                if method in mock.on:
                    mock.on[method](params)
                with mock.lock:
                    held = mock.together.get(method)
                    if held is not None and held[1] > 0:
                        held[1] -= 1
                    else:
                        held = None
                if held is not None:  # wait for the other callers of an overlap (or its timeout)
                    try:
                        held[0].wait()
                    except threading.BrokenBarrierError:
                        pass
                with mock.lock:
                    failure = mock.fail.get(method, []).pop(0) if mock.fail.get(method) else None
                    record = {**params, "_at": time.time(), "_failed": failure is not None}
                    mock.calls.append((method, record))
                if failure is not None:
                    status, headers = failure
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                reply = mock.answer(method, params)
                record["_reply_ts"] = reply.get("ts")  # what Slack answered (a posted message's ts)
                with mock.lock:
                    after = mock.fail_after.get(method, []).pop(0) if mock.fail_after.get(method) else None
                    record["_failed_after"] = after
                if after == "reset":  # the call took effect; the answer never arrives
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if after is not None:
                    body = json.dumps({"ok": False, "error": "internal_error"}).encode()
                    self.send_response(int(after))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *a: None  # a dropped connection ("reset") is on purpose
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/"

    def answer(self, method, params):
        if method in self.replies:
            return self.replies[method]
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "team": "Retain",
                    "url": "https://retain.slack.com/", "user": "retain"}
        with self.lock:
            self._ts += 1
            ts = f"1700000000.{self._ts:06d}"
        if method == "chat.startStream":  # Slack's streaming: the stream is a message, its ts names it
            msg = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "text": params.get("markdown_text") or "",
                   "ts": ts, "thread_ts": params.get("thread_ts"), "streaming": True,
                   "chunks": list(params.get("chunks") or [])}
            with self.lock:
                self.messages.setdefault(params.get("channel"), []).append(msg)
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method in ("chat.appendStream", "chat.stopStream"):  # only a message still streaming takes more
            with self.lock:
                msg = next((m for m in self.messages.get(params.get("channel"), []) if m["ts"] == params.get("ts")),
                           None)
                if msg is not None and not msg.get("streaming"):
                    return {"ok": False, "error": "message_not_in_streaming_state"}
                if msg is not None:
                    msg["text"] += params.get("markdown_text") or ""
                    msg["chunks"] = msg.get("chunks", []) + list(params.get("chunks") or [])
                    if method == "chat.stopStream":
                        msg["streaming"] = False
                        if params.get("blocks"):
                            msg["blocks"] = params["blocks"]
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.postMessage" and not params.get("thread_ts"):
            with self.lock:
                self.history.setdefault(self.conversation(params.get("channel", "")), []).append(
                    {"type": "message", "ts": ts, "text": params.get("text", ""), "bot_id": "BBOT",
                     **({"metadata": params["metadata"]} if params.get("metadata") else {})})
        if method == "chat.postMessage":
            msg = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "text": params.get("text", ""), "ts": ts}
            if params.get("thread_ts"):
                msg["thread_ts"] = params["thread_ts"]
            if params.get("blocks"):
                msg["blocks"] = params["blocks"]
            if params.get("metadata"):
                msg["metadata"] = _metadata(params["metadata"])
            with self.lock:
                self.messages.setdefault(params.get("channel"), []).append(msg)
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": dict(msg)}
        if method == "chat.update":
            with self.lock:
                msg = next((m for m in self.messages.get(params.get("channel"), []) if m["ts"] == params.get("ts")),
                           None)
                if msg is not None:
                    msg["text"] = params.get("text", "")
                    if "blocks" in params:
                        msg["blocks"] = params["blocks"]
                    if params.get("metadata"):
                        msg["metadata"] = _metadata(params["metadata"])
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts") or ts,
                    "message": {"text": params.get("text", "")}}
        if method == "conversations.replies":
            return self._replies(params)
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": self.conversation(params.get("users", ""))}}
        if method == "conversations.history" and params.get("channel", "")[:1] in ("U", "W"):
            return {"ok": False, "error": "channel_not_found"}  # as Slack: a person's id is not a conversation
        if method == "conversations.history":  # newest first, after `oldest`; metadata only when asked for
            with self.lock:
                found = [m for m in self.history.get(params.get("channel", ""), [])
                         if float(m["ts"]) > float(params.get("oldest") or 0)][::-1]
            start, size = int(params.get("cursor") or 0), int(params.get("limit") or 100)
            meta = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
            page = [m if meta else {k: v for k, v in m.items() if k != "metadata"} for m in found[start:start + size]]
            more = start + size < len(found)
            return {"ok": True, "messages": page, "has_more": more,
                    "response_metadata": {"next_cursor": str(start + size) if more else ""}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "files.getUploadURLExternal":  # Slack requires the file's name and its length in bytes
            if not params.get("filename") or not str(params.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{ts.replace('.', '')[-8:]}"
            with self.lock:
                self.pending_files[file_id] = {"id": file_id, "filename": params["filename"],
                                               "length": int(params["length"]), "content": None}
            return {"ok": True, "upload_url": f"{self.url[:-5]}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":  # shares uploaded files whose bytes arrived whole
            listed = params.get("files") or "[]"
            listed = listed if isinstance(listed, list) else json.loads(listed)
            with self.lock:
                got = [self.pending_files.get(f.get("id")) for f in listed]
                if not listed or any(g is None or g["content"] is None or len(g["content"]) != g["length"]
                                     for g in got):
                    return {"ok": False, "error": "file_not_found"}
                for f, g in zip(listed, got, strict=True):
                    self.files.append({**g, "title": f.get("title") or g["filename"],
                                       "channel": params.get("channel_id"), "thread_ts": params.get("thread_ts"),
                                       "initial_comment": params.get("initial_comment")})
                    del self.pending_files[g["id"]]
                if params.get("channel_id"):  # shared as a message of its own, in the thread if one was named
                    msg = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "ts": ts,
                           "text": params.get("initial_comment") or "",
                           "files": [{"id": g["id"], "name": g["filename"]} for g in got]}
                    if params.get("thread_ts"):
                        msg["thread_ts"] = params["thread_ts"]
                    self.messages.setdefault(params["channel_id"], []).append(msg)
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in listed]}
        if method in ("views.publish", "views.open"):
            return {"ok": True, "view": {"id": "V1", **(params.get("view") or {})}}
        return {"ok": True}

    def _replies(self, params):
        """conversations.replies: the thread's parent (if it is ours), then its replies, oldest first, paged."""
        root = params.get("ts")
        with self.lock:
            msgs = sorted((dict(m) for m in self.messages.get(params.get("channel"), [])
                           if m["ts"] == root or m.get("thread_ts") == root), key=lambda m: m["ts"])
        if not msgs:
            return {"ok": False, "error": "thread_not_found"}
        if str(params.get("include_all_metadata")).lower() not in ("true", "1"):
            for m in msgs:
                m.pop("metadata", None)
        start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 100)
        more = start + limit < len(msgs)
        return {"ok": True, "messages": msgs[start:start + limit], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def thread(self, channel, thread_ts):
        """Retain's messages in a thread as a person sees them now (after every update)."""
        with self.lock:
            return [dict(m) for m in self.messages.get(channel, []) if m.get("thread_ts") == thread_ts]

    def overlap(self, method, n, timeout=120.0):
        """Hold the next `n` calls of `method` until all `n` have arrived (or `timeout`): callers surely overlap."""
        with self.lock:
            self.together[method] = [threading.Barrier(n, timeout=timeout), n]

    def posts(self):
        """Successful chat.postMessage calls by outbox key (the metadata marker), else by text."""
        out: dict[str, int] = {}
        for p in self.of("chat.postMessage"):
            key = ((p.get("metadata") or {}).get("event_payload") or {}).get("key") or p.get("text", "")
            out[key] = out.get(key, 0) + 1
        return out

    @staticmethod
    def conversation(channel):
        """The conversation a post lands in: a person's id means the app's DM with them."""
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def of(self, method):
        with self.lock:
            return [p for m, p in self.calls if m == method and not p["_failed"]]

    def close(self):
        self.server.shutdown()


def _metadata(value):
    """Message metadata as Slack stores it (the client may send it as a JSON string)."""
    return json.loads(value) if isinstance(value, str) else value
