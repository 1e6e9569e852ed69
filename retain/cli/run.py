"""`retain jobs`, `scheduler`, `serve`: the long-running processes."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC
from typing import Any

import typer

from core.errors import RetainError
from retain.cli.common import (
    DataTable,
    _print_json,
    app,
    assistant,
    console,
    services,
)

jobs_app = typer.Typer(help="Scheduled jobs.", invoke_without_command=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.callback()
def jobs_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """The scheduled jobs with their next run."""
    if ctx.invoked_subcommand:
        return
    from retain.jobs import scheduler

    sch = scheduler(services())
    sch.aps.start(paused=True)
    sch.sync_jobs()
    rows = [{"id": j.id, "name": j.name, **_next_run(j.next_run_time), "trigger": str(j.trigger)}
            for j in sch.aps.get_jobs()]
    sch.aps.shutdown(wait=False)
    if as_json:
        _print_json(rows)
        return
    t = DataTable(title="Scheduled jobs (configs/schedules.yaml)")
    for c in ("id", "name", "next run (its time zone; UTC)", "trigger"):
        t.add_column(c)
    for r in rows:
        when = f"{r['next_run_local']} {r['time_zone']} ({r['next_run_utc'][11:16]} UTC)" if r["next_run_utc"] else ""
        t.add_row(r["id"], r["name"], when, r["trigger"])
    console.print(t)


def _next_run(when: Any) -> dict[str, str]:
    """A job's next run as its own zone's wall time and as UTC (APScheduler keeps it in the trigger's zone)."""
    if when is None:
        return {"next_run_utc": "", "next_run_local": "", "time_zone": ""}
    return {"next_run_utc": when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "next_run_local": when.strftime("%Y-%m-%d %H:%M"), "time_zone": str(when.tzinfo)}


@jobs_app.command("run")
def jobs_run(name: str = typer.Argument(..., help="A job id from `retain jobs`, e.g. onboarding:sweep")) -> None:
    """Run one job now (its outbox keeps it from sending anything twice)."""
    from retain import jobs
    from retain.jobs import job_specs

    rt = services()
    spec = next((s for s in job_specs(rt.store, rt.settings) if s.id == name), None)
    if spec is None:
        raise RetainError(f"No job '{name}'. See `retain jobs`.")
    jobs.configure(rt)
    fn = getattr(jobs, spec.func.split(":")[1])
    _print_json(fn(*spec.args))


@app.command("scheduler")
def scheduler_cmd() -> None:
    """Run the scheduler alone (briefings, onboarding sweep, nightly, outbox); Ctrl-C to stop."""
    from core import logs
    from retain.jobs import scheduler

    stop = _on_sigterm()
    rt = services()
    logs.configure(rt.settings.log.format, rt.settings.log.level)
    sch = scheduler(rt)
    sch.on_lost = stop.set
    sch.start()
    _say(rt, f"Scheduler running ({len(sch.aps.get_jobs())} jobs, lease {sch.holder}).")
    _wait_until_stopped(stop)
    sch.shutdown()
    if sch.lost:
        raise RetainError("Another scheduler took the lease while this one could not renew it (the database was "
                          "unreachable), so this one stopped. Only one runs at a time; see `retain jobs`.")


def _say(rt: Any, line: str) -> None:
    """A start line: printed for people, or one JSON log record with `log.format: json`."""
    if rt.settings.log.format == "json":
        logging.getLogger("retain").info(line)
    else:
        console.print(line)


def _on_sigterm() -> threading.Event:
    """An event set by SIGTERM; installed before anything starts, so an early SIGTERM is not lost."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def _wait_until_stopped(stop: threading.Event | None = None) -> None:
    """Block until SIGTERM (the event from `_on_sigterm`) or Ctrl-C."""
    stop = stop or _on_sigterm()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


# ---------------------------------------------------------------- slack
@app.command("serve")
def serve_cmd(
    http: bool = typer.Option(False, "--http", help="HTTP mode (/slack/events) instead of slack.mode."),
    port: int | None = typer.Option(None, "--port", help="HTTP port (default slack.port)."),
    deterministic: bool = typer.Option(False, "--no-llm", help="Answer from the verified findings only."),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="Do not run the scheduler in this process."),
) -> None:
    """Run the Slack app and the scheduler (Socket Mode by default; HTTP mode with --http)."""
    import os

    from core import logs
    from core.metrics import use_dir as use_metrics_dir
    from integrations.slack.config import secrets
    from integrations.slack.http import OpsAccess, serve_http, serve_ops
    from retain.ops import readiness
    from retain.slack.app import RetainSlack

    stop = _on_sigterm()
    rt = services()
    logs.configure(rt.settings.log.format, rt.settings.log.level)
    use_metrics_dir(rt.settings.data_dir / "metrics" / str(os.getpid()))  # this server and its answering worker
    st = rt.settings.slack
    sec = secrets(rt.settings)
    mode = "http" if http else st.mode
    if not sec["bot_token"]:
        raise RetainError("No Slack bot token. Set RETAIN_SLACK__BOT_TOKEN (xoxb-...) or slack.secrets_file; "
                          "see the README's Slack section.")
    if mode == "http" and not sec["signing_secret"]:
        raise RetainError("HTTP mode needs the app's signing secret: set RETAIN_SLACK__SIGNING_SECRET.")
    if mode == "socket" and not sec["app_token"]:
        raise RetainError("Socket Mode needs an app-level token (xapp-...): set RETAIN_SLACK__APP_TOKEN, "
                          "or use --http.")
    bot = RetainSlack(rt, assistant(True), worker_process=True, deterministic=deterministic)
    pending = bot.inbox.recover()
    sch = None
    if not no_scheduler:
        from retain.jobs import scheduler

        sch = scheduler(rt)
        sch.start()
    _say(rt, f"Retain on Slack ({mode} mode); {pending} pending events resumed; scheduler "
             f"{'off' if sch is None else 'on'}.")
    try:
        def ready() -> tuple[bool, dict[str, Any]]:
            return readiness(rt, bot.answering)

        token = st.ops_token.get_secret_value()
        if mode == "http":
            server = serve_http(bot.app, st.host, st.port if port is None else port, ready,
                                OpsAccess.for_host(st.ops_host, token), workers=st.http_workers,
                                read_timeout_s=st.read_timeout_s)
            _say(rt, f"Listening on http://{st.host}:{server.server_port}/slack/events "
                     "(and /healthz, /readyz, /metrics)")
            _wait_until_stopped(stop)
            server.shutdown()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            ops = serve_ops(st.ops_host, st.ops_port, ready, token) if st.ops_port else None
            if ops is not None:
                _say(rt, f"Operations on http://{st.ops_host}:{ops.server_port}/healthz, /readyz, /metrics")
            handler = SocketModeHandler(bot.app, sec["app_token"])
            handler.connect()  # not start(): it blocks and ignores SIGTERM's clean-up
            try:
                _wait_until_stopped(stop)
            finally:
                handler.close()
                if ops is not None:
                    ops.shutdown()
    finally:
        bot.close()
        if sch is not None:
            sch.shutdown()
