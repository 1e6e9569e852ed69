"""Who uses Retain: add, import (CSV, all-or-nothing) and deactivate CSMs, managers and admins.

A person is keyed by email; importing the same file twice changes nothing. Updating someone who
exists (a file's row, `retain csms add` again) changes only the columns or options given: a file
without a `team` column, or `csms add` without `--team`, keeps their team; a blank cell clears it. A Slack user id links
Slack messages to the person (without it, Retain answers them with "I don't have you as a CSM").
Deactivating keeps the person's history (authored notes, approvals) but they can no longer act or
see data, get no briefings, and their accounts can be handed to someone else in the same step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import NotFoundError, RetainError
from integrations.crm.cells import control_problem, lookalikes, misfit
from integrations.crm.files import read_rows
from integrations.crm.models import CSM, Account
from integrations.crm.store import CRMStore

ROLES = ("csm", "manager", "admin")
COLUMNS = ("name", "email", "role", "team", "manager_email", "slack_user_id", "timezone")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLACK = re.compile(r"^[UW][A-Z0-9]{2,}$")
_RACES = 3  # writes tried when other imports add the same people at the same moment (all or nothing each time)
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
    for k in COLUMNS:
        why = control_problem(getattr(p, k))
        if why:
            raise RetainError(f"{k} {why}.")
    p.name, p.email = p.name.strip(), p.email.strip().lower()
    too_long = misfit({k: getattr(p, k) for k in COLUMNS}, CSM.__table__)
    if too_long:
        raise RetainError(f"{too_long}.")
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


def _stored(s: Any, email: str) -> Person | None:
    """The person with this email as Retain has them (None if unknown)."""
    row = s.scalars(select(CSM).where(func.lower(CSM.email) == email.strip().lower())).first()
    if row is None:
        return None
    mgr = s.get(CSM, row.manager_id) if row.manager_id else None
    return Person(name=row.name, email=row.email, role=row.role, team=row.team,
                  manager_email=mgr.email if mgr is not None else None, slack_user_id=row.slack_user_id,
                  timezone=row.timezone)


def _overlay(s: Any, given: dict[str, Any]) -> Person:
    """The person to save: who they are now (if known) with the given fields laid over, checked."""
    known = _stored(s, str(given.get("email") or ""))
    base = {} if known is None else {k: getattr(known, k) for k in COLUMNS}
    return check(Person(**{**base, **given}))


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


def add(store: CRMStore, p: Person, fields: set[str] | None = None) -> str:
    """Add or update one person; 'added', 'updated' or 'unchanged'.

    `fields`: which of the person's fields to set (`retain csms add` passes the options given); the
    others keep the person's current value, or the defaults for someone new (who needs a name).
    None sets them all.
    """
    given = {k: getattr(p, k) for k in COLUMNS if fields is None or k in fields or k == "email"}
    with store.session() as s:
        if _stored(s, p.email) is None and not (p.name or "").strip():
            raise RetainError(f"{p.email.strip()} is new to Retain: give their name (--name).")
        return _save(s, _overlay(s, given), {})


class PeopleImport(TypedDict):
    """What importing people did: rows, added, updated, unchanged, cleared cells per field, look-alike warnings."""

    rows: int
    added: int
    updated: int
    unchanged: int
    cleared: dict[str, int]
    warnings: list[tuple[int, str]]


class Deactivated(TypedDict):
    """A person stopped: their e-mail, and how many accounts moved and are still theirs."""

    email: str
    deactivated: bool
    accounts_moved: int
    accounts_still_owned: int


def import_csv(store: CRMStore, path: Path) -> PeopleImport:
    """People from a CSV or Parquet file, all or nothing.

    Columns: name, email, role, team, manager_email, slack_user_id, timezone (also headed "Manager",
    "Slack user id", "Slack", "Time zone"...: see ALIASES). Only email is required: a person Retain
    knows keeps the values of columns the file does not have.
    Every row is checked before anything is written; a bad row is reported with its line number.
    Managers may come later in the file than their reports.
    """
    raw, unit = read_rows(path)
    header = [_column(h) for h in (raw[0][1] if raw else {})]
    if "email" not in header:  # the key; a name is needed only for people Retain does not know yet
        raise RetainError(f"{path.name}: the header needs email (columns: {', '.join(COLUMNS)}).")
    unknown = set(header) - set(COLUMNS)
    if unknown:
        raise RetainError(f"{path.name}: unknown column(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(COLUMNS)}.")
    people: list[tuple[int, Person]] = []
    cleared: dict[str, int] = {}
    warnings: list[tuple[int, str]] = []
    with store.session() as s:
        for line, cells in raw:
            row = {_column(k): ("" if v is None else str(v)) for k, v in cells.items() if k}
            try:
                p = _overlay(s, {k: row[k] for k in COLUMNS if k in row})
            except (RetainError, TypeError) as exc:
                raise RetainError(f"{path.name} {unit} {line}: {exc} Nothing was imported.") from None
            known = _stored(s, p.email)
            for k in COLUMNS:
                if known is not None and k in row and not row[k].strip() and getattr(known, k) not in (None, ""):
                    cleared[k] = cleared.get(k, 0) + 1
            warnings.extend((line, w) for w in lookalikes({k: row[k] for k in ("name", "team") if k in row}))
            people.append((line, p))
    seen: dict[str, int] = {}
    for line, p in people:
        if p.email in seen:
            raise RetainError(f"{path.name} line {line}: {p.email} is already on line {seen[p.email]}. "
                              "Nothing was imported.")
        seen[p.email] = line
    batch = {p.email: p for _, p in people}
    order = sorted(people, key=lambda lp: (lp[1].manager_email is not None, lp[1].role != "admin",
                                           lp[1].role != "manager"))
    for attempt in range(_RACES):
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        try:
            with store.session() as s:
                for line, p in order:
                    try:
                        counts[_save(s, p, batch)] += 1
                    except RetainError as exc:
                        raise RetainError(f"{path.name} line {line}: {exc} Nothing was imported.") from None
            break
        except IntegrityError:  # another import added the same person meanwhile: all rolled back; read again
            if attempt == _RACES - 1:
                raise
    return {"rows": len(people), "added": counts["added"], "updated": counts["updated"],
            "unchanged": counts["unchanged"], "cleared": cleared, "warnings": warnings}


def deactivate(store: CRMStore, email: str, reassign_to: str | None = None) -> Deactivated:
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
