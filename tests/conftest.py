import shutil
from datetime import date
from pathlib import Path

import pytest

from retain import demo
from retain.runtime import Runtime
from retain.settings import load_settings
from tools import renewal_model

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own data directory and a fixed 'today'."""
    monkeypatch.setenv("RETAIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RETAIN_TODAY", TODAY.isoformat())
    for var in ("RETAIN_CONFIG", "RETAIN_CLI_USER", "RETAIN_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory) -> Path:
    """A demo portfolio (150 accounts, seed 7) seeded once, with its fitted model."""
    d = tmp_path_factory.mktemp("seeded")
    rt = Runtime(load_settings(data_dir=str(d), today=TODAY.isoformat()))
    demo.write(rt.store, demo.generate(150, 7, TODAY))
    renewal_model.save(renewal_model.fit(rt.store, rt.card), rt.model_file)
    rt.store.engine.dispose()
    return d


@pytest.fixture
def rt(seeded_dir, tmp_path) -> Runtime:
    """A runtime over a private copy of the seeded demo."""
    d = tmp_path / "demo"
    shutil.copytree(seeded_dir, d)
    return Runtime(load_settings(data_dir=str(d), today=TODAY.isoformat()))
