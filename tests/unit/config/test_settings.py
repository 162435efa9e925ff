"""Settings: defaults, TOML file, environment precedence, errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedcraft.config import Settings, load_settings
from feedcraft.errors import InvalidInput

REPO = Path(__file__).resolve().parents[3]


def test_example_config_is_valid_and_matches_defaults() -> None:
    from_file = load_settings(REPO / "feedcraft.example.toml")
    assert from_file == Settings()


def test_environment_wins_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text('store = "sqlite:///a.db"\n[serve]\nport = 9001\n')
    monkeypatch.setenv("FEEDCRAFT_STORE", "sqlite:///b.db")
    s = load_settings(cfg)
    assert s.store == "sqlite:///b.db"
    assert s.serve.port == 9001


def test_nested_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDCRAFT_RECOMMEND__FEED_SIZE", "7")
    assert load_settings().recommend.feed_size == 7


def test_bad_value_names_the_field(tmp_path: Path) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text("[serve]\nport = 0\n")
    with pytest.raises(InvalidInput, match=r"serve\.port"):
        load_settings(cfg)


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text("stroe = 'x'\n")
    with pytest.raises(InvalidInput, match="stroe"):
        load_settings(cfg)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[serve\n")
    with pytest.raises(InvalidInput, match="invalid TOML"):
        load_settings(bad)


def test_the_machine_cache_is_set_or_the_platforms_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEEDCRAFT_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert load_settings().machine_cache() == tmp_path / "home" / ".cache" / "feedcraft"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert load_settings().machine_cache() == tmp_path / "xdg" / "feedcraft"
    monkeypatch.setenv("FEEDCRAFT_CACHE_DIR", "~/compiled")
    assert load_settings().machine_cache() == tmp_path / "home" / "compiled"
