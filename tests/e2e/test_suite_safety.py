"""The test suite itself never writes to the database the environment names (it may be production's)."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect


def test_the_suite_ignores_retain_database_url(tmp_path):
    prod = tmp_path / "production.sqlite"
    env = {**os.environ, "RETAIN_DATABASE_URL": f"sqlite:///{prod}"}
    tests = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(tests / "unit" / "test_store.py")], env=env, capture_output=True, text=True,
                       timeout=600, cwd=tests.parent)
    assert r.returncode == 0, r.stdout[-2000:]
    # The session fixture seeded a demo portfolio: it must have gone to its own temporary file.
    assert not prod.exists() or not inspect(create_engine(f"sqlite:///{prod}")).get_table_names()
