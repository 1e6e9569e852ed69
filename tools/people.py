"""Who uses Retain: add, import (CSV, all-or-nothing) and deactivate CSMs, managers and admins.

A person is keyed by email; importing the same file twice changes nothing. A Slack user id links
Slack messages to the person (without it, Retain answers them with "I don't have you as a CSM").
Deactivating keeps the person's history (authored notes, approvals) but they can no longer act or
see data, get no briefings, and their accounts can be handed to someone else in the same step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update

from core.errors import NotFoundError, RetainError
from integrations.crm.models import CSM, Account
from integrations.crm.store import CRMStore

ROLES = ("csm", "manager", "admin")
COLUMNS = ("name", "email", "role", "team", "manager_email", "slack_user_id", "timezone")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLACK = re.compile(r"^[UW][A-Z0-9]{2,}$")
# Headers people write for the same columns (the CLI's own option names among them); matched after
# lower-casing and turning spaces and hyphens into underscores.
ALIASES = {"manager": "manager_email", "slack": "slack_user_id", "slack_id": "slack_user_id",
           "slack_member_id": "slack_user_id", "tz": "timezone", "time_zone": "timezone",
           "email_address": "email", "full_name": "name"}


def _column(header: object) -> str:
    key = re.sub(r"[\s-]+", "_", str(header).strip().lower())
    return ALIASES.get(key, key)


@dataclass
class Person:
    """One person to add or update (validated by `check`)."""

    name: str
    email: str
    role: str = "csm"
    team: str | None = None
    manager_email: str | None = None
    slack_user_id: str | None = None
    timezone: str = "UTC"


def check(p: Person) -> Person:
    """The person with tidy values, or RetainError saying which field is wrong and what is allowed."""
    p.name, p.email = p.name.strip(), p.email.strip().lower()
    if not p.name:
        raise RetainError("name is empty.")
    if not _EMAIL.match(p.email):
        raise RetainError(f"email '{p.email}' is not an email address.")
    p.role = (p.role or "csm").strip().lower()
    if p.role not in ROLES:
        raise RetainError(f"role '{p.role}' is not one of {', '.join(ROLES)}.")
    p.slack_user_id = (p.slack_user_id or "").strip().upper() or None
    if p.slack_user_id and not _SLACK.match(p.slack_user_id):
        raise RetainError(f"slack_user_id '{p.slack_user_id}' is not a Slack user id (U… or W…, from the "
                          "person's Slack profile: ⋮ > Copy member ID).")
    p.team = (p.team or "").strip() or None
    p.manager_email = (p.manager_email or "").strip().lower() or None
    p.timezone = (p.timezone or "UTC").strip() or "UTC"
    try:
        ZoneInfo(p.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RetainError(f"timezone '{p.timezone}' is not an IANA time zone (e.g. Europe/Berlin).") from None
    return p


def _save(s: Any, p: Person, batch: dict[str, Person]) -> str:
    """Insert or update one person in an open session; 'added', 'updated' or 'unchanged'."""
    manager_id = None
    if p.manager_email:
        mgr = s.scalars(select(CSM).where(func.lower(CSM.email) == p.manager_email)).first()
        if mgr is None and p.manager_email not in batch:
            raise RetainError(f"manager_email '{p.manager_email}' is nobody Retain knows (add the manager first, "
                              "or in the same file).")
        if mgr is None:
            s.flush()
            mgr = s.scalars(select(CSM).where(func.lower(CSM.email) == p.manager_email)).first()
        manager_id = mgr.id if mgr is not None else None
    if p.slack_user_id:
        other = s.scalars(select(CSM).where(CSM.slack_user_id == p.slack_user_id,
                                            func.lower(CSM.email) != p.email)).first()
        if other is not None:
            raise RetainError(f"slack_user_id {p.slack_user_id} already belongs to {other.email}.")
    row = s.scalars(select(CSM).where(func.lower(CSM.email) == p.email)).first()
    values = {"name": p.name, "email": p.email, "role": p.role, "team": p.team, "manager_id": manager_id,
              "slack_user_id": p.slack_user_id, "timezone": p.timezone, "active": True}
    if row is None:
        s.add(CSM(**values))
        s.flush()
        return "added"
    if all(getattr(row, k) == v for k, v in values.items()):
        return "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    return "updated"


def add(store: CRMStore, p: Person) -> str:
    """Add or update one person; 'added', 'updated' or 'unchanged'."""
    p = check(p)
    with store.session() as s:
        return _save(s, p, {})


def import_csv(store: CRMStore, path: Path) -> dict[str, Any]:
    """People from a CSV or Parquet file, all or nothing.

    Columns: name, email, role, team, manager_email, slack_user_id, timezone (also headed "Manager",
    "Slack user id", "Slack", "Time zone"...: see ALIASES).
    Every row is checked before anything is written; a bad row is reported with its line number.
    Managers may come later in the file than their reports.
    """
    from integrations.crm.importer import read_rows

    raw, unit = read_rows(path)
    header = [_column(h) for h in (raw[0][1] if raw else {})]
    missing = {"name", "email"} - set(header)
    if missing:
        raise RetainError(f"{path.name}: the header needs {', '.join(sorted(missing))} "
                          f"(columns: {', '.join(COLUMNS)}).")
    unknown = set(header) - set(COLUMNS)
    if unknown:
        raise RetainError(f"{path.name}: unknown column(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(COLUMNS)}.")
    people: list[tuple[int, Person]] = []
    for line, cells in raw:
        row = {_column(k): ("" if v is None else str(v)) for k, v in cells.items() if k}
        try:
            people.append((line, check(Person(**{k: row.get(k, "") for k in COLUMNS if k in row}))))
        except (RetainError, TypeError) as exc:
            raise RetainError(f"{path.name} {unit} {line}: {exc} Nothing was imported.") from None
    seen: dict[str, int] = {}
    for line, p in people:
        if p.email in seen:
            raise RetainError(f"{path.name} line {line}: {p.email} is already on line {seen[p.email]}. "
                              "Nothing was imported.")
        seen[p.email] = line
    batch = {p.email: p for _, p in people}
    order = sorted(people, key=lambda lp: (lp[1].manager_email is not None, lp[1].role != "admin",
                                           lp[1].role != "manager"))
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    with store.session() as s:
        for line, p in order:
            try:
                counts[_save(s, p, batch)] += 1
            except RetainError as exc:
                raise RetainError(f"{path.name} line {line}: {exc} Nothing was imported.") from None
    return {"rows": len(people), **counts}


def deactivate(store: CRMStore, email: str, reassign_to: str | None = None) -> dict[str, Any]:
    """Stop a person acting in Retain; optionally hand their accounts to someone active."""
    with store.session() as s:
        who = s.scalars(select(CSM).where(func.lower(CSM.email) == email.strip().lower())).first()
        if who is None:
            raise NotFoundError(f"No CSM with email '{email}'. See `retain csms`.")
        moved = 0
        if reassign_to:
            to = s.scalars(select(CSM).where(func.lower(CSM.email) == reassign_to.strip().lower())).first()
            if to is None or not to.active or to.id == who.id:
                raise RetainError(f"--reassign-to '{reassign_to}' must be another active person in `retain csms`.")
            moved = s.scalar(select(func.count()).select_from(Account).where(Account.owner_id == who.id)) or 0
            s.execute(update(Account).where(Account.owner_id == who.id).values(owner_id=to.id))
        left = s.scalar(select(func.count()).select_from(Account).where(Account.owner_id == who.id)) or 0
        who.active = False
        return {"email": who.email, "deactivated": True, "accounts_moved": int(moved),
                "accounts_still_owned": int(left)}
