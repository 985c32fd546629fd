"""Where longform keeps its files. ``LONGFORM_HOME`` moves all of them."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home() -> Path:
    override = os.environ.get("LONGFORM_HOME")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_data_path("longform", appauthor=False)


def db_path() -> Path:
    return home() / "longform.db"


def config_path() -> Path:
    override = os.environ.get("LONGFORM_CONFIG")
    return Path(override).expanduser() if override else home() / "config.toml"


def prompts_dir() -> Path:
    """Templates here override the built-in ones of the same name."""
    return home() / "prompts"


def export_folder(setting: Path | None) -> Path:
    """Where a work is exported when no file is named: the ``export_dir`` setting, else
    the current folder (where a person working in a terminal looks first)."""
    return setting.expanduser() if setting is not None else Path.cwd()
