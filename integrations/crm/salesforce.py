"""Salesforce through `simple-salesforce`: SOQL by SystemModstamp, paged by nextRecordsUrl.

Each object is read with `SELECT ... FROM X WHERE SystemModstamp >= checkpoint ORDER BY
SystemModstamp, Id`, `Sforce-Query-Options: batchSize=N` records a page, following
`nextRecordsUrl` (`query_more`). Relationship fields (`Owner.Email`) come back nested and are
flattened to their dotted names.

Rate limits: every response's `Sforce-Limit-Info` says how much of the org's daily API allowance is
used; when it passes `max_api_share` the run stops after the page it has (`LimitReached`) and the
next run resumes from the checkpoint, leaving the rest of the allowance to the org's other
integrations. `REQUEST_LIMIT_EXCEEDED` does the same; a 5xx or a dropped connection is retried with
back-off. An expired or wrong session is `AuthError`, never echoing the token.

Auth, in order: an OAuth access token with its instance URL (what a connected app issues); a
username, password and security token; a connected app's consumer key and secret (client
credentials). The last two are simple-salesforce's own login flows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from integrations.crm.source import Adapter, AuthError, LimitReached, ObjectQuery, Record, SourceError


def _readable(v: Any) -> str:
    """`_iso`, or the value as it came when it is not a time (the sync rejects that record, not the run)."""
    try:
        return _iso(v)
    except (TypeError, ValueError, IndexError):
        return str(v)


def _soql_time(iso: str) -> str:
    """An ISO time or date as a SOQL datetime literal (UTC)."""
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(v: str) -> str:
    """Salesforce's `2026-11-03T10:00:00.000+0000` as sortable ISO-8601 UTC with milliseconds."""
    s = str(v)
    if len(s) >= 5 and s[-5] in "+-" and s[-4:].isdigit():
        s = s[:-2] + ":" + s[-2:]
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _flat(rec: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if k == "attributes":
            continue
        if isinstance(v, dict):
            out |= _flat(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def _quote(v: str) -> str:
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


class Salesforce(Adapter):
    """Reads Salesforce for the sync (see the module docstring)."""

    name = "salesforce"

    def __init__(self, *, instance_url: str = "", access_token: str = "", username: str = "", password: str = "",
                 security_token: str = "", consumer_key: str = "", consumer_secret: str = "",
                 domain: str = "login", api_version: str = "59.0", ca_bundle: str = "",
                 max_api_share: float = 0.8, timeout_s: float = 60.0,
                 sleep: Callable[[float], None] | None = None):
        import requests
        from simple_salesforce import Salesforce as Client
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed

        session = requests.Session()
        if ca_bundle:
            session.verify = ca_bundle
        # Per request too: requests lets REQUESTS_CA_BUNDLE from the environment override a session's verify.
        self.extra: dict[str, Any] = {"timeout": timeout_s, **({"verify": ca_bundle} if ca_bundle else {})}
        self.timeout, self.sleep, self.max_share, self.calls = timeout_s, sleep, max_api_share, 0
        try:
            if access_token and instance_url:
                self.sf = Client(instance_url=instance_url, session_id=access_token, version=api_version,
                                 session=session)
            elif username and password:
                self.sf = Client(username=username, password=password, security_token=security_token,
                                 domain=domain, version=api_version, session=session)
            elif consumer_key and consumer_secret:
                self.sf = Client(consumer_key=consumer_key, consumer_secret=consumer_secret, domain=domain,
                                 version=api_version, session=session)
            else:
                raise AuthError("No Salesforce credentials. Set connectors.salesforce.instance_url and an access "
                                "token (RETAIN_CONNECTORS__SALESFORCE__ACCESS_TOKEN or salesforce_access_token in "
                                "connectors.secrets_file), or a username, password and security token.")
        except SalesforceAuthenticationFailed as exc:
            raise AuthError(f"Salesforce login failed ({getattr(exc, 'code', '')}): check the username, password "
                            "and security token (or the connected app's key and secret).") from None

    # ------------------------------------------------------------------ calls
    def _retry_after(self, exc: Exception) -> float | None:
        import requests

        status = getattr(exc, "status", None)
        if isinstance(status, int) and status >= 500:
            return 0.0
        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            return 0.0
        return None

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        usage = self.sf.api_usage.get("api-usage")
        if usage is not None and usage.total and usage.used / usage.total >= self.max_share:
            raise LimitReached(f"Salesforce API use is at {usage.used:,} of {usage.total:,} today (the sync stops at "
                               f"{self.max_share:.0%}, connectors.salesforce.max_api_share); it resumes from its "
                               "checkpoint on the next run.")
        return super()._call(what, fn)

    def _explain(self, what: str, exc: Exception) -> Exception:
        status = getattr(exc, "status", None)
        content = getattr(exc, "content", None)
        first = content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}
        code, message = str(first.get("errorCode", "")), str(first.get("message", ""))[:200]
        if code == "REQUEST_LIMIT_EXCEEDED":
            return LimitReached(f"Salesforce's API limit is used up ({message}); the sync resumes from its "
                                "checkpoint on the next run.")
        if status == 401 or code == "INVALID_SESSION_ID":
            return AuthError(f"Salesforce rejected the session for {what} ({code or status}). Issue a new access "
                             "token (connectors.salesforce.access_token) or use a username and password.")
        if status == 403:
            return AuthError(f"Salesforce refused {what} ({code}: {message}). The integration user needs API "
                             "access and read permission on Account, Contact, Contract, Case and Task.")
        if status is not None:
            return SourceError(f"Salesforce failed {what} ({status} {code}: {message}).")
        return SourceError(f"Cannot reach Salesforce for {what} ({type(exc).__name__}). Check "
                           "connectors.salesforce.instance_url and the network.")

    # ------------------------------------------------------------------ reads
    def _soql(self, q: ObjectQuery, conditions: list[str]) -> str:
        fields = list(dict.fromkeys(["Id", q.modified, *q.fields]))
        where = " AND ".join([*conditions, *(f"({w})" for w in q.where)])
        return (f"SELECT {', '.join(fields)} FROM {q.object}" + (f" WHERE {where}" if where else "")
                + f" ORDER BY {q.modified} ASC, Id ASC")

    def _run(self, q: ObjectQuery, soql: str, page_size: int) -> Iterator[list[Record]]:
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"}
        res = self._call(f"the {q.object} query",
                         lambda: self.sf.query(soql, headers=headers, **self.extra))
        seen: set[str] = set()
        while True:
            records = []
            for raw in res.get("records", []):
                values = _flat(raw)
                records.append(Record(id=str(values["Id"]), modified=_readable(values[q.modified]), values=values))
            if records:
                yield records
            nxt = res.get("nextRecordsUrl")
            if res.get("done", True) or not nxt or not records:
                return
            if nxt in seen:  # the same page again: it would page forever
                raise SourceError(f"Salesforce's {q.object} query returned the same next page twice; stopped there "
                                  "(the next run goes on from the checkpoint).")
            seen.add(nxt)
            res = self._call(f"the next {q.object} page",
                             functools.partial(self.sf.query_more, nxt, identifier_is_url=True, headers=headers,
                                               **self.extra))

    def pages(self, q: ObjectQuery, since: str | None, page_size: int) -> Iterator[list[Record]]:
        """Records changed at or after `since`, oldest first."""
        cond = [f"{q.modified} >= {_soql_time(since)}"] if since else []
        yield from self._run(q, self._soql(q, cond), page_size)

    def children(self, q: ObjectQuery, company_ids: list[str], page_size: int) -> Iterator[list[Record]]:
        """Every record of `q.object` whose account is one of these (100 ids a query)."""
        link = q.associate or "AccountId"
        for i in range(0, len(company_ids), 100):
            ids = ", ".join(_quote(c) for c in company_ids[i:i + 100])
            yield from self._run(q, self._soql(q, [f"{link} IN ({ids})"]), page_size)

    def owners(self) -> dict[str, dict[str, str]]:
        """Salesforce names owners through relationship fields (Owner.Email): nothing to look up."""
        return {}
