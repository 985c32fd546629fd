"""Prompt templates (``templates/*.j2``) and the one way to render them.

A user may override any template by putting a file of the same name in their
prompts folder (``use_override_dir``). A missing variable is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).with_name("templates")

_env: Environment | None = None
_override: Path | None = None


def _build(override: Path | None) -> Environment:
    loaders = [FileSystemLoader(str(override))] if override else []
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def use_override_dir(path: Path | None) -> None:
    """Look in ``path`` first for templates (a user's own prompts)."""
    global _env, _override
    _override = path if path and path.is_dir() else None
    _env = None


def render(name: str, **variables: Any) -> str:
    """Render ``templates/<name>.j2`` (or the user's override) with ``variables``."""
    global _env
    if _env is None:
        _env = _build(_override)
    return _env.get_template(f"{name}.j2").render(**variables).strip()


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.j2"))
