"""One typed settings object, read from configs/default.yaml, a --config file and RETAIN_* variables.

Precedence, lowest first: configs/default.yaml, the file named by --config (or RETAIN_CONFIG),
then environment variables (RETAIN_LLM__N_CTX=8192 sets llm.n_ctx).
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from configs import CONFIG_DIR
from core.errors import ConfigError, mask_secrets

_FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("retain_file_values", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """The merged YAML files, below environment variables in precedence."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_VALUES.get() or {})


class LLMSettings(BaseModel):
    """The chat model: where it runs and how much it may do per call."""

    model_config = {"extra": "forbid"}

    backend: Literal["llamacpp", "openai", "none"] = "llamacpp"
    model: str = "qwen2.5-3b-instruct"
    model_path: str = ""
    base_url: str = ""
    api_key: str = ""
    n_ctx: int = Field(4096, ge=256, le=131072)
    n_batch: int = Field(512, ge=8, le=8192)
    n_threads: int = Field(0, ge=0, le=512)
    max_tokens: int = Field(512, ge=1, le=32768)
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    timeout_s: float = Field(120, gt=0)
    # RAM for llama.cpp states after each call, so a prompt sharing a saved prefix reads only its new tokens.
    prompt_cache_mb: int = Field(256, ge=0, le=65536)
    # Prose is not asked for while the verifier rejected at least this share of the model's last
    # `prose_window` drafts (once it has judged `prose_min` of them); one answer in `prose_probe_every`
    # still tries, so a better prompt or model turns it back on. prose_off_at 1.01: never off.
    prose_off_at: float = Field(0.9, ge=0.0, le=1.01)
    prose_window: int = Field(50, ge=1, le=10000)
    prose_min: int = Field(20, ge=1, le=10000)
    prose_probe_every: int = Field(25, ge=0, le=100000)


class EmbeddingSettings(BaseModel):
    """The embedding model used for memory."""

    model_config = {"extra": "forbid"}

    model: str = "all-minilm-l6-v2"
    model_path: str = ""
    n_ctx: int = Field(256, ge=32, le=8192)
    # One text per call on a tiny model gains little from a second thread and loses much when the cores are
    # busy: `retain memory sync` of a 12-account demo with `yes` on both of 2 cores took 77 s at 1 thread
    # and 520 s at 2. 0: the CPUs this process may use (affinity and container quota).
    n_threads: int = Field(1, ge=0, le=512)
    cache_file: str = ""  # the vector cache; default data_dir/embedding_cache.sqlite (share one across data dirs)
    # Where vectors are cached: file (cache_file), database (the CRM database: one cache for every worker and
    # host), auto (the database when it is PostgreSQL, else the file).
    cache: Literal["auto", "file", "database"] = "auto"


class MemorySettings(BaseModel):
    """Where Chroma keeps the memory."""

    model_config = {"extra": "forbid"}

    mode: Literal["persistent", "http"] = "persistent"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    chunk_chars: int = Field(800, ge=100, le=8000)
    recency_half_life_days: float = Field(120, gt=0)


class SlackSettings(BaseModel):
    """The Slack app. Tokens come from the environment (RETAIN_SLACK__BOT_TOKEN, ...) or a secrets file."""

    model_config = {"extra": "forbid"}

    mode: Literal["socket", "http"] = "socket"
    bot_token: SecretStr = SecretStr("")
    app_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    secrets_file: str = ""
    base_url: str = "https://slack.com/api/"
    host: str = "0.0.0.0"  # noqa: S104 - HTTP mode listens where the operator says
    port: int = Field(3000, ge=1, le=65535)
    read_timeout_s: float = Field(10.0, gt=0, le=300)  # HTTP mode: a request must arrive whole this fast (else 408)
    http_workers: int = Field(8, ge=1, le=64)  # HTTP mode: threads that handle whole requests
    workers: int = Field(4, ge=1, le=64)
    post_interval_s: float = Field(1.0, ge=0, le=10)
    config_file: str = ""
    ops_port: int = Field(9100, ge=0, le=65535)  # Socket Mode: /healthz, /readyz, /metrics here (0: off)
    # Who reads /readyz and /metrics: 127.0.0.1 (this host only; Socket Mode binds the ops port here);
    # 0.0.0.0 or an interface's address lets others in (then set ops_token).
    ops_host: str = "127.0.0.1"
    ops_token: SecretStr = SecretStr("")  # set: /readyz and /metrics need "Authorization: Bearer <token>"
    lease_s: float = Field(120.0, ge=5, le=3600)  # a worker's claim on an inbox item, renewed while it runs
    worker_nice: int = Field(5, ge=0, le=19)  # the answering process runs this much nicer than the acking one


class MCPSettings(BaseModel):
    """`retain mcp --http`: where it listens, how often one token may call, Slack identity auth."""

    model_config = {"extra": "forbid"}

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)  # 0: any free port (tests)
    calls_per_hour: int = Field(600, ge=1)  # per token (or Slack user, or stdio person), refilled evenly
    burst: int = Field(30, ge=1)  # calls one token may make at once before the hourly rate applies
    slack_identity: bool = False  # accept Slackbot's signed requests (slack.signing_secret) as its user's identity
    slack_team_id: str = ""  # with slack_identity: only this workspace's users (empty: any team the secret signs)
    # Host names clients reach the server by (e.g. retain.yourco.com behind a TLS proxy): any other Host
    # header is refused (DNS-rebinding protection). Empty: the SDK's default (loopback only when bound there).
    public_hosts: list[str] = []


class HealthSettings(BaseModel):
    """The health scorecard file."""

    model_config = {"extra": "forbid"}

    config_file: str = ""


class LabelSettings(BaseModel):
    """Fixed thresholds behind the labels answers use, the same for every asker whatever their scope."""

    model_config = {"extra": "forbid"}

    high_value_arr: float = Field(150_000.0, ge=0, allow_inf_nan=False)  # ARR at which an account is "high-value"


class DatabaseSettings(BaseModel):
    """Connection pool of the CRM store (SQLAlchemy's QueuePool; SQLite files ignore the sizes)."""

    model_config = {"extra": "forbid"}

    pool_size: int = Field(5, ge=1, le=200)
    max_overflow: int = Field(10, ge=0, le=500)
    pool_timeout_s: float = Field(30.0, gt=0)
    pool_recycle_s: int = Field(1800, ge=-1)  # reconnect connections older than this (-1 never)


class LogSettings(BaseModel):
    """How Retain logs: plain text for people, or one JSON object per line for a log pipeline."""

    model_config = {"extra": "forbid"}

    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SchedulerSettings(BaseModel):
    """The scheduler's lease: only the process holding it runs jobs against a job store."""

    model_config = {"extra": "forbid"}

    # Renewed every sixth of this; a scheduler that cannot renew pauses its jobs after half of it,
    # and another may take over once it has run out (so a dead scheduler's jobs wait this long).
    lease_s: float = Field(90.0, ge=3, le=3600)


class WarehouseSettings(BaseModel):
    """The vendor's metering database or warehouse, read on a schedule through a mapping of SQL queries."""

    model_config = {"extra": "forbid"}

    mapping_file: str = ""  # a YAML of queries (configs/warehouse.example.yaml); empty: no warehouse sync
    url: SecretStr = SecretStr("")  # any SQLAlchemy URL; empty: the mapping file's `url` (${VAR} expanded)
    every_minutes: int = Field(60, ge=1, le=10080)


class HubSpotSettings(BaseModel):
    """HubSpot, read on a schedule with a private app's access token."""

    model_config = {"extra": "forbid"}

    access_token: SecretStr = SecretStr("")  # RETAIN_CONNECTORS__HUBSPOT__ACCESS_TOKEN or the secrets file
    base_url: str = "https://api.hubapi.com"
    mapping: str = "hubspot"  # configs/mappings/hubspot.yaml (its `api:` section), or a YAML file path


class SalesforceSettings(BaseModel):
    """Salesforce, read on a schedule: an OAuth access token and instance URL, or a username and password."""

    model_config = {"extra": "forbid"}

    instance_url: str = ""  # https://yourorg.my.salesforce.com
    access_token: SecretStr = SecretStr("")
    username: str = ""
    password: SecretStr = SecretStr("")
    security_token: SecretStr = SecretStr("")
    consumer_key: str = ""  # a connected app (client credentials flow)
    consumer_secret: SecretStr = SecretStr("")
    domain: str = "login"  # login, test (sandboxes) or your My Domain (yourorg.my)
    api_version: str = "59.0"
    ca_bundle: str = ""  # a CA file for TLS-inspecting proxies; empty: the system's
    mapping: str = "salesforce"
    # Stop a run (and resume next time) once the org's daily API use passes this share.
    max_api_share: float = Field(0.8, gt=0, le=1)


class QBRSettings(BaseModel):
    """QBR decks: the PowerPoint master they are built on and where the CLI writes them."""

    model_config = {"extra": "forbid"}

    template: str = ""  # a .pptx master (its folder may hold theme.yaml); empty: configs/qbr/template.pptx
    out_dir: str = ""  # where `retain qbr` writes decks without --out; empty: <data_dir>/qbr


class ConnectorSettings(BaseModel):
    """CRM connectors: HubSpot and Salesforce, incremental by modification time, on a schedule."""

    model_config = {"extra": "forbid"}

    # A YAML file with hubspot_access_token, salesforce_access_token, salesforce_password,
    # salesforce_security_token, salesforce_consumer_secret (kept out of the config).
    secrets_file: str = ""
    every_minutes: int = Field(30, ge=1, le=10080)
    page_size: int = Field(100, ge=1, le=2000)
    max_pages: int = Field(2000, ge=1)  # per kind and run; the next run goes on from the checkpoint
    hubspot: HubSpotSettings = HubSpotSettings()
    salesforce: SalesforceSettings = SalesforceSettings()


class Settings(BaseSettings):
    """Everything Retain can be told, validated at start."""

    model_config = SettingsConfigDict(
        env_prefix="RETAIN_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Path(".retain")
    database_url: str = ""
    database: DatabaseSettings = DatabaseSettings()
    email_outbox_dir: str = ""  # where approved e-mail follow-ups are written as .eml; empty: data_dir/email_outbox
    log: LogSettings = LogSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    today: str = ""
    fiscal_year_start_month: int = Field(1, ge=1, le=12)  # "FY27 Q1", "fiscal Q3": 2 = February
    cli_user: str = ""
    models_dir: str = ""
    llm: LLMSettings = LLMSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    memory: MemorySettings = MemorySettings()
    health: HealthSettings = HealthSettings()
    labels: LabelSettings = LabelSettings()
    slack: SlackSettings = SlackSettings()
    mcp: MCPSettings = MCPSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    connectors: ConnectorSettings = ConnectorSettings()
    qbr: QBRSettings = QBRSettings()

    @field_validator("today")
    @classmethod
    def _check_today(cls, value: str) -> str:
        if value:
            date.fromisoformat(value)
        return value

    @classmethod
    def settings_customise_sources(  # noqa: D102 - pydantic-settings hook
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments win, then environment variables, then the YAML files.
        return (init_settings, env_settings, _FileSource(settings_cls))

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL of the CRM store."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'retain.db').resolve()}"

    @property
    def models_path(self) -> Path:
        """The folder holding GGUF model files."""
        return Path(self.models_dir) if self.models_dir else self.data_dir / "models"

    @property
    def health_file(self) -> Path:
        """The scorecard YAML in force."""
        return Path(self.health.config_file) if self.health.config_file else CONFIG_DIR / "health.yaml"

    @property
    def qbr_template(self) -> Path:
        """The PowerPoint master QBR decks are built on."""
        return Path(self.qbr.template) if self.qbr.template else CONFIG_DIR / "qbr" / "template.pptx"

    def as_of(self) -> date:
        """The date Retain treats as today."""
        return date.fromisoformat(self.today) if self.today else date.today()


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist. Check the --config path.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"Config file {path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must hold a mapping of settings at the top level.")
    return data


def _env_name(loc: tuple[Any, ...]) -> str:
    return "RETAIN_" + "__".join(str(part).upper() for part in loc)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the settings; a wrong one raises ConfigError naming it and what is allowed."""
    values = _read_yaml(CONFIG_DIR / "default.yaml")
    config_file = config_file or os.environ.get("RETAIN_CONFIG")
    if config_file:
        values = _deep_merge(values, _read_yaml(Path(config_file)))
    token = _FILE_VALUES.set(values)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not isinstance(p, int))
        name = ".".join(str(p) for p in loc) or "settings"
        got = err.get("input")
        secret = any(w in name.lower() for w in ("token", "secret", "key", "password"))
        got_text = "" if isinstance(got, dict) or secret else f" (got {mask_secrets(repr(got))})"
        raise ConfigError(
            f"Setting '{name}' is not allowed: {err['msg']}{got_text}. "
            f"Fix it in the config file or in {_env_name(loc)}."
        ) from None
    finally:
        _FILE_VALUES.reset(token)
