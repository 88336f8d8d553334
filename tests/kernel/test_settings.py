"""Settings: defaults, one clear error per wrong variable, URL normalisation, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from homeiq_ai import cli
from homeiq_ai.settings import DEFAULT_SERVICE_URLS, Secret, SettingsError, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

SECRETS = {
    "HA_TOKEN": "ha-token-7f3a9c1e",
    "OPENAI_API_KEY": "sk-openai-5b2d8e4f",
    "MQTT_PASSWORD": "mqtt-pass-1c9e7a3b",
    "API_KEY": "api-key-9d4f2b6a",
    "INFLUXDB_TOKEN": "influx-token-3e5c7d9f",
}

# Every variable our code reads: removed from the inherited environment so a subprocess sees only ours.
OWN_VARS = (
    "DATABASE_URL",
    "HOMEIQ_DATA_DIR",
    "CORRELATION_CACHE_DB",
    "HA_URL",
    "DATA_API_URL",
    "MQTT_BROKER",
    "MQTT_PORT",
    "MQTT_USERNAME",
    "LOG_LEVEL",
    "SCHEDULER_ENABLED",
    "MAX_BODY_BYTES",
    "SERVICE_TIMEOUT",
    "OPENAI_TIMEOUT",
    "OPENAI_RETRIES",
    "HOME_TIME_ZONE",
    "PORT",
    "HOST",
    "AI_QUERY_SERVICE_URL",
    "AI_AUTOMATION_SERVICE_URL",
    "AI_TRAINING_SERVICE_URL",
    "AI_PATTERN_SERVICE_URL",
    *SECRETS,
)

BAD_VALUES = [
    ("DATABASE_URL", "mysql://user@host/db"),
    ("MQTT_PORT", "abc"),
    ("MQTT_PORT", "70000"),
    ("HA_URL", "not-a-url"),
    ("AI_PATTERN_SERVICE_URL", "ftp://x"),
    ("HOME_TIME_ZONE", "Mars/Base"),
    ("LOG_LEVEL", "chatty"),
    ("SCHEDULER_ENABLED", "maybe"),
    ("MAX_BODY_BYTES", "10"),
    ("SERVICE_TIMEOUT", "-1"),
    ("OPENAI_TIMEOUT", "0"),
    ("OPENAI_RETRIES", "9"),
    ("MQTT_BROKER", "mqtt://broker.local"),
]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The inherited environment without our variables, plus a data dir and `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in OWN_VARS}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOMEIQ_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def _run(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_defaults(tmp_path: Path) -> None:
    """Without variables: SQLite under HOMEIQ_DATA_DIR, the seed service URLs, MQTT off, sane limits."""
    settings = load_settings({"HOMEIQ_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    assert settings.is_sqlite
    assert settings.data_dir == tmp_path
    assert settings.service_urls == DEFAULT_SERVICE_URLS
    assert settings.service_urls["pattern"] == "http://ai-pattern-service:8016"
    assert settings.service_urls["data_api"] == "http://data-api:8006"
    assert settings.mqtt_broker is None
    assert settings.mqtt_port == 1883
    assert settings.ha_url is None and settings.ha_token is None
    assert settings.api_key is None
    assert settings.home_time_zone == "UTC"
    assert settings.log_level == "INFO"
    assert settings.scheduler_enabled is True


def test_default_data_dir_is_relative_data(tmp_path: Path) -> None:
    """Without HOMEIQ_DATA_DIR the SQLite file lives in ./data."""
    settings = load_settings({})
    assert settings.database_url == "sqlite+aiosqlite:///data/shared.db"


def test_blank_values_mean_unset(tmp_path: Path) -> None:
    """A variable set to blanks counts as unset (compose files often pass `VAR=`)."""
    settings = load_settings({"HOMEIQ_DATA_DIR": str(tmp_path), "MQTT_BROKER": "  ", "MQTT_PORT": ""})
    assert settings.mqtt_broker is None
    assert settings.mqtt_port == 1883


@pytest.mark.parametrize(("name", "value"), BAD_VALUES, ids=[f"{n}={v}" for n, v in BAD_VALUES])
def test_wrong_value_names_the_variable(tmp_path: Path, name: str, value: str) -> None:
    """Each validated variable with a wrong value raises SettingsError whose message starts with its name."""
    with pytest.raises(SettingsError) as caught:
        load_settings({"HOMEIQ_DATA_DIR": str(tmp_path), name: value})
    assert str(caught.value).startswith(f"{name}:"), str(caught.value)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
def test_postgres_urls_use_asyncpg(tmp_path: Path, scheme: str) -> None:
    """postgres:// and postgresql:// are normalised to postgresql+asyncpg://."""
    settings = load_settings({"DATABASE_URL": f"{scheme}://u@db.local:5432/homeiq"})
    assert settings.database_url == "postgresql+asyncpg://u@db.local:5432/homeiq"
    assert not settings.is_sqlite


def test_sqlite_url_uses_aiosqlite(tmp_path: Path) -> None:
    """A plain sqlite:// URL is normalised to the async driver."""
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/x.db"


def test_valid_values_are_read(tmp_path: Path) -> None:
    """Valid values are taken as typed settings."""
    settings = load_settings(
        {
            "HOMEIQ_DATA_DIR": str(tmp_path),
            "MQTT_BROKER": "broker.local",
            "MQTT_PORT": "8883",
            "HA_URL": "http://ha.local:8123/",
            "AI_PATTERN_SERVICE_URL": "http://pattern:9000",
            "HOME_TIME_ZONE": "Europe/Berlin",
            "LOG_LEVEL": "debug",
            "SCHEDULER_ENABLED": "off",
            "MAX_BODY_BYTES": "2048",
            "SERVICE_TIMEOUT": "2.5",
            "OPENAI_TIMEOUT": "1.5",
            "OPENAI_RETRIES": "0",
        }
    )
    assert settings.mqtt_broker == "broker.local" and settings.mqtt_port == 8883
    assert settings.ha_url == "http://ha.local:8123"
    assert settings.service_urls["pattern"] == "http://pattern:9000"
    assert settings.home_time_zone == "Europe/Berlin"
    assert settings.log_level == "DEBUG"
    assert settings.scheduler_enabled is False
    assert settings.max_body_bytes == 2048
    assert settings.service_timeout_seconds == 2.5
    assert settings.openai_timeout_seconds == 1.5 and settings.openai_retries == 0


def test_secrets_are_wrapped_and_readable(tmp_path: Path) -> None:
    """Secret variables become Secret objects whose value is reachable only through get()."""
    settings = load_settings({"HOMEIQ_DATA_DIR": str(tmp_path), **SECRETS})
    assert isinstance(settings.api_key, Secret)
    assert settings.api_key.get() == SECRETS["API_KEY"]
    assert settings.ha_token is not None and settings.ha_token.get() == SECRETS["HA_TOKEN"]
    assert settings.openai_api_key is not None and settings.openai_api_key.get() == SECRETS["OPENAI_API_KEY"]
    assert settings.mqtt_password is not None and settings.mqtt_password.get() == SECRETS["MQTT_PASSWORD"]


def test_secrets_never_in_repr_or_str(tmp_path: Path) -> None:
    """repr(settings) and str(settings) mask HA_TOKEN, OPENAI_API_KEY, MQTT_PASSWORD and API_KEY."""
    settings = load_settings({"HOMEIQ_DATA_DIR": str(tmp_path), **SECRETS})
    for shown in (repr(settings), str(settings), repr(settings.api_key), str(settings.ha_token)):
        for name, value in SECRETS.items():
            assert value not in shown, f"{name} leaked"
    assert "**********" in repr(settings)


def test_database_password_never_in_repr(tmp_path: Path) -> None:
    """A password inside DATABASE_URL is masked in repr(settings) but kept in the URL itself."""
    settings = load_settings({"DATABASE_URL": "postgresql://homeiq:db-pass-4e8a@db.local/homeiq"})
    assert settings.database_url == "postgresql+asyncpg://homeiq:db-pass-4e8a@db.local/homeiq"
    assert "db-pass-4e8a" not in repr(settings)
    assert "homeiq:***@db.local" in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MQTT_BROKER", "mqtt://homeiq:broker-pass-8c2e@broker.local"),
        ("HA_URL", "ws://u:ha-pass-8c2e@ha:8123"),
    ],
)
def test_error_message_masks_url_password(name: str, value: str) -> None:
    """A rejected URL carrying a password is named in the error without its password."""
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}:")
    assert "pass-8c2e" not in message
    assert "***" in message


def test_boot_redacts_every_secret_from_logs(tmp_path: Path) -> None:
    """After boot(), a log line carrying any secret value is written with the value redacted."""
    script = (
        "import logging\n"
        "from homeiq_ai.bootstrap import boot\n"
        "from homeiq_ai.settings import load_settings\n"
        "settings = load_settings()\n"
        "boot(['query'], settings)\n"
        "for secret in (settings.ha_token, settings.openai_api_key, settings.mqtt_password,\n"
        "               settings.api_key, settings.influxdb_token):\n"
        "    logging.getLogger('homeiq_ai.test').warning('leaking %s now', secret.get())\n"
    )
    result = _run([sys.executable, "-c", script], _env(tmp_path, **SECRETS))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("leaking ********** now") == len(SECRETS), result.stderr
    for name, value in SECRETS.items():
        assert value not in result.stdout + result.stderr, f"{name} leaked"


def test_config_command_masks_secrets_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`homeiq-ai config` (in process) prints the settings without any secret value."""
    for name in OWN_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOMEIQ_DATA_DIR", str(tmp_path))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["config"]) == 0
    out, err = capsys.readouterr()
    assert "Settings(" in out
    for name, value in SECRETS.items():
        assert value not in out + err, f"{name} leaked"


def test_config_command_masks_secrets(tmp_path: Path) -> None:
    """`homeiq-ai config` as a real command prints the settings without any secret value."""
    result = _run(["homeiq-ai", "config"], _env(tmp_path, **SECRETS))
    assert result.returncode == 0, result.stderr
    assert "Settings(" in result.stdout
    for name, value in SECRETS.items():
        assert value not in result.stdout + result.stderr, f"{name} leaked"


def _assert_one_config_line(result: subprocess.CompletedProcess[str], name: str) -> None:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_config_command_with_bad_value_exits_2(tmp_path: Path) -> None:
    """`MQTT_PORT=abc homeiq-ai config` exits 2 with one stderr line naming MQTT_PORT, no traceback."""
    result = _run(["homeiq-ai", "config"], _env(tmp_path, MQTT_PORT="abc"))
    assert result.returncode == 2
    _assert_one_config_line(result, "MQTT_PORT")
    assert result.stdout == ""


@pytest.mark.parametrize(("name", "value"), [("MQTT_PORT", "abc"), ("HOME_TIME_ZONE", "Mars/Base")])
def test_serve_with_bad_value_exits_2(tmp_path: Path, name: str, value: str) -> None:
    """`homeiq-ai serve` with a bad value exits 2 with one stderr line naming the variable."""
    result = _run(["homeiq-ai", "serve", "--modules", "pattern"], _env(tmp_path, **{name: value}))
    assert result.returncode == 2
    _assert_one_config_line(result, name)


def test_uvicorn_entrypoint_with_bad_value_exits(tmp_path: Path) -> None:
    """`uvicorn entrypoints.pattern:app` with a bad value exits non-zero with one line, no traceback."""
    argv = [sys.executable, "-m", "uvicorn", "entrypoints.pattern:app", "--host", "127.0.0.1", "--port", "0"]
    result = _run(argv, _env(tmp_path, MQTT_PORT="abc"), timeout=30)
    assert result.returncode != 0
    _assert_one_config_line(result, "MQTT_PORT")
