"""Text that is safe to post: escaped, no broadcast pings, links only to allowed hosts, within limits."""

from __future__ import annotations

import re
from urllib.parse import urlparse

SECTION_LIMIT = 3000  # characters in a section block's text
MESSAGE_LIMIT = 39000  # Slack truncates message text at 40,000
MAX_BLOCKS = 50
_URL = re.compile(r"https?://[^\s<>|]+")


def escape(text: str) -> str:
    """Slack's three control characters, escaped: no `<!channel>`, `<@U…>` or link syntax survives."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clean(text: str, link_hosts: list[str] | tuple[str, ...] = ()) -> str:
    """Model or CRM text made safe: escaped, broadcast words defused, links kept only to allowed hosts."""
    out = escape(text)
    out = re.sub(r"(?i)@(channel|here|everyone)\b", "@\u200b\\1", out)
    hosts = tuple(h.lower() for h in link_hosts)

    def link(m: re.Match[str]) -> str:
        url = m.group(0)
        host = (urlparse(url.replace("&amp;", "&")).hostname or "").lower()
        if any(host == h or host.endswith("." + h) for h in hosts):
            return url
        return url.replace("://", ":\u200b//")  # shown as text, not a link
    return _URL.sub(link, out)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a character (not byte) boundary, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
