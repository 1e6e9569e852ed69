"""The one Slack Web API client Retain posts with: retries, and the safe rendering on every call.

Posting a message is not idempotent: a connection reset or a 5xx after Slack took the post, retried
blindly, shows it twice. So a client made with `retry_posts=False` never retries `chat.postMessage`
itself, and `post_once` posts with a marker (message metadata carrying a key) and, when the outcome
is unknown, looks for its own marked message in the thread (`conversations.replies`) before posting
again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from integrations.slack import safe
from integrations.slack.config import load_slack_config, secrets

log = logging.getLogger("retain.slack")
MARK = "retain_message"  # the metadata event_type of messages `post_once` posted
UNSAFE_TO_RETRY = ("/chat.postMessage",)  # a retry after Slack took it posts it again
POST_ATTEMPTS = 3
POST_RETRY_S = (1.0, 3.0)

# Methods whose arguments carry text a person reads (and Slack would parse), AI-app calls included.
POSTING = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage", "views.open",
           "views.publish", "views.update", "views.push", "files.completeUploadExternal", "chat.meMessage",
           "assistant.threads.setStatus", "assistant.threads.setTitle", "assistant.threads.setSuggestedPrompts",
           "chat.startStream", "chat.appendStream", "chat.stopStream"}


def _posting(request: HttpRequest) -> bool:
    return request.url.split("?")[0].endswith(UNSAFE_TO_RETRY)


class _ConnectionRetries(ConnectionErrorRetryHandler):
    """Connection errors retried, except a post's (Slack may have taken it: the caller reconciles)."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return not _posting(request) and super()._can_retry(state=state, request=request, response=response,
                                                            error=error)


class _ServerRetries(ServerErrorRetryHandler):
    """5xx answers retried, except a post's (Slack may have taken it: the caller reconciles)."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return not _posting(request) and super()._can_retry(state=state, request=request, response=response,
                                                            error=error)


class SafeWebClient(WebClient):
    """A WebClient whose posting calls always go through `safe.message`, whatever the caller built.

    Retries: 429 after Retry-After, connection errors, and 5xx answers with backoff; with
    `retry_posts=False`, a `chat.postMessage` is retried only on 429 (see `post_once`).
    """

    def __init__(self, *args: Any, link_hosts: list[str] | tuple[str, ...] = (), retry_posts: bool = True,
                 **kwargs: Any):
        conn, server = ((ConnectionErrorRetryHandler, ServerErrorRetryHandler) if retry_posts
                        else (_ConnectionRetries, _ServerRetries))
        kwargs.setdefault("retry_handlers", [RateLimitErrorRetryHandler(max_retry_count=3),
                                             conn(max_retry_count=2), server(max_retry_count=2)])
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


def make_client(token: str | None, base_url: str, link_hosts: list[str] | tuple[str, ...] = (),
                retry_posts: bool = True) -> SafeWebClient:
    """The Slack client for the app, the jobs and the outbox."""
    return SafeWebClient(token=token or None, base_url=base_url, link_hosts=link_hosts, retry_posts=retry_posts)


def client_for(settings: Any, link_hosts: list[str] | tuple[str, ...] | None = None,
               retry_posts: bool = True) -> SafeWebClient:
    """The client the settings describe: bot token, base URL and allowed link hosts (from the Slack config)."""
    st = settings.slack
    hosts = link_hosts if link_hosts is not None else load_slack_config(st.config_file).link_hosts
    return make_client(secrets(settings)["bot_token"], st.base_url, hosts, retry_posts)


def marker(key: str) -> dict[str, Any]:
    """The metadata that marks a message as the one Retain posted for `key`."""
    return {"event_type": MARK, "event_payload": {"key": key}}


def dm_channel(client: WebClient, channel: str) -> str:
    """The conversation a post to `channel` lands in: a person's id (U…, W…) is opened as their DM with the app.

    Slack accepts a user id in chat.postMessage but not in conversations.history, so a message is posted
    and looked up in the same DM channel. If the DM cannot be opened (no `im:write`), the id is returned.
    """
    if channel[:1] not in ("U", "W"):
        return channel
    try:
        return str(client.conversations_open(users=channel)["channel"]["id"])
    except Exception as exc:  # noqa: BLE001 - posting to the user id still works; only the look-up is blind
        log.warning("could not open the DM with %s (%s); a lost post to it cannot be checked", channel, _why(exc))
        return channel


def find_posted(client: WebClient, channel: str, thread_ts: str | None, key: str) -> dict[str, Any] | None:
    """Our message marked `key` in the thread (or, without a thread, among the channel's latest); None if absent.

    A person's id is looked up in their DM with the app. None too when Slack cannot say (a missing
    scope, a thread it does not know): the caller then posts.
    """
    cursor = None
    try:
        channel = dm_channel(client, channel)
        for _ in range(20):  # 20 pages of 200: a thread far longer than any conversation with Retain
            if thread_ts:
                r = client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True,
                                                 limit=200, cursor=cursor)
            else:
                r = client.conversations_history(channel=channel, include_all_metadata=True, limit=50)
            for m in r.get("messages") or []:
                meta = m.get("metadata") or {}
                if meta.get("event_type") == MARK and (meta.get("event_payload") or {}).get("key") == key:
                    return dict(m)
            cursor = (r.get("response_metadata") or {}).get("next_cursor")
            if not thread_ts or not r.get("has_more") or not cursor:
                return None
    except Exception as exc:  # noqa: BLE001 - no answer is "not found": posting is the fallback
        log.info("could not look for message %s in %s (%s)", key, channel, _why(exc))
    return None


def post_once(client: WebClient, key: str, **kw: Any) -> dict[str, Any]:
    """Post a message marked `key` once: when a post's outcome is unknown, find it before posting again.

    Unknown: the connection failed or Slack answered 5xx, either of which can follow a post Slack
    took. Known failures (4xx such as channel_not_found) are raised at once. Returns Slack's answer
    to the post, or the found message (with its `ts` and `channel`). A post to a person's id goes to
    their DM channel (`dm_channel`), where a lost answer is then looked for.
    """
    kw = {**kw, "channel": dm_channel(client, kw["channel"])}
    channel, thread_ts = kw["channel"], kw.get("thread_ts")
    for attempt in range(POST_ATTEMPTS):
        try:
            return dict(client.chat_postMessage(metadata=marker(key), **kw).data)  # type: ignore[arg-type]
        except Exception as exc:
            status = exc.response.status_code if isinstance(exc, SlackApiError) else None
            if status is not None and status < 500:
                raise
            found = find_posted(client, channel, thread_ts, key)
            if found is not None:
                log.info("post %s reached Slack despite %s; not posted again", key, _why(exc))
                return {"ok": True, "channel": channel, "ts": found["ts"], "message": found, "reconciled": True}
            if attempt == POST_ATTEMPTS - 1:
                raise
            log.info("post %s failed (%s); posting again", key, _why(exc))
            time.sleep(POST_RETRY_S[min(attempt, len(POST_RETRY_S) - 1)])
    raise AssertionError("unreachable")


def _why(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"{exc.response.status_code} {exc.response.get('error')}"
    return type(exc).__name__
