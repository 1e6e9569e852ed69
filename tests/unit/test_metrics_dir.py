"""Each `retain serve` keeps its metrics in data/metrics/<pid>: removed at exit, dead servers' at start."""

import os
import subprocess
import sys


def test_a_servers_metrics_folder_goes_at_exit_and_dead_servers_folders_go_at_start(tmp_path):
    metrics = tmp_path / "metrics"
    dead, live = metrics / "999999999", metrics / str(os.getpid())  # no such process; this one
    for d in (dead, live):
        d.mkdir(parents=True)
        (d / "counter_1.db").write_bytes(b"x")
    code = ("import os, sys; from pathlib import Path; from core.metrics import use_dir, metrics; "
            "d = Path(sys.argv[1]) / str(os.getpid()); use_dir(d); metrics().outbox_sent.inc(); "
            "assert any(d.iterdir()); print(d)")
    run = subprocess.run([sys.executable, "-c", code, str(metrics)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    own = run.stdout.strip()
    assert not dead.exists() and live.exists()  # a running process's folder is left alone
    assert not os.path.exists(own)  # and its own is gone once it exited
