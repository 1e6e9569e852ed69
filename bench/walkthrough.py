"""The README's production section, replayed end to end as an operator would, with the faults production has.

From nothing: a PostgreSQL 15 server of its own (initdb'd in a temporary folder, Debian's binaries),
the role and database, the schema from the first command (and from three commands at once on a
second database), people first, then accounts with `--mapping salesforce` (a Salesforce-shaped
export of the demo), then every other kind; the renewal model and scores; a `chroma run` server;
`retain models serve` with SmolLM2 from RETAIN_MODELS_DIR; `retain memory sync`; three
`retain serve --http` workers (the first runs the scheduler). Slack is played on 127.0.0.1: signed
Events API deliveries, redelivered to the next worker until acked (tests/fault_rig.py), and the
recording Web API (tests/mock_slack.py), read back as the person sees each DM thread. Then, each
with questions arriving: PostgreSQL stopped for a few seconds, kill -9 of a worker and of an
answering child, a second scheduler, Chroma down, the LLM server down, a CSM's timezone change,
and backup and restore as the README says. Every step prints the command, what it printed
(trimmed), seconds and load; at the end one line per check, and exit 1 if any failed.

    RETAIN_MODELS_DIR=../shared/models python -m bench.walkthrough [--out walkthrough.md]

It takes about 15 minutes on 2 busy cores and stops everything it started.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "walkthrough-secret"
SF = {"external_id": "Account ID", "name": "Account Name", "domain": "Website", "industry": "Industry",
      "segment": "Segment__c", "arr": "ARR__c", "owner_email": "Owner Email",
      "lifecycle_stage": "Lifecycle_Stage__c", "created_on": "CreatedDate"}
KINDS = ["contacts", "contracts", "tickets", "notes", "nps", "telemetry", "fine_tunes", "plans", "milestones",
         "renewals"]
DANA = "dana.reyes@retain.example"


def _load(name: str) -> ModuleType:
    tests = ROOT / "tests"
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    spec = importlib.util.spec_from_file_location(name, tests / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load_avg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


class Walk:
    """The operator's shell: each command run, its output kept (trimmed), timed; checks recorded."""

    def __init__(self, out: Path | None):
        self.out = out
        self.lines: list[str] = []
        self.checks: list[tuple[str, bool, str]] = []
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = str(ROOT) + (os.pathsep + self.env["PYTHONPATH"] if self.env.get("PYTHONPATH")
                                              else "")
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.procs: list[subprocess.Popen] = []

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)

    def run(self, cmd: str, keep: int = 12, timeout: float = 900, env: dict[str, str] | None = None,
            show: str | None = None) -> tuple[int, str]:
        """Run `cmd` in bash from the repository (`retain` is this checkout's); show it, trimmed, with seconds."""
        t0 = time.time()
        shell = f"retain() {{ {sys.executable} -m retain \"$@\"; }}; {cmd}"
        r = subprocess.run(["bash", "-c", shell], cwd=ROOT, env=env or self.env, capture_output=True, text=True,
                           timeout=timeout)
        out = (r.stdout + r.stderr).rstrip()
        lines = out.splitlines()
        shown = lines[:keep] + ([f"... ({len(lines)} lines)"] if len(lines) > keep else [])
        self.say(f"$ {show or cmd}\n" + "\n".join(shown) +
                 f"\n# exit {r.returncode}, {time.time() - t0:.1f} s, load {_load_avg()}\n")
        return r.returncode, out

    def start(self, cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        p = subprocess.Popen(cmd, cwd=ROOT, env=env or self.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append((name, ok, detail))
        self.say(f"CHECK {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    def finish(self) -> int:
        failed = [c for c in self.checks if not c[1]]
        self.say(f"\n{len(self.checks) - len(failed)} of {len(self.checks)} checks passed")
        if self.out:
            self.out.write_text("```\n" + "\n".join(self.lines) + "\n```\n")
        return 1 if failed else 0


def _table(out: str) -> list[list[str]]:
    """The rows of a printed table, as cells."""
    return [[c.strip() for c in line.split("│")] for line in out.splitlines() if line.count("│") > 2]


def _wait_http(url: str, timeout: float = 180) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def setup(w: Walk, pg: Any, tmp: Path) -> str:
    """Steps 1-3 of the README: database, schema, data, model, scores. Returns the operator's database URL."""
    psql = f"{pg.bin}/psql -h 127.0.0.1 -p {pg.port} -U postgres"
    w.say("## 1. PostgreSQL: a database and a role")
    w.run(f"{psql} -c \"CREATE ROLE retain LOGIN PASSWORD 'change-me'\" -c \"CREATE DATABASE retain OWNER retain\"")
    url = f"postgresql+psycopg://retain:change-me@127.0.0.1:{pg.port}/retain"
    w.env |= {"RETAIN_DATABASE_URL": url, "RETAIN_DATA_DIR": str(tmp / "data")}

    w.say("## 2. The operator's files: the demo CRM exported, accounts in a Salesforce report's headers")
    side = {**w.env, "RETAIN_DATABASE_URL": "", "RETAIN_DATA_DIR": str(tmp / "side")}
    side.pop("RETAIN_DATABASE_URL")
    w.run(f"retain demo seed && retain export {tmp}/export", keep=4, env=side)
    shutil.copy(tmp / "export" / "csms.csv", tmp / "people.csv")
    rows = list(csv.DictReader((tmp / "export" / "accounts.csv").open()))
    with (tmp / "accounts.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[SF[k] for k in rows[0]])
        writer.writeheader()
        writer.writerows({SF[k]: v for k, v in r.items()} for r in rows)

    w.say("## Schema from nothing, three commands at once (another database)")
    w.run(f"{psql} -q -c 'CREATE DATABASE conc OWNER retain'")
    conc = url.rsplit("/", 1)[0] + "/conc"
    rc, out = w.run(" & ".join(f"RETAIN_DATABASE_URL={conc} RETAIN_DATA_DIR={tmp}/conc{i} "
                               f"retain csms import {tmp}/people.csv" for i in range(3)) + " & wait; "
                    f"{psql} -d conc -Atc 'select version_num from alembic_version' -c 'select count(*) from csms'")
    w.check("three first commands at once on an empty database", out.count("9 added") == 1 and
            out.rstrip().endswith("\n9"), "one added the 9 people, the schema once")

    w.say("## 2. Schema and data, the README's way (people first)")
    rc, out = w.run(f"retain csms import {tmp}/people.csv")
    w.check("csms import creates the schema and adds the people", rc == 0 and "9 added" in out)
    rc, out = w.run(f"retain accounts && retain --as {DANA} ask 'how is Acme doing?'", keep=8)
    w.check("people and no accounts: accounts and ask answer", rc == 0 and "Traceback" not in out)
    rc, out = w.run(f"retain import file --kind accounts {tmp}/accounts.csv --mapping salesforce")
    w.check("accounts with --mapping salesforce", rc == 0 and "187 added" in out)
    rc, out = w.run("; ".join(f"retain import file --kind {k} {tmp}/export/{k}.csv" for k in KINDS), keep=12)
    w.check("every other kind imported", rc == 0 and out.count("added") == len(KINDS))
    rc, out = w.run(f"retain import all {tmp}/export", keep=20)
    changed = [r[1] for r in _table(out) if len(r) > 4 and (r[3] != "0" or r[4] != "0")]
    w.check("re-importing everything changes nothing", rc == 0 and not changed, f"changed: {changed}")
    rc, out = w.run("retain model fit && retain scores", keep=6)
    w.check("model fit and scores", rc == 0)
    return url


def servers(w: Walk, tmp: Path, model: Path) -> tuple[subprocess.Popen, subprocess.Popen,
                                                      tuple[list[str], list[str]]]:
    """Step 3: the Chroma server and the LLM server; memory sync."""
    w.say("## 3. Chroma server and an LLM server")
    cport, lport = _port(), _port()
    chroma_cmd = ["chroma", "run", "--path", str(tmp / "chroma"), "--host", "127.0.0.1", "--port", str(cport)]
    llm_cmd = [sys.executable, "-m", "retain", "models", "serve", str(model), "--host", "127.0.0.1", "--port",
               str(lport)]
    t0 = time.time()
    chroma = w.start([str(Path(sys.executable).parent / "chroma"), *chroma_cmd[1:]], tmp / "chroma.log")
    llm = w.start(llm_cmd, tmp / "llm.log")
    up = _wait_http(f"http://127.0.0.1:{cport}/api/v2/heartbeat") and _wait_http(
        f"http://127.0.0.1:{lport}/v1/models")
    w.say(f"$ {' '.join(chroma_cmd)} &\n$ retain models serve {model} --host 127.0.0.1 --port {lport} &\n"
          f"# both answering after {time.time() - t0:.1f} s\n")
    w.check("chroma run and retain models serve come up", up)
    w.env |= {"RETAIN_MEMORY__MODE": "http", "RETAIN_MEMORY__HOST": "127.0.0.1", "RETAIN_MEMORY__PORT": str(cport),
              "RETAIN_LLM__BACKEND": "openai", "RETAIN_LLM__BASE_URL": f"http://127.0.0.1:{lport}/v1"}
    rc, out = w.run("retain memory sync", keep=12)
    w.check("memory sync into the Chroma server", rc == 0 and "accounts" in out)
    return chroma, llm, (chroma_cmd, llm_cmd)


QUESTIONS = ["who is the champion at {a}?", "when does {a} renew?", "how is {a} doing?",
             "any open tickets at {a}?"]


def _Questions(rig: ModuleType, pairs: list[tuple[str, str]], urls: list[str], give_up_s: float) -> Any:  # noqa: N802
    """fault_rig's Slack Events side, each DM from a CSM about one of their own accounts."""

    class Questions(rig.SlackEvents):  # type: ignore[name-defined,misc]
        def body(self, k: int) -> str:
            eid, channel, ts = self.where(k)
            user, account = pairs[k % len(pairs)]
            ev = {"type": "message", "channel_type": "im", "user": user, "channel": channel,
                  "text": QUESTIONS[k % len(QUESTIONS)].format(a=account), "ts": ts}
            return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": ev,
                               "event_id": eid, "event_time": int(time.time())})

    return Questions(urls, SECRET, give_up_s=give_up_s)


class Fleet:
    """The three workers of step 4, as `retain serve --http --port P [--no-scheduler]` processes."""

    def __init__(self, w: Walk, rig: ModuleType, mock: Any):
        self.w, self.rig, self.mock = w, rig, mock
        self.env = {**w.env, "RETAIN_SLACK__BOT_TOKEN": "xoxb-walkthrough", "RETAIN_SLACK__SIGNING_SECRET": SECRET,
                    "RETAIN_LOG__FORMAT": "json", "RETAIN_SLACK__BASE_URL": mock.url,
                    "RETAIN_SLACK__POST_INTERVAL_S": "0", "RETAIN_SLACK__LEASE_S": "20"}
        self.workers: list[Any] = []
        self.k = 0
        self.pairs: list[tuple[str, str]] = []  # (Slack user id, an account they own)
        self.logs: Path | None = None

    def add(self, scheduler: bool, name: str) -> Any:
        args = ["--port", str(_port())] + ([] if scheduler else ["--no-scheduler"])
        t0 = time.time()
        worker = self.rig.Worker(self.env, name, args=args)
        worker.wait_ready(300)
        self.w.say(f"$ retain serve --http {' '.join(args)}   # {name}: ready after {time.time() - t0:.1f} s")
        self.workers.append(worker)
        return worker

    def urls(self) -> list[str]:
        return [x.url for x in self.workers if x.proc.poll() is None]

    def ask(self, n: int, during: Callable[[], None] | None = None, timeout: float = 400) -> tuple[bool, str]:
        """`n` DMs from the CSMs, each until acked (next worker on a failure); `during` runs meanwhile."""
        ks = list(range(self.k, self.k + n))
        self.k += n
        slack = _Questions(self.rig, self.pairs, self.urls(), timeout)
        t0 = time.time()
        for k in ks:
            slack.send(k)
            time.sleep(0.2)
        if during:
            during()
        slack.all_acked(timeout)
        try:
            self.rig.wait_answered(self.mock, ks, timeout=timeout)
        except AssertionError as e:
            return False, str(e).splitlines()[0]
        bad = self.rig.exactly_once(self.mock, ks)
        first = self.rig.seen(self.mock, ks[0])[0]["text"].splitlines()[0][:100]
        return not bad, (f"{n} questions, {n - len(bad)} answered exactly once, {slack.retries} redeliveries, "
                         f"all answered after {time.time() - t0:.1f} s; the first person saw: {first!r}"
                         + (f"; not once: {bad}" if bad else ""))

    def ready(self) -> list[tuple[int, str]]:
        return [(s, b.get("status", "")) for s, b in (x.readyz() for x in self.workers if x.proc.poll() is None)]

    def stop(self) -> None:
        for x in self.workers:
            x.stop()
            if self.logs is not None:  # each worker's JSON log lines, kept with --keep
                (self.logs / f"{x.name.replace(' ', '-')}.log").write_text("".join(x.lines))


def slack_faults(w: Walk, fleet: Fleet, pg: Any, chroma: subprocess.Popen, llm: subprocess.Popen,
                 cmds: tuple[list[str], list[str]], tmp: Path) -> None:
    """Step 4 and the faults, each with questions arriving."""
    rig = fleet.rig
    chroma_cmd, llm_cmd = cmds
    psql = f"{pg.bin}/psql -h 127.0.0.1 -p {pg.port} -U postgres"
    rc, out = w.run(f"{psql} -d retain -Atc \"SELECT c.slack_user_id || ' ' || a.name FROM accounts a JOIN csms c "
                    "ON c.id = a.owner_id WHERE c.role = 'csm' AND a.id IN (SELECT account_id FROM contracts) "
                    "ORDER BY a.id\"", keep=3)
    fleet.pairs = [(line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in out.splitlines() if " " in line]
    w.say("## 4. Three workers, the first with the scheduler")
    a = fleet.add(True, "worker 1")
    fleet.add(False, "worker 2")
    fleet.add(False, "worker 3")
    w.check("three workers ready", [s for s, _ in fleet.ready()] == [200, 200, 200], str(fleet.ready()))
    ok, detail = fleet.ask(30)
    w.check("30 DMs over three workers", ok, detail)
    w.run(f"{psql} -Atc \"SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = 'retain' "
          "GROUP BY 1\"", keep=4)
    moved = timezone_change(w, psql)

    w.say("## Fault: PostgreSQL stopped 5 s while questions arrive")
    def restart() -> None:
        pg.stop("fast")
        seen = fleet.ready()
        time.sleep(5)
        pg.start()
        w.say(f"readiness while down: {seen}")
    ok, detail = fleet.ask(20, restart)
    w.check("PostgreSQL restart: every question answered once, no worker restarted by hand", ok and all(
        x.proc.poll() is None for x in fleet.workers), detail)

    w.say("## Fault: kill -9 of an answering child")
    c = fleet.workers[2]
    child = c.answering_pid()
    def kill_child() -> None:
        rig.kill_9(child)
        t0, seen = time.time(), list[int]()
        while time.time() < t0 + 90 and (503 not in seen or seen[-1] != 200):
            seen.append(c.readyz()[0])
            time.sleep(0.2)
        down = seen.index(503) * 0.2 if 503 in seen else None
        w.say(f"worker 3 /readyz after the kill: 503 from {down} s, 200 again after {time.time() - t0:.1f} s")
    ok, detail = fleet.ask(10, kill_child)
    c.wait_ready(120)
    w.check("child killed: restarted by its serve, questions answered once", ok and c.child_pid() not in (None, child),
            detail)

    w.say("## Fault: kill -9 of a whole worker (front end and child), then the operator restarts it")
    b = fleet.workers[1]
    bchild = b.answering_pid()
    def kill_worker() -> None:
        rig.kill_9(b.proc.pid)
        rig.kill_9(bchild)
    ok, detail = fleet.ask(10, kill_worker)
    w.check("worker killed: the others answer everything once", ok, detail)
    fleet.workers.remove(b)
    fleet.add(False, "worker 2 again")
    ok, detail = fleet.ask(6)
    w.check("restarted worker answers", ok, detail)

    w.say("## Fault: a second scheduler")
    rc, out = w.run("timeout 120 retain scheduler", keep=4, env=fleet.env)
    w.check("`retain scheduler` beside worker 1's refuses", rc != 0 and "Another scheduler" in out)
    port = _port()
    rc, out = w.run(f"timeout 120 retain serve --http --port {port}", keep=4, env=fleet.env)
    w.check("a second `retain serve` without --no-scheduler refuses", rc != 0 and "Another scheduler" in out)

    w.say("## Fault: the Chroma server down")
    chroma.kill()
    chroma.wait()
    time.sleep(1)
    states = fleet.ready()
    ok, detail = fleet.ask(6)
    w.check("Chroma down: readiness 200 degraded, answers go on", ok and all(s == 200 for s, _ in states) and any(
        b == "degraded" for _, b in states), f"{states}; {detail}")
    w.start([str(Path(sys.executable).parent / "chroma"), *chroma_cmd[1:]], tmp / "chroma2.log")  # back
    _wait_http(f"http://127.0.0.1:{chroma_cmd[-1]}/api/v2/heartbeat")

    w.say("## Fault: the LLM server down")
    llm.kill()
    llm.wait()
    time.sleep(1)
    states = fleet.ready()
    ok, detail = fleet.ask(6)
    w.check("LLM server down: readiness 200 degraded, answers go on", ok and all(s == 200 for s, _ in states) and
            any(b == "degraded" for _, b in states), f"{states}; {detail}")
    w.start(llm_cmd, tmp / "llm2.log")
    _wait_http(f"{fleet.env['RETAIN_LLM__BASE_URL']}/models")
    deadline = time.time() + 60
    while time.time() < deadline and any(b != "ready" for _, b in fleet.ready()):
        time.sleep(1)
    w.check("ready again once Chroma and the LLM server are back", all(b == "ready" for _, b in fleet.ready()),
            str(fleet.ready()))
    moved()
    for x in fleet.workers:
        bad = rig.json_only(x)
        w.check(f"{x.name}: every log line one JSON object", not bad, "; ".join(bad[:2])[:300])
    del a


def timezone_change(w: Walk, psql: str) -> Callable[[], None]:
    """A CSM's timezone change; the returned check waits for the running scheduler to move the briefing."""
    w.say("## A CSM's timezone change (worker 1's scheduler re-reads its jobs every 5 minutes)")
    job = (f"{psql} -d retain -Atc \"SELECT to_timestamp(next_run_time) FROM apscheduler_jobs WHERE id = "
           f"'brief:csm:' || (SELECT id FROM csms WHERE email = '{DANA}')\"")
    _, before = w.run(job)
    w.run(f"retain csms add {DANA} --timezone Asia/Tokyo", keep=3)
    t0 = time.time()

    def moved() -> None:
        while True:  # read at least once, however late this is called
            after = subprocess.run(["bash", "-c", job], capture_output=True, text=True).stdout.strip()
            if after != before or time.time() > t0 + 400:
                break
            time.sleep(5)
        w.check("the running scheduler moved Dana's briefing", after != before,
                f"next run {before} -> {after}, {time.time() - t0:.0f} s after the change")

    return moved


def backup_restore(w: Walk, pg: Any, tmp: Path, url: str) -> None:
    w.say("## Backups: pg_dump, restore into a new database, then over the old one")
    base = f"-h 127.0.0.1 -p {pg.port} -U postgres"
    count = (f"{pg.bin}/psql {base} -Atc 'select count(*) from accounts' -c 'select count(*) from csms' "
             "-c 'select count(*) from slack_inbox' -d")
    rc, live = w.run(f"{count} retain")
    w.run(f"{pg.bin}/pg_dump {base} -Fc retain > {tmp}/retain.dump && ls -la {tmp}/retain.dump")
    rc, out = w.run(f"{pg.bin}/createdb {base} -O retain retain_restored && {pg.bin}/pg_restore {base} "
                    f"-d retain_restored {tmp}/retain.dump; echo restore-exit $?; {count} retain_restored")
    w.check("restore into a new empty database", rc == 0 and "restore-exit 0" in out and out.endswith(live), out[-80:])
    rc, out = w.run(f"{pg.bin}/psql {base} -d retain_restored -c 'DELETE FROM scheduler_lease'")
    restored = {**w.env, "RETAIN_DATABASE_URL": url.rsplit("/", 1)[0] + "/retain_restored"}
    rc, out = w.run("retain scores --refresh && retain accounts --band red | tail -n 3", keep=8, env=restored)
    w.check("scores on the restored database", rc == 0)
    rc, out = w.run(f"{pg.bin}/pg_restore {base} --clean --if-exists -d retain {tmp}/retain.dump; "
                    f"echo restore-exit $?; {count} retain", keep=6)
    w.check("restore over the old database with --clean --if-exists (workers stopped)", rc == 0 and
            "restore-exit 0" in out and out.endswith(live), out[-80:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="also write the transcript to this file (markdown)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) at the end")
    args = ap.parse_args()
    models = Path(os.environ.get("RETAIN_MODELS_DIR") or ROOT.parent / "shared" / "models")
    model = models / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not model.exists():
        print(f"error: {model} is missing (RETAIN_MODELS_DIR names the folder with SmolLM2)", file=sys.stderr)
        return 2
    pg_instance, rig, mock_slack = _load("pg_instance"), _load("fault_rig"), _load("mock_slack")
    tmp = Path(tempfile.mkdtemp(prefix="retain-walk."))
    w = Walk(args.out)
    pg = pg_instance.PgInstance()
    mock = mock_slack.MockSlack()
    fleet = None
    try:
        w.say(f"# Walkthrough on {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load {_load_avg()}")
        url = setup(w, pg, tmp)
        chroma, llm, cmds = servers(w, tmp, model)
        fleet = Fleet(w, rig, mock)
        fleet.logs = tmp
        slack_faults(w, fleet, pg, chroma, llm, cmds, tmp)
        fleet.stop()
        fleet = None
        backup_restore(w, pg, tmp, url)
    except Exception as e:  # noqa: BLE001 - the transcript says where it stopped
        w.check("walkthrough ran to the end", False, f"{type(e).__name__}: {str(e)[:2000]}")
    finally:
        if fleet is not None:
            fleet.stop()
        for p in w.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        mock.close()
        pg.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs kept in {tmp}")
    return w.finish()


if __name__ == "__main__":
    sys.exit(main())
