from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('engine = "http://file:8000"\ntemperature = 0.3\nseed = 5\n')
    s = load_settings(cfg)
    assert (s.engine, s.temperature, s.seed) == ("http://file:8000", 0.3, 5)
    monkeypatch.setenv("LONGFORM_TEMPERATURE", "0.9")
    s = load_settings(cfg)
    assert (s.engine, s.temperature) == ("http://file:8000", 0.9)
    s = load_settings(cfg, engine="embedded", model=None)
    assert (s.engine, s.temperature, s.model) == ("embedded", 0.9, None)


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LONGFORM_DB", raising=False)  # set when the suite runs on PostgreSQL
    s = load_settings(tmp_path / "missing.toml")
    assert s.engine == "embedded" and s.db is None


def test_unknown_or_bad_settings_are_named(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("temprature = 0.3\n")
    with pytest.raises(ConfigError, match="temprature"):
        load_settings(cfg)
    cfg.write_text("temperature = 7\n")
    with pytest.raises(ConfigError, match="temperature"):
        load_settings(cfg)
