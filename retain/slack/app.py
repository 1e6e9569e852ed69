"""The Slack app: Bolt listeners that only record and ack; workers that answer through the graph.

Socket Mode (bot + app-level token, no public URL) or HTTP mode (`/slack/events`, every request's
signature checked by Bolt: v0 HMAC, 5-minute window, 401 otherwise). Both run the same listeners
(`retain.slack.listeners`); the workers' handlers are in `retain.slack.handlers`.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from agents.assistant import Assistant
from core.errors import NotFoundError
from integrations.crm.retry import lost_connection_in
from integrations.slack.client import client_for, find_posted, post_once
from integrations.slack.config import Paced, SlackConfig, bolt_logger, load_slack_config, secrets
from integrations.slack.inbox import Inbox, Retry, Superseded
from integrations.slack.job import Job
from retain.deps import build_assistant
from retain.slack import agent, decks, handlers, listeners, worker
from retain.slack.handlers import SLACK_USER
from retain.slack.worker import AnsweringProcess
from tools.access import Asker, Deactivated
from tools.services import Services

log = logging.getLogger("retain.slack")
FAILURE_TEXT = ("Sorry, I couldn't answer that: something failed on my side and it has been logged. "
                "Please try again in a few minutes.")


class RetainSlack:
    """The Bolt app, its Web API client, the inbox and the workers."""

    def __init__(self, services: Services, assistant: Assistant, client: WebClient | None = None,
                 config: SlackConfig | None = None, worker_process: bool = False, deterministic: bool = False,
                 me: str | None = None):
        """With `worker_process`, answers run in a second process so acks never wait on the GIL.

        `me` is set in that process: its claims' name, given by the front end (whose supervisor ends
        them if the process dies); its own loop (`worker.child_loop`) ticks the inbox.
        """
        self.services, self.assistant = services, assistant
        st = services.settings.slack
        sec = secrets(services.settings)
        self.config = config or load_slack_config(st.config_file)
        self.client = client or client_for(services.settings, self.config.link_hosts, retry_posts=False)
        self.paced = Paced(st.post_interval_s)
        self.app = App(signing_secret=sec["signing_secret"] or None, logger=bolt_logger(),
                       client=self.client, process_before_response=True,
                       request_verification_enabled=bool(sec["signing_secret"]))
        self.worker: AnsweringProcess | None = None
        if worker_process:
            self.inbox = Inbox(services.store, None, notify=self._hand_over, lease_s=st.lease_s)
            self.worker = AnsweringProcess(_worker_main, (services.settings, deterministic), self.inbox.release)
        else:
            self.inbox = Inbox(services.store, self.handle, workers=st.workers, lease_s=st.lease_s, me=me)
            if me is None:
                self.inbox.start_retries()
        self.receipts = ThreadPoolExecutor(max_workers=2, thread_name_prefix="retain-receipt")
        listeners.register(self.app, self)

    def received(self, key: str, channel: str, thread_ts: str) -> None:
        """A message in an assistant thread was accepted: show a status now, before a worker is free.

        Off the ack path: in the answering process when there is one (it runs nicer than the acks),
        else on a small pool. The status is set only while the item still waits, and cleared again
        if the answer overtook it, so it is never left behind.
        """
        if self.worker is not None:
            self.worker.put(("received", key, channel, thread_ts))
            return

        def show() -> None:
            try:
                if self.inbox.status(key) != "pending":
                    return
                if (agent.set_status(self, channel, thread_ts, "is looking into it…", ["reading your question"])
                        and self.inbox.status(key) == "done"):
                    agent.set_status(self, channel, thread_ts, "")
            except Exception:  # noqa: BLE001 - only a courtesy; the answer still comes
                log.info("could not show a status for %s", key)

        self.receipts.submit(show)

    def close(self, timeout: float = 30.0) -> None:
        """Finish what is running and stop the worker process."""
        self.receipts.shutdown(wait=False, cancel_futures=True)
        if self.worker is not None:
            self.worker.close(timeout)
        else:
            self.inbox.stop_retries()
            self.inbox.drain(timeout)

    def _hand_over(self, key: str) -> None:
        assert self.worker is not None
        self.worker.put(key)

    def answering(self) -> tuple[bool, str]:
        """(can answer, detail) for readiness: the answering process is alive (or answers run here)."""
        if self.worker is None:
            return True, "in this process"
        return self.worker.state()

    # -- workers
    def handle(self, job: Job) -> dict[str, Any] | None:
        """Run one inbox job; on its last failed attempt, tell the person once."""
        kind = job.kind
        try:
            asker, note = self.person(str(job.payload.get("user") or ""))
            self.inbox.hold(job)  # still this worker's after that first database read? Else nothing is posted
            if asker is None:  # the one identity check, before any handler reads data for this person
                return handlers.refuse(self, job, note or "")
            if kind == "question":
                return handlers.answer(self, job, asker)
            if kind == "command":
                return handlers.command(self, job, asker)
            if kind == "decision":
                return handlers.decision(self, job, asker)
            if kind == "home":
                return handlers.home(self, job, asker)
            if kind == "feedback":
                return handlers.feedback(self, job)
            if kind == "assistant_thread":
                return agent.thread_started(self, job.payload, asker)
            if kind == "qbr_deck":
                return decks.from_button(self, job, asker)
            return None
        except Superseded:
            raise
        except Exception as exc:
            if job.last and not lost_connection_in(exc):  # an outage is retried, not an attempt
                self._tell_failure(job)
            raise exc if isinstance(exc, Retry) else Retry(exc) from exc

    def _tell_failure(self, job: Job) -> None:
        """One clear message after the last attempt failed (never the error's text)."""
        kind, p = job.kind, job.payload
        try:
            if kind == "question":
                ph = job.state.get("placeholder")
                if ph:
                    self.client.chat_update(channel=p["channel"], ts=ph, text=FAILURE_TEXT, blocks=[])
                else:
                    self.post(key=f"{job.key}:failure", channel=p["channel"],
                              thread_ts=p.get("thread_ts") or p["ts"], text=FAILURE_TEXT)
            elif kind in ("command", "decision", "qbr_deck") and p.get("user") and p.get("channel"):
                self.client.chat_postEphemeral(channel=p["channel"], user=p["user"], text=FAILURE_TEXT)
        except Exception:  # noqa: BLE001 - Slack itself is failing; the inbox row keeps the failure
            log.warning("could not tell %s about a failed %s", p.get("user", "?"), kind)

    def person(self, user: str) -> tuple[Asker | None, str | None]:
        """The active person this Slack user is, or None and the note to give them instead of data.

        Every job goes through this once (`handle`), and its handler acts for the `Asker` it returns:
        only a Slack member id (U…/W…) mapped to an active person gets anything; a forged id such as
        the operator's never resolves to anyone.
        """
        if not SLACK_USER.match(user or ""):  # no identity (or a forged one) means no access
            return None, "I can't tell who sent this, so I can't share account data."
        try:
            return self.services.asker(user), None
        except Deactivated:
            return None, ("Your Retain access has been deactivated, so I can't share account data. "
                          "Ask your Retain admin if this is a mistake.")
        except NotFoundError:
            return None, (f"I don't have you as a CSM yet, so I can't share account data. Ask your Retain "
                          f"admin to add your Slack user ID ({user}) to your CSM record, then try again.")

    def scoped(self, asker: Asker, channel: str, channel_type: str) -> tuple[Asker | None, str | None]:
        """The asker as they may be answered where they asked (or None), and a note to post instead of data.

        In a DM they see their own scope; in a team's channel (configs/slack.yaml) only that team's
        accounts they may see; anywhere else, nothing.
        """
        if channel_type == "im" or channel.startswith("D"):
            return asker, None
        team = (self.config.channels.get(channel) or {}).get("team")
        if not team:
            return None, ("I only share account data in DMs and in channels set up for a team. "
                          "DM me, or ask an admin to add this channel to configs/slack.yaml.")
        return asker.in_team(str(team)), None

    def post(self, key: str | None = None, **kw: Any) -> Any:
        """Post a message (paced per channel, no unfurls); with `key`, at most once (`post_once`)."""
        self.paced.wait(kw.get("channel", ""))
        if key is None:
            return self.client.chat_postMessage(unfurl_links=False, unfurl_media=False, **kw)
        return post_once(self.client, key, unfurl_links=False, unfurl_media=False, **kw)

    def posted(self, key: str, channel: str, thread_ts: str | None) -> dict[str, Any] | None:
        """The message posted for `key` by an earlier attempt, found in Slack, or None."""
        return find_posted(self.client, channel, thread_ts, key)


def _worker_main(settings: Any, deterministic: bool, queue: Any, worker_id: str, started: Any) -> None:
    """The answering process: its own services, model and memory; work arrives as inbox keys."""
    def make() -> tuple[RetainSlack, Any]:
        rt = Services(settings)
        bot = RetainSlack(rt, build_assistant(rt, deterministic, log.warning), me=worker_id)
        threading.Thread(target=rt.prewarm, name="retain-prewarm", daemon=True).start()  # answers wait on it, once
        return bot, queue

    worker.main(make, settings, started)
