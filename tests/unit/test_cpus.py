"""The default thread count: the CPUs this process may use, capped by a container's quota."""

import os

from core import cpus


def _cgroup(tmp_path, v2=None, v1=None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    if v2 is not None:
        (tmp_path / "cpu.max").write_text(v2)
    if v1 is not None:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(str(v1[0]))
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(str(v1[1]))
    return tmp_path


def test_a_container_quota_caps_the_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    assert cpus.available_cpus(_cgroup(tmp_path / "a", v2="150000 100000")) == 2  # 1.5 CPUs: round up
    assert cpus.available_cpus(_cgroup(tmp_path / "b", v2="max 100000")) == 64
    assert cpus.available_cpus(_cgroup(tmp_path / "c", v1=(100000, 100000))) == 1
    assert cpus.available_cpus(_cgroup(tmp_path / "d", v1=(-1, 100000))) == 64
    assert cpus.available_cpus(tmp_path / "nothing") == 64


def test_affinity_caps_too_and_a_setting_wins(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert cpus.available_cpus(_cgroup(tmp_path / "a", v2="800000 100000")) == 2
    assert cpus.threads(3) == 3
    assert cpus.threads(0) == cpus.available_cpus()


def test_the_embedder_runs_one_thread_by_default_and_the_chat_model_every_cpu(monkeypatch):
    """One short text per call: a second thread barely helps and, on busy cores, costs several times over."""
    from core.settings import load_settings
    from integrations.embeddings import LlamaCppEmbedding

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    s = load_settings()
    assert cpus.threads(s.embedding.n_threads) == 1 and cpus.threads(s.llm.n_threads) == cpus.available_cpus()
    assert LlamaCppEmbedding("x.gguf").n_threads == 1
