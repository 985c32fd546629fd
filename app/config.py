"""Settings: built-in defaults < config.toml < LONGFORM_* variables < typed CLI flags."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agents.bible.schedule import DEFAULT_EVERY
from agents.errors import AgentError
from agents.generation.stage_engines import parse_stages
from app import locations
from app.errors import ConfigError


class Settings(BaseSettings):
    """longform's settings. Each can be set in ``config.toml`` (same name) or as
    ``LONGFORM_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LONGFORM_", extra="forbid")

    engine: str = Field(
        "embedded", description="'embedded' or the URL of an OpenAI-compatible server"
    )
    model: str | None = Field(None, description="GGUF path (embedded) or served model name")
    api_key: str | None = Field(
        None,
        description="the server's API key (LONGFORM_API_KEY): sent to a server, and asked "
        "of its clients by `longform serve`",
    )
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="longform serve: Host names it answers besides IP addresses and "
        "localhost (the names this machine is reached by; * for any)",
    )
    allow_origins: list[str] = Field(
        default_factory=list,
        description="longform serve: web origins it answers (e.g. http://localhost:3000; "
        "* for any); other requests from web pages are refused",
    )
    context_length: int | None = Field(None, description="override the engine's context window")
    timeout: float = Field(
        600.0, gt=0, description="seconds a server may go without sending data before a retry"
    )
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    seed: int = Field(1234, description="sampling seed of the embedded engine")
    threads: int | None = Field(
        None,
        ge=1,
        description="threads of the embedded engine, for the prompt and the decode "
        "(default: all cores)",
    )
    view: int | None = Field(
        None,
        ge=256,
        description="tokens of text the writer keeps in view (the section it writes and "
        "those before it; the rest is told in a note): default 2048 on the embedded "
        "engine (1024 for a book planned in chapters), the whole window on a server",
    )
    bible_every: int = Field(
        DEFAULT_EVERY,
        ge=1,
        description="sections the story bible reads in one call after they are written, "
        "at most (sooner at a chapter's end, at the work's end, or when the next section "
        "would push one out of the writer's view); 1 reads each section as it is written",
    )
    db: str | None = Field(
        None,
        description="database: a SQLite file (default: in LONGFORM_HOME) or a PostgreSQL "
        "URL, postgresql://user@host/database, for a store many processes share",
    )
    stages: dict[str, str] = Field(
        default_factory=dict,
        description="an engine for a stage (planner, writer, extender, memory, chooser): "
        "embedded, a GGUF file, or a server URL with #MODEL after it if needed",
    )
    author: str | None = Field(
        None,
        description="the author an export names (EPUB and Word metadata, the line under "
        "the Markdown title); `export --author` overrides it",
    )
    export_dir: Path | None = Field(
        None,
        description="the folder `export` (and the TUI's save) writes a work to when no "
        "file is named, as TITLE.md (.epub, .docx, .txt); default: the current folder",
    )
    style: Path | None = Field(
        None,
        description="a style sample: a file of your own prose (.md, .txt, .docx or .epub, "
        "a few thousand words) that new works are written in the voice of; "
        "`write --style` overrides it",
    )
    chat_template: Path | None = Field(
        None,
        description="the served model's Jinja chat template, for a server that does not "
        "continue an unfinished turn and offers no template of its own",
    )

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, value: dict[str, str]) -> dict[str, str]:
        try:
            parse_stages(value)
        except AgentError as exc:
            raise ValueError(str(exc)) from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def load_settings(path: Path | None = None, **flags: Any) -> Settings:
    """Read the config file and environment; ``flags`` that are not None win."""
    path = path or locations.config_path()
    from_file: dict[str, Any] = {}
    if path.is_file():
        try:
            from_file = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    try:
        env_only = Settings()
        values = {**from_file}
        # Environment beats the file: keep only what the environment set.
        for name in env_only.model_fields_set:
            values[name] = getattr(env_only, name)
        values.update({k: v for k, v in flags.items() if v is not None})
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"bad setting {where!r} ({path} or LONGFORM_*): {first['msg']}") from exc
