"""A local stand-in for Salesforce's REST API on https://127.0.0.1, speaking what `simple-salesforce` sends.

simple-salesforce always calls https, so the mock serves TLS with a self-signed certificate made
here (the connector's `ca_bundle` setting trusts it). Serves GET /services/data/vXX.X/query/?q=SOQL
for the SOQL the connector writes (SELECT fields FROM object WHERE field >= datetime AND field IN
(...) AND (field = 'value') ORDER BY ...), batches of `Sforce-Query-Options: batchSize=N` followed
by nextRecordsUrl, relationship fields (Owner.Email) nested as Salesforce nests them, INVALID_FIELD
for a field the org lacks, INVALID_SESSION_ID for a wrong token, `Sforce-Limit-Info` on every
response and REQUEST_LIMIT_EXCEEDED past the daily allowance, and a 503 outage after N requests.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import ssl
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from crm_world import World

VERSION = "59.0"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "sf-cert.pem", folder / "sf-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def sfid(prefix: str, wid: str) -> str:
    return prefix + wid.rjust(15, "0")


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def from_world(w: World) -> dict[str, dict[str, dict]]:
    """The world as sObjects: object -> Id -> record (flat fields; Owner.* kept dotted here)."""
    owners = {oid: (name, email) for oid, name, email in w.owners}
    out: dict[str, dict[str, dict]] = {"Account": {}, "Contact": {}, "Contract": {}, "Case": {}, "Task": {}}
    for c in w.of("company"):
        f = c.fields
        name, email = owners[f["owner"]]
        out["Account"][sfid("001", c.id)] = {
            "Name": f["name"], "Website": f["domain"], "Industry": f["industry"], "Segment__c": f["segment"],
            "ARR__c": float(f["arr"]), "Owner.Email": email, "Owner.Name": name,
            "CreatedDate": f["created"] + "T10:00:00.000+0000", "Type": "Customer" if f["stage"] == "customer" else
            "Prospect", "_modified": c.modified}
    for o in w.of("contact"):
        f = o.fields
        out["Contact"][sfid("003", o.id)] = {
            "AccountId": sfid("001", o.company) if o.company else None, "Name": f"{f['first']} {f['last']}",
            "Email": f["email"], "Title": f["title"], "Champion__c": f["champion"],
            "LastActivityDate": f["last_contacted"], "_modified": o.modified}
    for o in w.of("deal"):
        f = o.fields
        out["Contract"][sfid("800", o.id)] = {
            "AccountId": sfid("001", o.company), "Plan__c": f["name"], "ContractNumber": "0000" + o.id[-3:],
            "StartDate": f["start"], "EndDate": f["renewal"], "ARR__c": float(f["amount"]),
            "Seats__c": float(f["seats"]),
            "Status": "Activated", "_modified": o.modified}
    for o in w.of("ticket"):
        f = o.fields
        out["Case"][sfid("500", o.id)] = {
            "AccountId": sfid("001", o.company), "Priority": f["priority"].title(),
            "Status": "Closed" if f["closed_flag"] else "New", "CreatedDate": _stamp(datetime.fromisoformat(f["open"])),
            "ClosedDate": _stamp(datetime.fromisoformat(f["closed"])) if f["closed"] else None,
            "Subject": f["subject"] or None, "Description": f["body"], "_modified": o.modified}
    for o in w.of("note"):
        f = o.fields
        when = datetime.fromisoformat(f["when"])
        out["Task"][sfid("00T", o.id)] = {
            "AccountId": sfid("001", o.company), "TaskSubtype": f["type"], "ActivityDate": when.date().isoformat(),
            "CreatedDate": _stamp(when), "Owner.Name": owners[f["owner"]][0], "Subject": f["type"] + " with customer",
            "Description": re.sub(r"<[^>]+>", "", f["body"]), "_modified": o.modified}
    return out


_COND = re.compile(r"^\(?\s*([A-Za-z_][\w.]*)\s*(>=|<=|!=|=|>|<)\s*(.+?)\s*\)?$")
_IN = re.compile(r"^\(?\s*([A-Za-z_][\w.]*)\s+IN\s*\((.*)\)\s*\)?$", re.IGNORECASE)
_SOQL = re.compile(r"^SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER BY\s+(.+?))?(?:\s+LIMIT\s+(\d+))?$",
                   re.IGNORECASE | re.DOTALL)


def _literal(v: str):
    v = v.strip()
    if v.startswith("'") and v.endswith("'"):
        return v[1:-1].replace("\\'", "'")
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    if v.lower() == "null":
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}T", v):
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    return float(v)


def _as_time(v):
    if v is None:
        return None
    if isinstance(v, datetime):
        return v
    s = str(v)
    if len(s) == 10:
        return datetime.fromisoformat(s).replace(tzinfo=UTC)
    if s[-5] in "+-":
        s = s[:-2] + ":" + s[-2:]
    return datetime.fromisoformat(s)


def _compare(got, op: str, want) -> bool:
    if op == "=":
        return got == want
    if op == "!=":
        return got != want
    if got is None:
        return False
    return {">=": got >= want, ">": got > want, "<=": got <= want, "<": got < want}[op]


class MockSalesforce:
    """Salesforce on https://127.0.0.1 (see the module docstring)."""

    def __init__(self, w: World, folder: Path, token: str = "00Dxx0000001gPL!AQ4AQFake", daily_limit: int = 15000):
        self.data = from_world(w)
        self.token = token
        self.used, self.total = 0, daily_limit
        self.down_after: int | None = None
        self.requests: list[dict] = []
        self.cursors: dict[str, list[dict]] = {}
        self.stuck_cursor = False  # every page says "not done, next: this same page" (a CRM bug)
        self.lock = threading.Lock()
        self.cert, key = self_signed(folder)
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):  # noqa: N802
                status, body = mock.answer(self.path, dict(self.headers))
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("Sforce-Limit-Info", f"api-usage={mock.used}/{mock.total}")
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def touch(self, obj: str, rid: str, **fields):
        """Change a record now (its SystemModstamp moves past every other)."""
        with self.lock:
            latest = max(r["_modified"] for t in self.data.values() for r in t.values())
            rec = self.data[obj].setdefault(rid, {"_modified": latest})
            rec.update(fields)
            rec["_modified"] = latest + timedelta(seconds=1)

    def queries(self, obj: str | None = None) -> list[dict]:
        return [r for r in self.requests if r.get("soql") and (obj is None or f" FROM {obj}" in r["soql"])]

    # ------------------------------------------------------------------ the API
    def answer(self, path: str, headers: dict) -> tuple[int, object]:
        with self.lock:
            url = urlparse(path)
            entry = {"path": url.path, "status": 200}
            self.requests.append(entry)
            auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            if auth != f"Bearer {self.token}":
                entry["status"] = 401
                return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            if self.down_after is not None:
                if self.down_after <= 0:
                    entry["status"] = 503
                    return 503, [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
                self.down_after -= 1
            self.used += 1
            if self.used > self.total:
                entry["status"] = 403
                return 403, [{"message": f"TotalRequests Limit exceeded. Limit: {self.total}",
                              "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
            prefix = f"/services/data/v{VERSION}/query"
            if not url.path.startswith(prefix):
                entry["status"] = 404
                return 404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
            opts = {k.lower(): v for k, v in headers.items()}.get("sforce-query-options", "")
            m = re.search(r"batchSize=(\d+)", opts)
            batch = int(m.group(1)) if m else 2000
            rest = url.path[len(prefix):].strip("/")
            if rest:  # a nextRecordsUrl
                cid, _, offset = rest.rpartition("-")
                if cid not in self.cursors:
                    entry["status"] = 400
                    return 400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
                return 200, self._page(cid, int(offset), batch)
            soql = (parse_qs(url.query).get("q") or [""])[0]
            entry["soql"] = soql
            try:
                rows = self._select(soql)
            except ValueError as exc:
                entry["status"] = 400
                return 400, [{"message": str(exc), "errorCode": "INVALID_FIELD" if "No such column" in str(exc)
                              else "MALFORMED_QUERY"}]
            cid = f"01gXX{len(self.cursors):010d}"
            self.cursors[cid] = rows
            return 200, self._page(cid, 0, batch)

    def _page(self, cid: str, offset: int, batch: int) -> dict:
        rows = self.cursors[cid]
        chunk = rows[offset:offset + batch]
        done = offset + batch >= len(rows)
        out = {"totalSize": len(rows), "done": done, "records": chunk}
        if not done:
            out["nextRecordsUrl"] = f"/services/data/v{VERSION}/query/{cid}-{offset + batch}"
        if self.stuck_cursor and chunk:
            out["done"], out["nextRecordsUrl"] = False, f"/services/data/v{VERSION}/query/{cid}-{offset}"
        return out

    def _select(self, soql: str) -> list[dict]:
        m = _SOQL.match(soql.strip())
        if not m:
            raise ValueError(f"unexpected token in: {soql[:80]}")
        fields = [f.strip() for f in m.group(1).split(",")]
        obj = m.group(2)
        if obj not in self.data:
            raise ValueError(f"sObject type '{obj}' is not supported.")
        known = {"Id", "SystemModstamp"} | {k for r in self.data[obj].values() for k in r if not k.startswith("_")}
        for f in fields:
            if f not in known:
                raise ValueError(f"No such column '{f}' on entity '{obj}'.")
        conds = [c.strip() for c in re.split(r"\s+AND\s+", m.group(3) or "", flags=re.IGNORECASE) if c.strip()]

        def value(rid: str, rec: dict, f: str):
            if f == "Id":
                return rid
            if f == "SystemModstamp":
                return rec["_modified"]
            return rec.get(f)

        def keep(rid: str, rec: dict) -> bool:
            for c in conds:
                mi = _IN.match(c)
                if mi:
                    allowed = {_literal(x) for x in mi.group(2).split(",")}
                    if value(rid, rec, mi.group(1)) not in allowed:
                        return False
                    continue
                mc = _COND.match(c)
                if not mc:
                    raise ValueError(f"unexpected condition: {c}")
                got, op, want = value(rid, rec, mc.group(1)), mc.group(2), _literal(mc.group(3))
                if isinstance(want, datetime):
                    got = _as_time(got)
                    if got is None:
                        return False
                if not _compare(got, op, want):
                    return False
            return True

        hits = [(rid, rec) for rid, rec in self.data[obj].items() if keep(rid, rec)]
        hits.sort(key=lambda x: (x[1]["_modified"], x[0]))
        out = []
        for rid, rec in hits:
            row: dict = {"attributes": {"type": obj, "url": f"/services/data/v{VERSION}/sobjects/{obj}/{rid}"}}
            for f in fields:
                v = value(rid, rec, f)
                if isinstance(v, datetime):
                    v = _stamp(v)
                elif isinstance(v, dt.date):
                    v = v.isoformat()
                if f == "SystemModstamp" and rec.get("_raw_modified"):
                    v = rec["_raw_modified"]  # a garbled time, as a broken integration might write it
                if "." in f:
                    rel, sub = f.split(".", 1)
                    row.setdefault(rel, {"attributes": {"type": "User"}})[sub] = v
                else:
                    row[f] = v
            out.append(row)
        return out
