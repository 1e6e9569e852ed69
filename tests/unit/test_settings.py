import pytest

from core.errors import ConfigError
from core.settings import load_settings


def test_defaults_come_from_default_yaml(monkeypatch):
    monkeypatch.delenv("RETAIN_DATABASE_URL", raising=False)  # set by the suite's PostgreSQL run
    s = load_settings()
    assert s.llm.backend == "llamacpp"
    assert s.memory.mode == "persistent"
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("retain.db")


def test_env_overrides_nested_and_top_level(monkeypatch):
    monkeypatch.setenv("RETAIN_LLM__N_CTX", "8192")
    monkeypatch.setenv("RETAIN_MODELS_DIR", "/models")
    s = load_settings()
    assert s.llm.n_ctx == 8192
    assert str(s.models_path) == "/models"


def test_config_file_then_env(tmp_path, monkeypatch):
    f = tmp_path / "c.yaml"
    f.write_text("llm:\n  max_tokens: 99\n  backend: none\n")
    assert load_settings(f).llm.max_tokens == 99
    monkeypatch.setenv("RETAIN_LLM__MAX_TOKENS", "77")
    s = load_settings(f)
    assert s.llm.max_tokens == 77 and s.llm.backend == "none"


def test_bad_setting_names_the_setting_and_what_is_allowed(tmp_path, monkeypatch):
    monkeypatch.setenv("RETAIN_LLM__BACKEND", "gpt5")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "llm.backend" in str(err.value)
    assert "llamacpp" in str(err.value) and "RETAIN_LLM__BACKEND" in str(err.value)


def test_unknown_key_and_bad_file(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("llm:\n  n_ctxx: 5\n")
    with pytest.raises(ConfigError, match="llm.n_ctxx"):
        load_settings(f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.yaml")


def test_bad_today(monkeypatch):
    monkeypatch.setenv("RETAIN_TODAY", "23/11/2026")
    with pytest.raises(ConfigError, match="today"):
        load_settings()
