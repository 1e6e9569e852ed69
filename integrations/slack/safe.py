"""One safe rendering for everything Retain sends: Slack messages, views, the outbox and e-mail.

CRM and model text is data. Whatever it contains, what Retain posts carries no Slack control
sequence from it (`<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>`, `<@U…>`, `<#C…>`), no
masked link (`<https://evil|Okta fix>`), no broadcast word that pings, and links only to the
allowed hosts; any other link is shown defanged (`https://evil[.]example/x`) so nobody clicks it.
Every function here is idempotent (safe to apply twice) and never raises on odd text.
"""

from __future__ import annotations

import json
import re
from typing import Any

SECTION_LIMIT = 3000  # characters in a section block's text
MESSAGE_LIMIT = 39000  # Slack truncates message text at 40,000
MAX_BLOCKS = 50

# <…> sequences Slack would interpret: links, mentions, broadcasts, channels, user groups, dates.
_CONTROL = re.compile(r"<([^<>\n]{1,2000})>")
# A URL: scheme://authority/rest, or www.host/rest.
_URL = re.compile(r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>|\"']+")
# A bare host name with a path or a common top-level domain (Slack links these on its own).
_BARE_HOST = re.compile(r"(?i)(?<![\w@.\[/-])((?:[a-z0-9-]+\.)+[a-z]{2,24})(?![\w\[-])(/[^\s<>|\"']*)?")
_BROADCAST = re.compile(r"(?i)@(?!\u200b)(channel|here|everyone)\b")
_HOST_OK = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d{1,5})?$")
_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")


def escape(text: str) -> str:
    """Slack's three control characters escaped (already-escaped entities are kept as they are)."""
    return _AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _allowed(authority: str, hosts: tuple[str, ...]) -> bool:
    r"""Whether a URL's authority is exactly an allowed host (or a subdomain of one).

    Anything with user info (`evil@good`), a backslash (`evil\\@good`), brackets or other odd
    characters is not allowed: browsers and Slack may read such a host differently from us.
    """
    a = authority.lower()
    if not _HOST_OK.match(a):
        return False
    host = a.rsplit(":", 1)[0] if ":" in a else a
    return any(host == h or host.endswith("." + h) for h in hosts)


def _url_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether a URL (with or without its scheme) points to an allowed host."""
    body = re.sub(r"(?i)^[a-z]+://", "", url)
    return _allowed(re.split(r"[/?#]", body, maxsplit=1)[0], hosts)


def defang(url: str) -> str:
    """A link made unclickable but readable: every dot of its host shown as [.]."""
    m = re.match(r"(?i)^((?:[a-z]+://)?)([^/?#]*)(.*)$", url, re.S)
    assert m is not None
    scheme, authority, rest = m.groups()
    return scheme + re.sub(r"(?<!\[)\.(?!\])", "[.]", authority) + rest


def _links(text: str, hosts: tuple[str, ...]) -> str:
    """Links to hosts not in the allowlist defanged; allowed ones kept."""
    def url(m: re.Match[str]) -> str:
        return m.group(0) if _url_allowed(m.group(0), hosts) else defang(m.group(0))

    def bare(m: re.Match[str]) -> str:
        return m.group(0) if _allowed(m.group(1), hosts) else defang(m.group(0))

    out = _URL.sub(url, text)
    return _BARE_HOST.sub(bare, out)


def neutralize(text: str, link_hosts: list[str] | tuple[str, ...] = ()) -> str:
    """Plain text with no Slack control sequence and no clickable link outside the allowlist.

    `<https://x|label>` becomes `label (https://x)` (defanged unless allowed), `<!here>` becomes
    `@​here`, `<@U1>` becomes `@U1`, `<#C1|general>` becomes `#general`. For e-mail bodies and as
    the first step of `clean`.
    """
    hosts = tuple(h.lower() for h in link_hosts)
    text = str(text or "")

    def control(m: re.Match[str]) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("!"):
            word = target[1:].split("^")[0].split("|")[0]
            return f"@\u200b{label or word}"
        if target.startswith("@"):
            return f"@\u200b{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if label:
            return f"{label} ({target})"
        return target

    prev = None
    while prev != text:  # nested or repeated sequences
        prev, text = text, _CONTROL.sub(control, text)
    text = _links(text, hosts)
    return _BROADCAST.sub("@\u200b\\1", text)


def clean(text: str, link_hosts: list[str] | tuple[str, ...] = ()) -> str:
    """Model or CRM text made safe for Slack mrkdwn: neutralized, then escaped."""
    return escape(neutralize(text, link_hosts))


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a character (not byte) boundary, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


_DROP_ELEMENTS = {"broadcast", "user", "usergroup", "channel"}


def _walk(node: Any, hosts: tuple[str, ...]) -> Any:
    """Every mrkdwn text in a block tree cleaned; rich-text mentions and foreign links removed."""
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and item.get("type") in _DROP_ELEMENTS:
                continue
            out.append(_walk(item, hosts))
        return out
    if not isinstance(node, dict):
        return node
    node = dict(node)
    kind = node.get("type")
    if kind == "mrkdwn" and isinstance(node.get("text"), str):
        node["text"] = clean(node["text"], hosts)
        return node
    if kind == "link" and isinstance(node.get("url"), str):  # a rich-text link element
        if not _url_allowed(node["url"], hosts):
            return {"type": "text", "text": defang(str(node.get("text") or node["url"]))}
    if isinstance(node.get("url"), str) and kind in ("button", None) and not _url_allowed(node["url"], hosts):
        node.pop("url")
    for k, v in list(node.items()):
        if isinstance(v, dict | list):
            node[k] = _walk(v, hosts)
    return node


# Keys inside AI-app structures (prompts, stream chunks) that are names or ids, not text a person reads.
_NOT_TEXT = {"type", "id", "status", "task_id", "display_mode"}


def _texts(node: Any, hosts: tuple[str, ...]) -> Any:
    """Every string in an AI-app structure (loading messages, prompts, chunks) cleaned; foreign URLs dropped."""
    if hasattr(node, "to_dict"):  # slack_sdk's Chunk objects
        node = node.to_dict()
    if isinstance(node, str):
        return clean(node, hosts)
    if isinstance(node, list):
        return [_texts(v, hosts) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "url" and isinstance(v, str):
            if _url_allowed(v, hosts):
                out[k] = v
        elif k in _NOT_TEXT or k == "blocks":
            out[k] = _walk(v, hosts) if k == "blocks" else v
        else:
            out[k] = _texts(v, hosts)
    return out


def message(fields: dict[str, Any], link_hosts: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """A Web API call's arguments made safe, whatever the method.

    Messages: `text`, `initial_comment`, `markdown_text`, `blocks`, `attachments`, `view`. Slack's AI-app
    calls: a thread's `status` and `loading_messages`, its `title`, suggested `prompts` and a streamed
    answer's `chunks` (task titles, outputs, details).
    """
    hosts = tuple(h.lower() for h in link_hosts)
    out = dict(fields)
    for key in ("text", "initial_comment", "markdown_text", "status", "title"):
        if isinstance(out.get(key), str):
            out[key] = cut(clean(out[key], hosts), MESSAGE_LIMIT)
    for key in ("loading_messages", "prompts", "chunks"):
        v = out.get(key)
        if isinstance(v, str):
            try:
                out[key] = json.dumps(_texts(json.loads(v), hosts))
            except ValueError:
                out.pop(key)
        elif v is not None:
            out[key] = _texts(v, hosts)
    for key in ("blocks", "attachments", "view"):
        v = out.get(key)
        if isinstance(v, str):
            try:
                out[key] = json.dumps(_walk(json.loads(v), hosts))
            except ValueError:
                out.pop(key)
        elif isinstance(v, dict | list):
            out[key] = _walk(v, hosts)
    return out
