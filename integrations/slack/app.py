"""The Slack app: Bolt listeners that only record and ack; workers that answer through the graph.

Socket Mode (bot + app-level token, no public URL) or HTTP mode (`/slack/events`, every request's
signature checked by Bolt: v0 HMAC, 5-minute window, 401 otherwise). Both run these listeners.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from configs import CONFIG_DIR
from integrations.slack import blocks
from integrations.slack.client import make_client
from integrations.slack.inbox import Inbox, Retry
from integrations.slack.safe import clean
from retain.errors import AccessDenied, ConfigError, NotFoundError, RetainError
from retain.runtime import Runtime
from tools import crm
from tools.access import DECIDE_REFUSAL

log = logging.getLogger("retain.slack")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
FAILURE_TEXT = ("Sorry, I couldn't answer that: something failed on my side and it has been logged. "
                "Please try again in a few minutes.")
MAX_BODY_BYTES = 1 << 20  # Slack's requests are a few KB; anything over 1 MiB is refused unread
WORKER_TICK_S = 1.0  # the worker checks its parent and retries failed events this often


class _NoBodies(logging.Filter):
    """Bolt logs request bodies (with a bad signature, at INFO): drop those lines, cut long ones."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "body" in msg.lower():
            return False
        if len(msg) > 1000:
            record.msg, record.args = msg[:1000] + "…", ()
        return True


def _bolt_logger() -> logging.Logger:
    lg = logging.getLogger("retain.slack.bolt")
    lg.setLevel(logging.WARNING)
    if not any(isinstance(f, _NoBodies) for f in lg.filters):
        lg.addFilter(_NoBodies())
    return lg


@dataclass
class SlackConfig:
    """Channels Retain answers in (with their team) and hosts links may point to."""

    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    link_hosts: list[str] = field(default_factory=list)
    customer_channels: dict[str, str] = field(default_factory=dict)


def load_slack_config(path: str = "") -> SlackConfig:
    """configs/slack.yaml, or the file named in slack.config_file."""
    p = Path(path) if path else CONFIG_DIR / "slack.yaml"
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"Slack config {p} does not exist. Set slack.config_file.") from None
    return SlackConfig(channels=data.get("channels") or {}, link_hosts=list(data.get("link_hosts") or []),
                       customer_channels=data.get("customer_channels") or {})


def secrets(settings: Any) -> dict[str, str]:
    """Tokens from the environment (via settings) or the secrets file; never logged."""
    s = settings.slack
    out = {"bot_token": s.bot_token.get_secret_value(), "app_token": s.app_token.get_secret_value(),
           "signing_secret": s.signing_secret.get_secret_value()}
    if s.secrets_file:
        try:
            data = yaml.safe_load(Path(s.secrets_file).read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"Slack secrets file {s.secrets_file} does not exist.") from None
        except yaml.YAMLError as exc:  # the parser's message quotes the line: it may hold a secret
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(f"Slack secrets file {s.secrets_file} is not valid YAML{where}. Write one "
                              "'name: value' per line (bot_token, app_token, signing_secret).") from None
        if not isinstance(data, dict):
            raise ConfigError(f"Slack secrets file {s.secrets_file} must hold 'name: value' lines (bot_token, "
                              "app_token, signing_secret).")
        out |= {k: str(v) for k, v in data.items() if k in out and v and not out[k]}
    return out


class _Paced:
    """Posts to one channel at most once per interval (Slack's limit is about 1 per second)."""

    def __init__(self, interval: float):
        self.interval, self.last, self.lock = interval, {}, threading.Lock()  # type: ignore[var-annotated]

    def wait(self, channel: str) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self.last.get(channel, 0.0) + self.interval)
            self.last[channel] = at
        if at > now:
            time.sleep(at - now)


COMMANDS = {
    "at-risk": "which of my accounts are at risk?",
    "brief": "which of my accounts need attention, and what renews in the next 90 days?",
    "help": "help",
}


class RetainSlack:
    """The Bolt app, its Web API client, the inbox and the workers."""

    def __init__(self, runtime: Runtime, assistant: Any, client: WebClient | None = None,
                 config: SlackConfig | None = None, worker_process: bool = False, deterministic: bool = False):
        """With `worker_process`, answers run in a second process so acks never wait on the GIL."""
        self.runtime, self.assistant = runtime, assistant
        st = runtime.settings.slack
        sec = secrets(runtime.settings)
        self.config = config or load_slack_config(st.config_file)
        self.client = client or make_client(sec["bot_token"], st.base_url, self.config.link_hosts)
        self.paced = _Paced(st.post_interval_s)
        self.app = App(signing_secret=sec["signing_secret"] or None, logger=_bolt_logger(),
                       client=self.client, process_before_response=True,
                       request_verification_enabled=bool(sec["signing_secret"]))
        self.worker: Any = None
        if worker_process:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            self.queue: Any = ctx.Queue()
            self.worker = ctx.Process(target=_worker_main, args=(runtime.settings, self.queue, deterministic),
                                      name="retain-slack-worker", daemon=True)
            self.worker.start()
            self.inbox = Inbox(runtime.store, None, notify=self.queue.put)
        else:
            self.inbox = Inbox(runtime.store, self.handle, workers=st.workers)
            self.inbox.start_retries()
        self._register()

    def close(self, timeout: float = 30.0) -> None:
        """Finish what is running and stop the worker process."""
        if self.worker is not None:
            self.queue.put(None)
            self.worker.join(timeout)
            if self.worker.is_alive():
                self.worker.terminate()
        else:
            self.inbox.stop_retries()
            self.inbox.drain(timeout)

    # -- listeners: record, ack, return
    def _register(self) -> None:
        app = self.app

        @app.event("app_mention")
        def mention(body: dict[str, Any], event: dict[str, Any]) -> None:
            self.inbox.accept(body["event_id"], "question", _question(event))

        @app.event("message")
        def message(body: dict[str, Any], event: dict[str, Any]) -> None:
            if event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id"):
                self.inbox.accept(body["event_id"], "question", _question(event))

        @app.event("app_home_opened")
        def home(body: dict[str, Any], event: dict[str, Any]) -> None:
            if event.get("tab", "home") == "home":
                self.inbox.accept(body["event_id"], "home", {"user": event["user"]})

        @app.command("/retain")
        def command(ack: Any, body: dict[str, Any]) -> None:
            ack(text="Working on it…")
            self.inbox.accept(f"cmd:{body['trigger_id']}", "command", {
                "user": body["user_id"], "channel": body["channel_id"], "text": body.get("text", "")})

        for action in ("retain_approve", "retain_skip"):
            @app.action(action)
            def decide(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
                ack()
                self.inbox.accept(f"act:{body['trigger_id']}", "decision", {
                    "user": body["user"]["id"], "value": action["value"], "action": action["action_id"],
                    "channel": body["channel"]["id"], "ts": body["message"]["ts"]})

        @app.action("retain_edit")
        def edit(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            ack()
            value = json.loads(action["value"])
            user = body["user"]["id"]
            draft = self.assistant.pending_draft(value["thread"])
            if draft is None:
                return
            if not self.assistant.may_decide(value["thread"], user):  # checked before the draft is shown
                client.chat_postEphemeral(channel=body["channel"]["id"], user=user, text=DECIDE_REFUSAL)
                return
            meta = {**value, "channel": body["channel"]["id"], "ts": body["message"]["ts"]}
            client.views_open(trigger_id=body["trigger_id"], view=blocks.edit_modal(draft["body"], meta))

        @app.view("retain_edit_submit")
        def edit_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
            ack()
            meta = json.loads(view["private_metadata"])
            text = view["state"]["values"]["body"]["text"]["value"]
            self.inbox.accept(f"view:{view['id']}:{view.get('hash', '')}", "decision", {
                "user": body["user"]["id"], "value": json.dumps(meta), "action": "retain_edit_submit",
                "channel": meta["channel"], "ts": meta["ts"], "text": text})

    # -- workers
    def handle(self, kind: str, p: dict[str, Any]) -> dict[str, Any] | None:
        """Run one inbox item; on its last failed attempt, tell the person once."""
        try:
            if kind == "question":
                return self._answer(p)
            if kind == "command":
                return self._command(p)
            if kind == "decision":
                return self._decision(p)
            if kind == "home":
                return self._home(p)
            return None
        except Exception as exc:
            if p.get("_last", True):
                self._tell_failure(kind, p)
            raise exc if isinstance(exc, Retry) else Retry(exc, p.get("_state")) from exc

    def _tell_failure(self, kind: str, p: dict[str, Any]) -> None:
        """One clear message after the last attempt failed (never the error's text)."""
        try:
            if kind == "question":
                ph = (p.get("_state") or {}).get("placeholder")
                if ph:
                    self.client.chat_update(channel=p["channel"], ts=ph, text=FAILURE_TEXT, blocks=[])
                else:
                    self._post(channel=p["channel"], thread_ts=p.get("thread_ts") or p["ts"], text=FAILURE_TEXT)
            elif kind in ("command", "decision") and p.get("user") and p.get("channel"):
                self.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=FAILURE_TEXT)
        except Exception:  # noqa: BLE001 - Slack itself is failing; the inbox row keeps the failure
            log.warning("could not tell %s about a failed %s", p.get("user", "?"), kind)

    def _who(self, user: str, channel: str, channel_type: str) -> tuple[str | None, str | None]:
        """(who for the graph, or None) and a note to post instead of data."""
        if not _SLACK_USER.match(user or ""):  # no identity (or a forged one) means no access
            return None, "I can't tell who sent this, so I can't share account data."
        try:
            self.runtime.viewer(user)
        except NotFoundError:
            return None, (f"I don't have you as a CSM yet, so I can't share account data. Ask your Retain "
                          f"admin to add your Slack user ID ({user}) to your CSM record, then try again.")
        if channel_type == "im" or channel.startswith("D"):
            return user, None
        team = (self.config.channels.get(channel) or {}).get("team")
        if not team:
            return None, ("I only share account data in DMs and in channels set up for a team. "
                          "DM me, or ask an admin to add this channel to configs/slack.yaml.")
        return f"{user}#team={team}", None

    def _post(self, **kw: Any) -> Any:
        self.paced.wait(kw.get("channel", ""))
        return self.client.chat_postMessage(unfurl_links=False, unfurl_media=False, **kw)

    def _answer(self, p: dict[str, Any]) -> dict[str, Any]:
        thread_ts = p.get("thread_ts") or p["ts"]
        who, note = self._who(p["user"], p["channel"], p.get("channel_type", ""))
        if who is None:
            r = self._post(channel=p["channel"], thread_ts=thread_ts, text=note)
            return {"ts": r["ts"], "note": "refused"}
        question = re.sub(r"<@[UW][A-Z0-9]+>", "", p.get("text", "")).strip()
        what = question[:60] + ("…" if len(question) > 60 else "")
        state = dict(p.get("_state") or {})
        if not state.get("placeholder"):  # a retry reuses the placeholder it already posted
            ph = self._post(channel=p["channel"], thread_ts=thread_ts, text=f"Looking into “{clean(what)}”…",
                            blocks=blocks.placeholder(f"Looking into “{what}”…"))
            state["placeholder"] = ph["ts"]
            p["_state"] = state
        thread = f"slack:{p['channel']}:{thread_ts}"
        result = self.assistant.ask(question, who, thread)
        text, bl = blocks.answer(result, self.config.link_hosts)
        self.client.chat_update(channel=p["channel"], ts=state["placeholder"], text=text, blocks=bl)
        for d in result.get("pending", []):
            t, b = blocks.approval(d, thread)
            self._post(channel=p["channel"], thread_ts=thread_ts, text=t, blocks=b)
        return {"ts": state["placeholder"], "mode": result["answer"].get("mode")}

    def _command(self, p: dict[str, Any]) -> dict[str, Any]:
        text = p["text"].strip()
        verb, _, rest = text.partition(" ")
        verb = verb.lower()
        who, note = self._who(p["user"], p["channel"], "im" if p["channel"].startswith("D") else "")
        if who is None:
            self.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=note)
            return {"note": "refused"}
        if verb == "account" and rest:
            ctx = self.runtime.tool_context(who)
            try:
                aid = crm.find_account(ctx, rest)["account_id"]
                t, b = blocks.card(crm.account_overview(ctx, aid), crm.health_breakdown(ctx, aid),
                                   crm.renewal_outlook(ctx, aid), crm.onboarding_status(ctx, aid),
                                   crm.list_tickets(ctx, aid))
            except RetainError as exc:
                t, b, aid = str(exc), [], None
            self.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=t, blocks=b or None)
            if aid is not None:
                from integrations.slack.charts import health_trend_png

                png = health_trend_png(ctx, aid)
                self.client.files_upload_v2(channel=p["channel"], content=png, filename="health-trend.png",
                                            title=f"Health trend: {t.split(':')[0]}")
            return {"card": rest}
        if verb == "renewals":
            days = int(rest) if rest.strip().isdigit() else 90
            question = f"which of my renewals are due in the next {days} days?"
        elif verb == "remember" and rest:
            question = f"remember {rest}"
        else:
            question = COMMANDS.get(verb, "help")
        thread = f"slack-cmd:{p['user']}:{time.time_ns()}"
        result = self.assistant.ask(question, who, thread)
        t, b = blocks.answer(result, self.config.link_hosts)
        self.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=t, blocks=b)
        for d in result.get("pending", []):  # approvals go to the CSM's DM, where they can be updated
            at, ab = blocks.approval(d, thread)
            self._post(channel=p["user"], text=at, blocks=ab)
        return {"command": verb}

    def _decision(self, p: dict[str, Any]) -> dict[str, Any]:
        value = json.loads(p["value"])
        choice = {"retain_approve": "approve", "retain_skip": "skip", "retain_edit_submit": "edit"}[p["action"]]
        who = p["user"]
        if not _SLACK_USER.match(who or "") or not self.assistant.may_decide(value["thread"], who):
            if self.assistant.pending_draft(value["thread"]) is None:
                return {"note": "already decided"}
            self.client.chat_postEphemeral(channel=p["channel"], user=who, text=DECIDE_REFUSAL)
            return {"note": "refused"}
        draft = self.assistant.pending_draft(value["thread"])
        try:
            result = self.assistant.decide(value["thread"], choice, who, p.get("text"))
        except (AccessDenied, NotFoundError):
            self.client.chat_postEphemeral(channel=p["channel"], user=who, text=DECIDE_REFUSAL)
            return {"note": "refused"}
        if not result.get("actions"):
            return {"note": "already decided"}
        action = result["actions"][0]
        body = (p.get("text") or (draft or {}).get("body", ""))
        subject = (draft or {}).get("subject", "Draft")
        decider = self.runtime.viewer(who).name
        self.client.chat_update(channel=p["channel"], ts=p["ts"], text=f"{subject}: {action['decision']}",
                                blocks=blocks.decided(f"*{clean(subject)}*\n{clean(body)}", decider, action))
        return {"decision": action["decision"], "already_done": action.get("already_done", False)}

    def _home(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            ctx = self.runtime.tool_context(p["user"])
        except NotFoundError:
            view = {"type": "home", "blocks": [blocks._section(
                f"I don't have you as a CSM yet. Ask your Retain admin to add your Slack user ID ({p['user']}).")]}
            self.client.views_publish(user_id=p["user"], view=view)
            return {"note": "unmapped"}
        risk = crm.portfolio(ctx, segment="at risk", limit=10)["accounts"]
        ren = sorted(crm.portfolio(ctx, renewal_within_days=90, limit=50)["accounts"],
                     key=lambda r: r["days_to_renewal"])
        overdue = []
        for r in crm.portfolio(ctx, limit=500)["accounts"]:
            for m in crm.onboarding_status(ctx, r["account_id"]).get("overdue", []):
                overdue.append({**m, "account": r["name"]})
        overdue.sort(key=lambda m: -m["days_overdue"])
        self.client.views_publish(user_id=p["user"], view=blocks.home(ctx.viewer.name, risk, ren, overdue))
        return {"published": True}


def _worker_main(settings: Any, queue: Any, deterministic: bool) -> None:
    """The answering process: its own runtime, model and memory; work arrives as inbox keys."""
    from agents.graph import build_assistant

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    import multiprocessing as mp
    import queue as queues

    rt = Runtime(settings)
    bot = RetainSlack(rt, build_assistant(rt, deterministic, log.warning))
    bot.inbox.recover()
    parent = mp.parent_process()
    while True:
        try:
            key = queue.get(timeout=WORKER_TICK_S)
        except queues.Empty:
            if parent is not None and not parent.is_alive():  # the server died (kill -9): do not linger
                log.warning("the Slack server process is gone; the worker stops (pending events resume on restart)")
                return
            bot.inbox.retry_due()
            continue
        if key is None:
            break
        bot.inbox._submit(key)
    bot.inbox.drain(120)


def _question(event: dict[str, Any]) -> dict[str, Any]:
    return {"user": event.get("user", ""), "channel": event["channel"], "text": event.get("text", ""),
            "ts": event["ts"], "thread_ts": event.get("thread_ts"), "channel_type": event.get("channel_type", "")}


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
