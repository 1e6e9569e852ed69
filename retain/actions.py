"""What an approved draft does outside the graph: send the follow-up or requested draft, or snooze a milestone.

The agents call these through the `agents.state.Actions` interface; this is the shell's one
implementation (Slack Connect channel through the outbox, else a `.eml` file in the email outbox).
A requested e-mail or meeting invite is a `.eml` (the invite attached as `invite.ics`); a requested
Slack message goes to the account's Slack Connect channel through the outbox; a reminder is an outbox
row addressed to the CSM's Slack DM and held until its time, so the outbox job delivers it then, once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agents.drafts import ActionResult, Draft
from integrations import mail
from integrations.crm.models import FollowUpState
from integrations.outbox import enqueue
from integrations.scheduler import load_schedules
from integrations.slack.config import load_slack_config
from tools.services import Services


class Delivery:
    """Sends approved follow-ups and snoozes skipped ones, for one set of services."""

    def __init__(self, services: Services):
        self.services = services

    def send_follow_up(self, draft: Draft, text: str) -> ActionResult:
        """The account's Slack Connect channel if it has one (through the outbox), else the email outbox."""
        store, settings = self.services.store, self.services.settings
        cfg = load_slack_config(settings.slack.config_file)
        channel = (cfg.customer_channels or {}).get(draft["account"])
        if channel:
            key, _ = enqueue(store, "followup", draft["id"], draft["account"], channel, text)
            return {"sent_via": "slack_connect", "outbox": key}
        return self._email(draft, text, cfg.link_hosts)

    def _email(self, draft: Draft, text: str, link_hosts: Any, invite: str = "") -> ActionResult:
        """One `.eml` per draft in the email outbox (the mail hook sends each once)."""
        settings = self.services.settings
        try:
            raw = mail.build(draft.get("to", ""), draft.get("to_email", ""), draft["subject"], text,
                             link_hosts=link_hosts, invite=invite)
        except mail.BadAddress as exc:
            return {"sent_via": "none", "error": str(exc)}
        box = Path(settings.email_outbox_dir) if settings.email_outbox_dir else settings.data_dir / "email_outbox"
        box.mkdir(parents=True, exist_ok=True)
        path = box / f"{draft['id']}.eml"
        if not path.exists():  # one file per draft: the mail hook sends each once
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(raw)
            tmp.replace(path)
        return {"sent_via": "email_outbox", "file": str(path)}

    def send_draft(self, draft: Draft, text: str) -> ActionResult:
        """An approved requested draft: e-mail (with its invite), the Slack Connect channel, or a held reminder."""
        cfg = load_slack_config(self.services.settings.slack.config_file)
        if draft["kind"] == "reminder":
            if not draft.get("to_slack"):
                return {"sent_via": "none", "error": "You have no Slack user in Retain, so the reminder cannot be "
                        "delivered; an admin can add it with `retain csms add`."}
            due = datetime.fromisoformat(draft["when"]).astimezone().replace(tzinfo=None)  # the outbox's local time
            key, _ = enqueue(self.services.store, "reminder", draft["id"], draft["to_slack"], draft["to_slack"],
                             f":alarm_clock: {text}", not_before=due)
            return {"sent_via": "slack_dm", "outbox": key, "due": draft["when"]}
        if draft.get("draft_kind") == "slack" and draft.get("to_role") == "account owner":
            if not draft.get("to_slack"):
                return {"sent_via": "none",
                        "error": f"{draft['to']} has no Slack user in Retain, so nothing was posted."}
            key, _ = enqueue(self.services.store, "draft", draft["id"], draft["to_slack"], draft["to_slack"], text)
            return {"sent_via": "slack_dm", "outbox": key}
        if draft.get("draft_kind") == "slack":
            channel = (cfg.customer_channels or {}).get(draft["account"])
            if not channel:
                return {"sent_via": "none", "error": f"{draft['account']} has no Slack Connect channel in the Slack "
                        "config (customer_channels), so nothing was posted; send it by e-mail or add the channel."}
            key, _ = enqueue(self.services.store, "draft", draft["id"], draft["account"], channel, text)
            return {"sent_via": "slack_connect", "outbox": key}
        return self._email(draft, text, cfg.link_hosts, invite=draft.get("invite", ""))

    def snooze_follow_up(self, draft: Draft) -> ActionResult:
        """Keep the milestone quiet for `onboarding_sweep.snooze_days`."""
        days = float(load_schedules()["onboarding_sweep"]["snooze_days"])
        with self.services.store.session() as s:
            row = s.get(FollowUpState, draft["milestone_id"]) or FollowUpState(
                milestone_id=draft["milestone_id"], state="", nagged_at=datetime.now(), thread="")
            row.snoozed_until = datetime.now() + timedelta(days=days)
            s.merge(row)
            s.commit()
        return {"snoozed_days": days}
