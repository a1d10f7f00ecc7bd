"""Settings: environment, TOML file, and the refusal of development secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from civicpulse.settings import DEV_SECRET_KEY, Settings


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICPULSE_ENV", "production")
    with pytest.raises(ValidationError, match="development default"):
        Settings()
    monkeypatch.setenv("CIVICPULSE_SECRET_KEY", "a-real-secret-of-enough-length")
    assert Settings().env == "production"


def test_development_accepts_the_default_secret() -> None:
    assert Settings(env="development").secret_key == DEV_SECRET_KEY


def test_toml_file_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "civicpulse.toml"
    config.write_text('database_url = "sqlite:///from-toml.db"\nworker_threads = 7\n')
    monkeypatch.setenv("CIVICPULSE_CONFIG", str(config))
    monkeypatch.setenv("CIVICPULSE_WORKER_THREADS", "3")
    settings = Settings()
    assert settings.database_url == "sqlite:///from-toml.db"
    assert settings.worker_threads == 3  # the environment wins over the file


def test_unknown_keys_in_the_file_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "civicpulse.toml"
    config.write_text("databse_url = 'typo'\n")
    monkeypatch.setenv("CIVICPULSE_CONFIG", str(config))
    with pytest.raises(ValidationError, match="databse_url"):
        Settings()


def test_contact_key_differs_from_secret_and_is_stable() -> None:
    a = Settings(secret_key="x" * 32)
    assert a.fernet_key == Settings(secret_key="x" * 32).fernet_key
    assert a.fernet_key != Settings(secret_key="y" * 32).fernet_key
