"""What listeners and handlers need from the Slack app (`RetainSlack` is the one implementation)."""

from __future__ import annotations

from typing import Any, Protocol

from slack_sdk import WebClient

from agents.assistant import Assistant
from integrations.slack.config import SlackConfig
from integrations.slack.inbox import Inbox
from tools.access import Asker
from tools.services import Services


class Bot(Protocol):
    """The app's parts a listener or a worker's handler uses."""

    services: Services
    assistant: Assistant
    client: WebClient
    config: SlackConfig
    inbox: Inbox

    def post(self, key: str | None = None, **kw: Any) -> Any:
        """Post a message (paced per channel, no unfurls); with `key`, at most once."""
        ...

    def posted(self, key: str, channel: str, thread_ts: str | None) -> dict[str, Any] | None:
        """The message posted for `key` by an earlier attempt, found in Slack, or None."""
        ...

    def person(self, user: str) -> tuple[Asker | None, str | None]:
        """The active person this Slack user is, or None and the note to give them instead of data."""
        ...

    def scoped(self, asker: Asker, channel: str, channel_type: str) -> tuple[Asker | None, str | None]:
        """The asker as they may be answered in this channel (or None), and a note to post instead of data."""
        ...

    def received(self, key: str, channel: str, thread_ts: str) -> None:
        """An assistant-thread message was accepted: show a status before a worker takes it."""
        ...
