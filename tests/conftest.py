import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from core.settings import load_settings
from retain import demo
from tools import renewal_model
from tools.services import Services

TODAY = date(2026, 11, 23)

# The suite never touches a database (or config) named in the environment: it may be production's.
# This runs when pytest loads this file, before any fixture, so even session fixtures that seed a
# demo portfolio write only to their own temporary SQLite files.
for _var in ("RETAIN_DATABASE_URL", "RETAIN_CONFIG", "RETAIN_CLI_USER"):
    os.environ.pop(_var, None)


@pytest.fixture(scope="session")
def vector_cache(tmp_path_factory) -> Path:
    """One embedding cache for the whole session: a text is embedded once, whichever test copies the data."""
    return tmp_path_factory.mktemp("vectors") / "embedding_cache.sqlite"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, vector_cache):
    """Every test gets its own data directory, a fixed 'today' and the session's vector cache."""
    monkeypatch.setenv("RETAIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RETAIN_EMBEDDING__CACHE_FILE", str(vector_cache))
    monkeypatch.setenv("RETAIN_TODAY", TODAY.isoformat())
    for var in ("RETAIN_CONFIG", "RETAIN_CLI_USER", "RETAIN_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory) -> Path:
    """A demo portfolio (150 accounts, seed 7) seeded once, with its fitted model."""
    d = tmp_path_factory.mktemp("seeded")
    rt = Services(load_settings(data_dir=str(d), today=TODAY.isoformat()))
    demo.write(rt.store, demo.generate(150, 7, TODAY))
    renewal_model.save(renewal_model.fit(rt.store, rt.card), rt.model_file)
    rt.store.engine.dispose()
    return d


@pytest.fixture
def rt(seeded_dir, tmp_path) -> Services:
    """A services over a private copy of the seeded demo."""
    d = tmp_path / "demo"
    shutil.copytree(seeded_dir, d)
    return Services(load_settings(data_dir=str(d), today=TODAY.isoformat()))


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
