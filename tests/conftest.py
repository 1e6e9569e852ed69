import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from pg_server import PgServer

from core.settings import load_settings
from retain import demo
from tools import renewal_model
from tools.services import Services

TODAY = date(2026, 11, 23)

# The suite never touches a database (or config) named in the environment: it may be production's.
# This runs when pytest loads this file, before any fixture, so even session fixtures that seed a
# demo portfolio write only to their own temporary SQLite files, or, when RETAIN_TEST_DATABASE_URL
# names a PostgreSQL server, to databases the suite creates there for itself (one per test).
for _var in ("RETAIN_DATABASE_URL", "RETAIN_CONFIG", "RETAIN_CLI_USER"):
    os.environ.pop(_var, None)
PG = PgServer(os.environ["RETAIN_TEST_DATABASE_URL"]) if os.environ.get("RETAIN_TEST_DATABASE_URL") else None


def pytest_report_header(config):
    return f"retain store: {'PostgreSQL ' + PG.server if PG else 'SQLite files'}"


def pytest_terminal_summary(terminalreporter):
    """One line per test model that could not be had (its tests were skipped): which, why and how to get it."""
    from models_dir import MISSING

    for why in MISSING.values():
        terminalreporter.write_line(f"MODEL MISSING: {why}", yellow=True)


def seeded_copy(seeded_dir: Path, dest: Path) -> str:
    """Copy the seeded demo to `dest`; on PostgreSQL also its database. The copy's database_url ("" on SQLite)."""
    shutil.copytree(seeded_dir, dest, dirs_exist_ok=True)
    if not PG:
        return ""
    name = PG.name_for(str(dest))
    PG.create(name, template=PG.seed)
    PG.extra.append(name)
    return PG.url(name)


@pytest.fixture
def db_name(request) -> str | None:
    """This test's own database on the PostgreSQL server (None on SQLite, where the data dir holds it)."""
    return PG.name_for(request.node.nodeid) if PG else None


@pytest.fixture(scope="session")
def vector_cache(tmp_path_factory) -> Path:
    """One embedding cache for the whole session: a text is embedded once, whichever test copies the data."""
    return tmp_path_factory.mktemp("vectors") / "embedding_cache.sqlite"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, vector_cache, db_name):
    """Every test gets its own data directory (and database), a fixed 'today' and the session's vector cache."""
    monkeypatch.setenv("RETAIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RETAIN_EMBEDDING__CACHE_FILE", str(vector_cache))
    monkeypatch.setenv("RETAIN_TODAY", TODAY.isoformat())
    for var in ("RETAIN_CONFIG", "RETAIN_CLI_USER", "RETAIN_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    if PG and db_name:
        PG.create(db_name)
        monkeypatch.setenv("RETAIN_DATABASE_URL", PG.url(db_name))
    yield tmp_path
    if PG and db_name:
        PG.drop(db_name)


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory) -> Path:
    """A demo portfolio (150 accounts, seed 7) seeded once, with its fitted model."""
    d = tmp_path_factory.mktemp("seeded")
    extra = {}
    if PG:
        PG.create(PG.seed)
        extra["database_url"] = PG.url(PG.seed)
    rt = Services(load_settings(data_dir=str(d), today=TODAY.isoformat(), **extra))
    demo.write(rt.store, demo.generate(150, 7, TODAY))
    renewal_model.save(renewal_model.fit(rt.store, rt.card), rt.model_file)
    rt.store.engine.dispose()
    yield d
    if PG:
        for name in [*PG.extra, PG.seed]:
            PG.drop(name)


@pytest.fixture
def rt(seeded_dir, tmp_path, db_name) -> Services:
    """A services over a private copy of the seeded demo (files, and on PostgreSQL its database)."""
    d = tmp_path / "demo"
    shutil.copytree(seeded_dir, d)
    extra = {}
    if PG and db_name:
        PG.create(db_name, template=PG.seed)
        extra["database_url"] = PG.url(db_name)
    return Services(load_settings(data_dir=str(d), today=TODAY.isoformat(), **extra))


SLACK_SECRET = "test-signing-secret"


@pytest.fixture
def slack(rt):
    """The real Bolt app in HTTP mode on 127.0.0.1, answering in-process, against a mock Web API."""
    from mock_slack import MockSlack

    from agents.assistant import Assistant
    from integrations.slack.http import serve_http
    from retain.actions import Delivery
    from retain.slack.app import RetainSlack

    mock = MockSlack()
    settings = load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today, slack={
        "mode": "http", "bot_token": "xoxb-test", "signing_secret": SLACK_SECRET, "base_url": mock.url,
        "post_interval_s": 0, "workers": 4})
    services = Services(settings)
    bot = RetainSlack(services, Assistant(services, use_memory=False, actions=Delivery(services)))
    server = serve_http(bot.app, "127.0.0.1", 0)
    yield bot, mock, f"http://127.0.0.1:{server.server_port}/slack/events"
    bot.close()
    server.shutdown()
    mock.close()


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """The real `retain` entry point, in-process (a fresh invocation each call): (exit code, stdout, stderr)."""
    from retain import cli
    from retain.cli import common

    monkeypatch.setenv("COLUMNS", "200")

    def run(*args, env_extra=None):
        for k, v in (env_extra or {}).items():
            monkeypatch.setenv(k, v)
        common.state.services, common.state.who, common.state.config = None, None, None
        monkeypatch.setattr("sys.argv", ["retain", *args])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as done:
            code = done.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
