"""A local stand-in for HubSpot's CRM API on 127.0.0.1, speaking what `hubspot-api-client` sends.

Serves POST /crm/v3/objects/{type}/search (filterGroups with GTE/EQ/associations.company, sorts,
properties, limit/after paging, HubSpot's 10,000-result window), POST
/crm/v4/associations/{from}/{to}/batch/read and GET /crm/v3/owners/. Checks the Bearer token (401
like HubSpot), enforces a per-second request limit with HubSpot's 429 body, and can go down (503)
after N requests. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from crm_world import World

MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate",
            "tickets": "hs_lastmodifieddate", "notes": "hs_lastmodifieddate"}


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _ms(v: str) -> int:
    if v.isdigit():
        return int(v)
    dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def from_world(w: World) -> dict[str, dict[str, dict]]:
    """The world as HubSpot objects: type -> id -> {properties, company, createdAt}."""
    out: dict[str, dict[str, dict]] = {t: {} for t in MODIFIED}
    for c in w.of("company"):
        f = c.fields
        out["companies"][c.id] = {"props": {"name": f["name"], "domain": f["domain"], "industry": f["industry"],
                                            "segment": f["segment"], "arr": str(f["arr"]),
                                            "hubspot_owner_id": f["owner"],
                                            "lifecyclestage": f["stage"], "createdate": f["created"] + "T10:00:00Z"},
                                  "modified": c.modified}
    for o in w.of("contact"):
        f = o.fields
        out["contacts"][o.id] = {"props": {"firstname": f["first"], "lastname": f["last"], "email": f["email"],
                                           "jobtitle": f["title"], "champion": "true" if f["champion"] else "false",
                                           "notes_last_contacted": f["last_contacted"]},
                                 "modified": o.modified, "company": o.company}
    for o in w.of("deal"):
        f = o.fields
        out["deals"][o.id] = {"props": {"dealname": f["name"], "closedate": f["start"] + "T00:00:00Z",
                                        "contract_start_date": f["start"], "renewal_date": f["renewal"],
                                        "amount": str(f["amount"]), "seats": str(f["seats"]), "dealstage": f["stage"]},
                              "modified": o.modified, "company": o.company}
    for o in w.of("ticket"):
        f = o.fields
        out["tickets"][o.id] = {"props": {"subject": f["subject"], "content": f["body"],
                                          "hs_ticket_priority": f["priority"],
                                          "hs_pipeline_stage": "4" if f["closed_flag"] else "1",
                                          "createdate": f["open"], "closed_date": f["closed"]},
                                "modified": o.modified, "company": o.company}
    for o in w.of("note"):
        f = o.fields
        out["notes"][o.id] = {"props": {"hs_note_body": f["body"], "hs_timestamp": f["when"],
                                        "hubspot_owner_id": f["owner"]},
                              "modified": o.modified, "company": o.company}
    return out


class MockHubSpot:
    """HubSpot on 127.0.0.1 (see the module docstring). `url` is the base to give the client."""

    def __init__(self, w: World, token: str = "pat-na1-test-token", per_second: int = 0, quote_auth: bool = False):
        self.data = from_world(w)
        self.quote_auth = quote_auth  # a 401 quotes the Authorization header it got (as some proxies and APIs do)
        self.stuck_cursor: str | None = None  # every search page says "next: after=<this>" (a CRM bug)
        self.owners = w.owners
        self.token = token
        self.per_second = per_second
        self.requests: list[dict] = []
        self.down_after: int | None = None  # requests still served before every request gets a 503
        self.daily_exhausted = False
        self.lock = threading.Lock()
        self._recent: list[float] = []
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                status, reply, headers = mock.answer(method, self.path, body, self.headers.get("Authorization", ""))
                self._send(status, reply, headers)

            def do_POST(self):  # noqa: N802
                self._handle("POST")

            def do_GET(self):  # noqa: N802
                self._handle("GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ changing the CRM
    def touch(self, obj_type: str, obj_id: str, **props):
        """Change a record now (its modification time moves past every other)."""
        with self.lock:
            latest = max(r["modified"] for t in self.data.values() for r in t.values())
            rec = self.data[obj_type].setdefault(obj_id, {"props": {}, "modified": latest})
            rec["props"].update(props)
            rec["modified"] = latest + timedelta(seconds=1)

    def searches(self, obj_type: str | None = None) -> list[dict]:
        return [r for r in self.requests
                if "/search" in r["path"] and (obj_type is None or f"/{obj_type}/" in r["path"])]

    # ------------------------------------------------------------------ the API
    def answer(self, method: str, path: str, body: dict, auth: str) -> tuple[int, dict, dict]:
        now = time.monotonic()
        with self.lock:
            entry = {"method": method, "path": path, "body": body, "at": now, "status": 200}
            self.requests.append(entry)
            if auth != f"Bearer {self.token}":
                entry["status"] = 401
                quoted = f" Got Authorization: {auth}" if self.quote_auth else ""
                return 401, {"status": "error", "message": "Authentication credentials not found. This API supports "
                             f"OAuth 2.0 authentication.{quoted}", "correlationId": "c0ffee", "category":
                             "INVALID_AUTHENTICATION"}, {}
            if self.down_after is not None:
                if self.down_after <= 0:
                    entry["status"] = 503
                    return 503, {"status": "error", "message": "Service Unavailable", "category": "INTERNAL"}, {}
                self.down_after -= 1
            if self.daily_exhausted:
                entry["status"] = 429
                return 429, {"status": "error", "message": "You have reached your daily limit.", "errorType":
                             "RATE_LIMIT", "policyName": "DAILY"}, {}
            if self.per_second:
                self._recent = [t for t in self._recent if now - t < 1.0]
                if len(self._recent) >= self.per_second:
                    entry["status"] = 429
                    return 429, {"status": "error", "message": "You have reached your secondly limit.",
                                 "errorType": "RATE_LIMIT", "correlationId": "c0ffee", "policyName": "SECONDLY"}, {}
                self._recent.append(now)
            url = urlparse(path)
            parts = url.path.strip("/").split("/")
            if method == "POST" and parts[:3] == ["crm", "v3", "objects"] and parts[-1] == "search":
                return self._search(parts[3], body)
            if method == "POST" and parts[:3] == ["crm", "v4", "associations"] and parts[-2:] == ["batch", "read"]:
                return self._associations(parts[3], parts[4], body)
            if method == "GET" and parts[:3] == ["crm", "v3", "owners"]:
                return self._owners(parse_qs(url.query))
            entry["status"] = 404
            return 404, {"status": "error", "message": f"Unknown path {url.path}", "category": "OBJECT_NOT_FOUND"}, {}

    def _public(self, obj_type: str, oid: str, rec: dict, props: list[str]) -> dict:
        mod = MODIFIED[obj_type]
        shown = rec.get("raw_modified") or _iso(rec["modified"])  # raw_modified: a garbled time, as sent
        values = {**rec["props"], mod: shown, "hs_object_id": oid}
        return {"id": oid, "properties": {p: values.get(p) for p in [*props, mod, "hs_object_id"]},
                "createdAt": _iso(rec["modified"] - timedelta(days=1)), "updatedAt": _iso(rec["modified"]),
                "archived": False}

    def _search(self, obj_type: str, body: dict) -> tuple[int, dict, dict]:
        if obj_type not in self.data:
            return 400, {"status": "error", "message": f"Unable to infer object type from: {obj_type}",
                         "category": "VALIDATION_ERROR"}, {}
        mod = MODIFIED[obj_type]
        limit = min(int(body.get("limit") or 10), 200)
        after = int(body.get("after") or 0)
        if after + limit > 10_000:
            return 400, {"status": "error", "message": "Search results are limited to 10,000.",
                         "category": "VALIDATION_ERROR"}, {}
        groups = body.get("filterGroups") or [{"filters": []}]

        def ok(oid: str, rec: dict) -> bool:
            values = {**rec["props"], mod: _iso(rec["modified"])}
            for g in groups:  # groups are ORed, filters inside a group ANDed
                good = True
                for f in g.get("filters", []):
                    name, op, val = f["propertyName"], f["operator"], str(f.get("value"))
                    if name == "associations.company":
                        good &= op == "EQ" and rec.get("company") == val
                    elif name in (mod, "createdate", "hs_timestamp") and op in ("GTE", "GT", "LTE", "LT"):
                        got = _ms(values[name]) if values.get(name) else None
                        want = _ms(val)
                        good &= got is not None and {"GTE": got >= want, "GT": got > want, "LTE": got <= want,
                                                     "LT": got < want}[op]
                    elif op == "EQ":
                        good &= str(values.get(name)) == val
                    else:
                        raise ValueError(f"mock: unsupported filter {f}")
                if good:
                    return True
            return False

        hits = [(oid, rec) for oid, rec in self.data[obj_type].items() if ok(oid, rec)]
        sorts = body.get("sorts") or []
        if sorts and (sorts[0].get("propertyName") if isinstance(sorts[0], dict) else sorts[0]) == mod:
            hits.sort(key=lambda x: (x[1]["modified"], int(x[0]) if x[0].isdigit() else x[0]))
        page = hits[after:after + limit]
        props = list(body.get("properties") or [])
        out = {"total": len(hits), "results": [self._public(obj_type, oid, rec, props) for oid, rec in page]}
        if after + limit < len(hits):
            out["paging"] = {"next": {"after": str(after + limit), "link": "?after=" + str(after + limit)}}
        if self.stuck_cursor is not None and page:
            out["paging"] = {"next": {"after": self.stuck_cursor, "link": "?after=" + self.stuck_cursor}}
        return 200, out, {}

    def _associations(self, from_type: str, to_type: str, body: dict) -> tuple[int, dict, dict]:
        results = []
        for item in body.get("inputs", []):
            rec = self.data.get(from_type, {}).get(str(item["id"]))
            if rec and rec.get("company") and to_type == "companies":
                results.append({"from": {"id": str(item["id"])}, "to": [
                    {"toObjectId": int(rec["company"]), "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}]}]})
        now = _iso(datetime.now(UTC))
        return 200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}, {}

    def _owners(self, query: dict) -> tuple[int, dict, dict]:
        after = int((query.get("after") or ["0"])[0] or 0)
        limit = int((query.get("limit") or ["100"])[0])
        rows = self.owners[after:after + limit]
        now = _iso(datetime.now(UTC))
        out = {"results": [{"id": oid, "email": email, "firstName": name.split()[0], "lastName": name.split()[-1],
                            "userId": int(oid), "createdAt": now, "updatedAt": now, "archived": False}
                           for oid, name, email in rows]}
        if after + limit < len(self.owners):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return 200, out, {}
