"""Slack settings: the channels config, the tokens (never logged), Bolt's logger, per-channel pacing."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from configs import CONFIG_DIR
from core.errors import ConfigError


class NoBodies(logging.Filter):
    """Bolt logs request bodies (with a bad signature, at INFO) and tracebacks: one short line instead.

    Lines with a body are dropped, long ones cut, and an exception is named by its type (no traceback).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it carries a request body; cut very long lines; no traceback."""
        msg = record.getMessage()
        if "body" in msg.lower():
            return False
        if len(msg) > 1000:
            record.msg, record.args = msg[:1000] + "…", ()
        if record.exc_info and record.exc_info[0] is not None:
            record.msg, record.args = f"{record.getMessage()} [{record.exc_info[0].__name__}]", ()
            record.exc_info, record.exc_text = None, None
        return True


def bolt_logger() -> logging.Logger:
    """Bolt's logger, quiet and without request bodies."""
    lg = logging.getLogger("retain.slack.bolt")
    lg.setLevel(logging.WARNING)
    if not any(isinstance(f, NoBodies) for f in lg.filters):
        lg.addFilter(NoBodies())
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


class Paced:
    """Posts to one channel at most once per interval (Slack's limit is about 1 per second)."""

    def __init__(self, interval: float):
        self.interval, self.last, self.lock = interval, {}, threading.Lock()  # type: ignore[var-annotated]

    def wait(self, channel: str) -> None:
        """Sleep until this channel may be posted to again."""
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self.last.get(channel, 0.0) + self.interval)
            self.last[channel] = at
        if at > now:
            time.sleep(at - now)
