"""Slack's AI-app conventions where the workspace has them: status while working, suggested prompts, titles.

In an assistant thread (the app's Messages tab, or any DM thread), Retain shows
`assistant.threads.setStatus` with loading messages that say what it is doing ("reading Globex's
telemetry", "checking the renewal model"), refreshed once the question is understood and as each
agent finishes, then posts the verified answer in the thread (which clears the status). A workspace
or thread without the feature answers `setStatus` with an error: the caller then keeps the
placeholder-and-update behaviour. Suggested prompts come from the asker's own book.
Everything these calls carry (status, loading messages, title, prompts, the plan's tasks) is made
safe by the client (`integrations.slack.safe.message`), like every message Retain posts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from agents import progress as steps
from agents.progress import Task
from agents.state import FindingDict
from retain.slack.bot import Bot
from tools import crm, onboarding
from tools.access import Asker

log = logging.getLogger("retain.slack")
def set_status(bot: Bot, channel: str, thread_ts: str, status: str, loading: list[str] | None = None) -> bool:
    """Show (or clear, with "") the thread's status; False when the workspace or thread does not have it."""
    try:
        bot.client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status,
                                               loading_messages=loading or None)
        return True
    except SlackApiError as exc:
        log.info("assistant status unavailable here (%s); using a placeholder", exc.response.get("error"))
        return False


def loading_messages(route: Mapping[str, Any]) -> list[str]:
    """What the work for this route will do (at most 6 lines)."""
    return [t.title for t in steps.tasks(route)] or ["reading the CRM"]


class Progress:
    """A progress callback for `Assistant.ask`: the status follows the work, and a streamed plan shows it.

    Once the question is understood, a stream opens in the thread (`chat.startStream`) with one task
    per step of the route. As each agent finishes, its task is marked complete with its first
    verified fact and the records it came from (`chat.appendStream`); these are code's findings, never
    model text. `finish` closes the stream with the verified answer (`chat.stopStream`). Where
    streaming is not available the status alone is shown and the answer is posted as a message.

    A stream's ts is handed to `on_stream` as soon as Slack gives it (the caller stores it with its
    claim). A worker that takes the answer over after one died mid-stream passes it as `resume`: no
    second stream is opened; the old one is closed with the answer, or, if Slack already ended it,
    the half-written message is replaced by the answer (`chat.update`). One message either way.
    """

    def __init__(self, bot: Bot, channel: str, thread_ts: str, user: str, team: str | None,
                 resume: str | None = None, on_stream: Callable[[str], None] | None = None):
        self.bot, self.channel, self.thread_ts, self.user, self.team = bot, channel, thread_ts, user, team
        self.pending: list[Task] = []  # the steps not finished yet; ids fixed when planned
        self.stream_ts: str | None = resume
        self.resumed, self.on_stream = resume, on_stream

    def __call__(self, event: steps.Event) -> None:
        """The work moved on: its plan opens the stream, an agent's findings complete its tasks."""
        if isinstance(event, steps.Planned):
            self.pending = list(event.tasks)
            set_status(self.bot, self.channel, self.thread_ts, "is working on it…", event.titles or None)
            self._start()
        elif self.pending:
            for f in event.findings:
                self._task_done(f)
            left = [t for t in self.pending if t.agent not in event.agents]
            if left and left != self.pending:
                set_status(self.bot, self.channel, self.thread_ts, "is working on it…", [t.title for t in left])
            self.pending = left

    def _start(self) -> None:
        chunks = [{"type": "plan_update", "title": "Working on it"}] + [
            {"type": "task_update", "id": t.id, "title": t.title, "status": "in_progress"} for t in self.pending]
        if self.resumed:  # an earlier worker's stream: continue it (if Slack still has it open), never a second
            try:
                self.bot.client.chat_appendStream(channel=self.channel, ts=self.resumed, chunks=chunks)
            except SlackApiError as exc:
                log.info("the earlier stream %s is closed (%s); the answer replaces it", self.resumed,
                         exc.response.get("error"))
            return
        try:
            r = self.bot.client.chat_startStream(channel=self.channel, thread_ts=self.thread_ts,
                                                 recipient_user_id=self.user, recipient_team_id=self.team,
                                                 task_display_mode="plan", chunks=chunks)
            self.stream_ts = r.get("ts")
        except SlackApiError as exc:
            log.info("streaming unavailable here (%s)", exc.response.get("error"))
            return
        if self.stream_ts and self.on_stream is not None:
            self.on_stream(self.stream_ts)

    def _task_done(self, finding: FindingDict) -> None:
        if not self.stream_ts:
            return
        facts = finding.get("facts") or []
        srcs = finding.get("sources") or []
        cited = sorted({i for fct in facts[:2] for i in fct.get("src", [])})
        details = "; ".join(f"{srcs[i].get('type', '').replace('_', ' ')} · {srcs[i].get('label', '')}"
                            + (f" · {srcs[i]['date']}" if srcs[i].get("date") else "")
                            for i in cited if i < len(srcs))
        chunks = [{"type": "task_update", "id": t.id, "title": t.title, "status": "complete",
                   "output": " · ".join(f["text"] for f in facts[:2])[:500] if facts else "nothing to report",
                   "details": details[:500] or None}
                  for t in self.pending if t.agent == finding.get("agent")]
        if chunks:
            try:
                self.bot.client.chat_appendStream(channel=self.channel, ts=self.stream_ts, chunks=chunks)
            except SlackApiError as exc:
                log.info("stream append failed (%s)", exc.response.get("error"))

    def finish(self, text: str, blocks: list[dict[str, Any]]) -> str | None:
        """Close the stream with the verified answer; its ts, or None when nothing was streamed."""
        if not self.stream_ts:
            return None
        rest = [{"type": "task_update", "id": t.id, "title": t.title, "status": "complete", "output": "nothing to add"}
                for t in self.pending]  # steps the answer did not need (e.g. an account out of scope)
        try:
            self.bot.client.chat_stopStream(channel=self.channel, ts=self.stream_ts, blocks=blocks,
                                            chunks=rest or None)
            self.pending = []
            return self.stream_ts
        except SlackApiError as exc:
            if not self.resumed:
                log.info("stream stop failed (%s); posting the answer instead", exc.response.get("error"))
                return None
        try:  # an earlier worker's stream that Slack already ended: its half answer is replaced by this one
            self.bot.client.chat_update(channel=self.channel, ts=self.resumed, text=text, blocks=blocks)
            self.pending = []
            return self.resumed
        except SlackApiError as exc:
            log.info("could not replace the earlier stream (%s); posting the answer instead",
                     exc.response.get("error"))
            return None

    def abort(self) -> None:
        """The answer failed: close an open stream with a short note and clear the status (it is retried).

        The retry resumes that message (`resume`): the note is replaced by its answer.
        """
        if self.stream_ts:
            try:
                left = [{"type": "task_update", "id": t.id, "title": t.title, "status": "error"} for t in self.pending]
                self.bot.client.chat_stopStream(channel=self.channel, ts=self.stream_ts, chunks=left or None,
                                                markdown_text="_Something went wrong; trying again shortly._")
            except SlackApiError as exc:
                log.info("stream stop failed (%s)", exc.response.get("error"))
            self.stream_ts = None
        set_status(self.bot, self.channel, self.thread_ts, "")


def suggested_prompts(bot: Bot, asker: Asker) -> list[dict[str, str]]:
    """Up to four prompts from the person's own book: riskiest account, renewals, overdue onboarding, today."""
    prompts = [{"title": "Anything to worry about today?", "message": "anything I should worry about today?"}]
    ctx = bot.services.tool_context(asker)  # the app resolved who this is before any handler runs
    book = crm.portfolio(ctx, limit=50)["accounts"]
    if book:
        worst = min(book, key=lambda r: r["score"])
        prompts.insert(0, {"title": f"How is {worst['name']} doing?", "message": f"how is {worst['name']} doing?"})
    if any(d is not None and 0 <= d <= 30 for d in (r["days_to_renewal"] for r in book)):
        prompts.append({"title": "Renewals in the next 30 days", "message": "which of my renewals are due in the "
                                                                               "next 30 days?"})
    late = next((m for m in onboarding.open_milestones(ctx.store, [r["account_id"] for r in book])
                 if m.days_overdue(ctx.as_of) > 0), None)
    if late is not None:
        prompts.append({"title": f"What's blocking {late.account}?",
                        "message": f"what's blocking {late.account}'s onboarding?"})
    return prompts[:4]


def thread_started(bot: Bot, p: dict[str, Any], asker: Asker) -> dict[str, Any]:
    """A new assistant thread: prompts from the person's book (scoped to them), in their thread."""
    prompts = suggested_prompts(bot, asker)
    try:
        bot.client.assistant_threads_setSuggestedPrompts(channel_id=p["channel"], thread_ts=p["thread_ts"],
                                                          title="Ask about your accounts", prompts=prompts)
    except SlackApiError as exc:
        return {"note": f"prompts unavailable: {exc.response.get('error')}"}
    return {"prompts": len(prompts)}


def set_title(bot: Bot, channel: str, thread_ts: str, question: str) -> None:
    """Name the thread after its first question (ignored where titles are not available)."""
    try:
        bot.client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts,
                                              title=question[:80] or "Retain")
    except SlackApiError:
        pass
