"""HubSpot through its official client (`hubspot-api-client`): CRM search by modification time.

Each object is read with `POST /crm/v3/objects/{type}/search`, filtered on its last-modified
property (`GTE` the checkpoint) and sorted on it ascending, `limit` records a page, following
`paging.next.after`. HubSpot's search stops at 10,000 results per query: at that point the window
restarts from the last record's modification time. A page's companies come from one
`POST /crm/v4/associations/{type}/companies/batch/read`; owners from `GET /crm/v3/owners/`.

Rate limits: a 429 (HubSpot's per-second and search limits) waits what the response asks
(Retry-After, else a second for the per-second policy) and tries again; a daily limit stops the
run with `LimitReached` so the next run resumes. A 401/403 is `AuthError` naming the token
setting and the scopes, never the token.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from integrations.crm.source import Adapter, AuthError, LimitReached, ObjectQuery, Record, SourceError

SEARCH_WINDOW = 10_000  # HubSpot's search returns at most this many results for one query
SCOPES = "crm.objects.companies.read, crm.objects.contacts.read, crm.objects.deals.read, tickets, " \
         "crm.objects.owners.read"


def _ms(iso: str) -> str:
    """An ISO-8601 time (or date) as the epoch milliseconds HubSpot's filters take."""
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return str(int(dt.timestamp() * 1000))


def _iso(v: Any) -> str:
    """A HubSpot time (ISO string, epoch ms or datetime) as sortable ISO-8601 UTC with milliseconds."""
    if isinstance(v, datetime):
        dt = v
    elif isinstance(v, str) and v.isdigit():
        dt = datetime.fromtimestamp(int(v) / 1000, UTC)
    else:
        dt = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _readable(v: Any) -> str:
    """`_iso`, or the value as it came when it is not a time (the sync rejects that record, not the run)."""
    try:
        return _iso(v)
    except (TypeError, ValueError, OverflowError):
        return str(v)


def _is_time(v: str) -> bool:
    try:
        _ms(v)
        return True
    except (TypeError, ValueError, OverflowError):
        return False


def _body(exc: Exception) -> dict[str, Any]:
    try:
        data = json.loads(getattr(exc, "body", None) or "{}")
        return data if isinstance(data, dict) else {}
    except (TypeError, ValueError):
        return {}


def _header(exc: Exception, name: str) -> str | None:
    headers = getattr(exc, "headers", None) or {}
    for k, v in dict(headers).items():
        if k.lower() == name.lower():
            return str(v)
    return None


class HubSpot(Adapter):
    """Reads HubSpot's CRM for the sync (see the module docstring)."""

    name = "hubspot"

    def __init__(self, access_token: str, base_url: str = "https://api.hubapi.com", *,
                 sleep: Callable[[float], None] | None = None, timeout_s: float = 60.0):
        if not access_token:
            raise AuthError("No HubSpot access token. Create a private app (Settings > Integrations > Private "
                            f"apps, scopes {SCOPES}) and set RETAIN_CONNECTORS__HUBSPOT__ACCESS_TOKEN or "
                            "hubspot_access_token in connectors.secrets_file.")
        from hubspot import HubSpot as Client

        self.client = Client(access_token=access_token, host=base_url.rstrip("/"))
        self.timeout = timeout_s
        self.sleep = sleep
        self.calls = 0

    # ------------------------------------------------------------------ calls
    def _retry_after(self, exc: Exception) -> float | None:
        status = getattr(exc, "status", None)
        if status == 429:
            body = _body(exc)
            if str(body.get("policyName", "")).upper() == "DAILY":
                return None
            after = _header(exc, "Retry-After")
            try:
                return float(after) if after else 1.0
            except ValueError:
                return 1.0
        if isinstance(status, int) and status >= 500:
            return 0.0  # back off and retry
        return None

    def _explain(self, what: str, exc: Exception) -> Exception:
        status = getattr(exc, "status", None)
        body = _body(exc)
        message = str(body.get("message") or getattr(exc, "reason", "") or type(exc).__name__)[:200]
        if status in (401, 403):
            return AuthError(f"HubSpot refused {what} ({status}: {message}). Check the private app's access "
                             f"token (connectors.hubspot.access_token) and its scopes ({SCOPES}).")
        if status == 429:
            return LimitReached(f"HubSpot's {str(body.get('policyName') or 'rate').lower()} limit is used up "
                                f"({message}); the sync resumes from its checkpoint on the next run.")
        if status is not None:
            return SourceError(f"HubSpot failed {what} ({status}: {message}).")
        return SourceError(f"Cannot reach HubSpot for {what} ({type(exc).__name__}). Check "
                           "connectors.hubspot.base_url and the network.")

    # ------------------------------------------------------------------ reads
    def _search(self, q: ObjectQuery, filters: list[dict[str, Any]], page_size: int,
                after: str | None) -> Any:
        body: dict[str, Any] = {"filterGroups": [{"filters": filters}], "properties": q.fields,
                                "sorts": [{"propertyName": q.modified, "direction": "ASCENDING"}],
                                "limit": page_size}
        if after:
            body["after"] = after
        api = self.client.crm.objects.search_api
        return self._call(f"the {q.object} search",
                          lambda: api.do_search(q.object, body, _request_timeout=self.timeout))

    def _records(self, q: ObjectQuery, results: list[Any]) -> list[Record]:
        out = []
        for r in results:
            props = dict(r.properties or {})
            modified = props.get(q.modified) or r.updated_at
            out.append(Record(id=str(r.id), modified=_readable(modified), values={**props, "id": str(r.id)}))
        if q.associate and out:
            links = self._associations(q.object, q.associate, [r.id for r in out])
            for rec in out:
                rec.company = links.get(rec.id)
        return out

    def _associations(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, str]:
        api = self.client.crm.associations.v4.batch_api
        res = self._call(f"the {from_type} → {to_type} associations",
                         lambda: api.get_page(from_type, to_type, {"inputs": [{"id": i} for i in ids]},
                                              _request_timeout=self.timeout))
        out: dict[str, str] = {}
        for item in res.results or []:
            tos = list(item.to or [])
            primary = [t for t in tos if any((a.label or "").lower() == "primary" for a in t.association_types or [])]
            chosen = (primary or tos)[:1]
            if chosen:
                out[str(item._from.id)] = str(chosen[0].to_object_id)
        return out

    def pages(self, q: ObjectQuery, since: str | None, page_size: int) -> Iterator[list[Record]]:
        """Records changed at or after `since`, oldest first (see the module docstring).

        A cursor HubSpot hands back twice, or one that is not a number, ends the read with SourceError
        (it would page forever, or fail every run at the same place without saying why).
        """
        floor, after, seen = since, None, 0
        cursors: set[tuple[str | None, str]] = set()
        while True:
            filters = [*q.where, *([{"propertyName": q.modified, "operator": "GTE", "value": _ms(floor)}]
                                   if floor else [])]
            data = self._search(q, filters, page_size, after)
            records = self._records(q, list(data.results or []))
            if records:
                yield records
            nxt = data.paging.next.after if data.paging and data.paging.next else None
            if not nxt or not records:
                return
            nxt = str(nxt)
            if not nxt.isdigit() or (floor, nxt) in cursors:
                what = "repeated" if nxt.isdigit() else f"unreadable ({nxt[:30]!r})"
                raise SourceError(f"HubSpot's {q.object} search returned a {what} page cursor after "
                                  f"{seen + len(records):,} records; stopped there (the next run goes on from "
                                  "the checkpoint).")
            cursors.add((floor, nxt))
            seen += len(records)
            if int(nxt) + page_size > SEARCH_WINDOW:  # restart the window at the last modification time
                if floor == records[-1].modified:
                    raise SourceError(f"More than {SEARCH_WINDOW:,} HubSpot {q.object} share the modification "
                                      f"time {floor}; the search cannot page past them.")
                floor, after = next((r.modified for r in reversed(records) if _is_time(r.modified)), floor), None
            else:
                after = nxt

    def children(self, q: ObjectQuery, company_ids: list[str], page_size: int) -> Iterator[list[Record]]:
        """Every record of `q.object` associated with these companies (a search on associations.company)."""
        for cid in company_ids:
            after = None
            while True:
                flt = [*q.where, {"propertyName": "associations.company", "operator": "EQ", "value": cid}]
                data = self._search(q, flt, page_size, after)
                records = self._records(q, list(data.results or []))
                for rec in records:
                    rec.company = rec.company or cid
                if records:
                    yield records
                after = data.paging.next.after if data.paging and data.paging.next else None
                if not after or not records:
                    break

    def owners(self) -> dict[str, dict[str, str]]:
        """Owner id -> {email, name}."""
        api = self.client.crm.owners.owners_api
        out: dict[str, dict[str, str]] = {}
        after = None
        while True:
            page = self._call("the owners list", functools.partial(api.get_page, limit=100, after=after,
                                                                   _request_timeout=self.timeout))
            for o in page.results or []:
                name = " ".join(x for x in (o.first_name, o.last_name) if x)
                out[str(o.id)] = {"email": (o.email or "").lower(), "name": name or (o.email or "")}
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return out
