"""The one Slack Web API client Retain posts with: retries, and the safe rendering on every call."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse

from integrations.slack import safe
from integrations.slack.config import load_slack_config, secrets

# Methods whose arguments carry text a person reads (and Slack would parse), AI-app calls included.
POSTING = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage", "views.open",
           "views.publish", "views.update", "views.push", "files.completeUploadExternal", "chat.meMessage",
           "assistant.threads.setStatus", "assistant.threads.setTitle", "assistant.threads.setSuggestedPrompts",
           "chat.startStream", "chat.appendStream", "chat.stopStream"}


class SafeWebClient(WebClient):
    """A WebClient whose posting calls always go through `safe.message`, whatever the caller built.

    Retries: 429 after Retry-After, connection errors, and 5xx answers with backoff.
    """

    def __init__(self, *args: Any, link_hosts: list[str] | tuple[str, ...] = (), **kwargs: Any):
        kwargs.setdefault("retry_handlers", [RateLimitErrorRetryHandler(max_retry_count=3),
                                             ConnectionErrorRetryHandler(max_retry_count=2),
                                             ServerErrorRetryHandler(max_retry_count=2)])
        super().__init__(*args, **kwargs)
        self.link_hosts = tuple(link_hosts)

    def api_call(self, api_method: str, *, http_verb: str = "POST", files: dict | None = None,  # type: ignore[override]
                 data: dict | None = None, params: dict | None = None, json: dict | None = None,
                 headers: dict | None = None, auth: dict | None = None) -> SlackResponse:
        """Every posting call's text, blocks and views made safe, then sent."""
        if api_method in POSTING:
            json = safe.message(json, self.link_hosts) if json else json
            data = safe.message(data, self.link_hosts) if data else data
            params = safe.message(params, self.link_hosts) if params else params
        return super().api_call(api_method, http_verb=http_verb, files=files, data=data, params=params, json=json,
                                headers=headers, auth=auth)


def make_client(token: str | None, base_url: str, link_hosts: list[str] | tuple[str, ...] = ()) -> SafeWebClient:
    """The Slack client for the app, the jobs and the outbox."""
    return SafeWebClient(token=token or None, base_url=base_url, link_hosts=link_hosts)


def client_for(settings: Any, link_hosts: list[str] | tuple[str, ...] | None = None) -> SafeWebClient:
    """The client the settings describe: bot token, base URL and allowed link hosts (from the Slack config)."""
    st = settings.slack
    hosts = link_hosts if link_hosts is not None else load_slack_config(st.config_file).link_hosts
    return make_client(secrets(settings)["bot_token"], st.base_url, hosts)
