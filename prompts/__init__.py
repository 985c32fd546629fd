"""Prompt templates (``templates/*.j2``) and the one way to render them.

A user may override any template by putting a file of the same name in their
prompts folder (``use_override_dir``). A missing variable is an error. Templates render
in Jinja's sandbox: a prompt file someone hands around cannot reach Python's internals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Jinja is loaded with the first prompt rendered
    from jinja2 import Environment

TEMPLATES = Path(__file__).with_name("templates")


class PromptError(ValueError):
    """A prompt template that cannot be rendered (a person's override, usually)."""


_env: Environment | None = None
_override: Path | None = None


def _build(override: Path | None) -> Environment:
    from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    loaders = [FileSystemLoader(str(override))] if override else []
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    return SandboxedEnvironment(
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
    from jinja2 import TemplateError

    global _env
    if _env is None:
        _env = _build(_override)
    try:
        return _env.get_template(f"{name}.j2").render(**variables).strip()
    except TemplateError as exc:
        mine = _override is not None and (_override / f"{name}.j2").is_file()
        where = str(_override / f"{name}.j2") if mine and _override else f"prompt {name}"
        raise PromptError(f"{where}: {type(exc).__name__}: {exc}") from exc


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.j2"))
