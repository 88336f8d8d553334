"""Typed settings read once from the environment and validated at start-up."""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "DATA_SOURCES",
    "DEFAULT_SERVICE_URLS",
    "MODULE_NAMES",
    "MODULE_PORTS",
    "Secret",
    "Settings",
    "SettingsError",
    "load_settings",
]

MODULE_NAMES: tuple[str, ...] = ("training", "pattern", "query", "automation")
MODULE_PORTS: dict[str, int] = {"pattern": 8016, "training": 8017, "query": 8018, "automation": 8021}
DEFAULT_SERVICE_URLS: dict[str, str] = {
    "training": "http://ai-training-service:8017",
    "pattern": "http://ai-pattern-service:8016",
    "query": "http://ai-query-service:8018",
    "automation": "http://ai-automation-service:8021",
    "data_api": "http://data-api:8006",
}
_SERVICE_URL_VARS = {
    "training": "AI_TRAINING_SERVICE_URL",
    "pattern": "AI_PATTERN_SERVICE_URL",
    "query": "AI_QUERY_SERVICE_URL",
    "automation": "AI_AUTOMATION_SERVICE_URL",
    "data_api": "DATA_API_URL",
}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATA_SOURCES = ("local", "home_assistant", "data_api", "influxdb")


class SettingsError(ValueError):
    """A setting has a value the service cannot run with; the message names the variable."""


class Secret:
    """A string that never shows itself in repr, str, logs or responses."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """Return the secret value; call only where it is sent to its owner."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _mask_url_password(url: str) -> str:
    """The URL with the password of its user part replaced by '***'."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}{slash}{path}"


def _shown(name: str, value: object) -> object:
    # A database URL may carry a password; it must not be printed by `homeiq-ai config`.
    if name in ("database_url", "correlation_cache_db") and isinstance(value, str):
        return _mask_url_password(value)
    return value


def _default_data_dir() -> Path:
    return Path(os.environ.get("HOMEIQ_DATA_DIR", "data"))


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of a homeiq-ai process; build it with `load_settings()`."""

    database_url: str = ""
    data_dir: Path = field(default_factory=_default_data_dir)
    correlation_cache_db: str | None = None
    correlation_cache_ttl_seconds: int = 3600
    correlation_cache_max_entries: int = 10_000
    ha_url: str | None = None
    ha_token: Secret | None = None
    openai_api_key: Secret | None = None
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    openai_timeout_seconds: float = 8.0
    openai_retries: int = 1
    mqtt_broker: str | None = None
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: Secret | None = None
    mqtt_topic_prefix: str = "homeiq/ai-automation"
    api_key: Secret | None = None
    service_urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SERVICE_URLS))
    service_timeout_seconds: float = 10.0
    service_retries: int = 3
    max_body_bytes: int = 4_194_304
    rate_limit_query_per_minute: int = 600
    rate_limit_deploy_per_minute: int = 60
    home_time_zone: str = "UTC"
    home_latitude: float | None = None
    home_longitude: float | None = None
    home_elevation: float | None = None
    data_source: str = "local"
    analysis_schedule: str = "0 3 * * *"
    analysis_days: int = 30
    sync_interval_minutes: int = 15
    ingest_max_batch: int = 10_000
    training_models_dir: Path | None = None
    training_lease_seconds: int = 60
    training_torch_threads: int = 1
    soft_prompt_base_model: Path | None = None
    soft_prompt_dataset: Path | None = None
    influxdb_url: str | None = None
    influxdb_token: Secret | None = None
    influxdb_org: str | None = None
    influxdb_bucket: str = "home_assistant_events"
    scheduler_enabled: bool = True
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int | None = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={_shown(f.name, getattr(self, f.name))!r}" for f in fields(self))
        return f"Settings({shown})"

    @property
    def is_sqlite(self) -> bool:
        """True when the shared database is SQLite."""
        return self.database_url.startswith("sqlite")


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}: must be between {lo} and {hi}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}: must be between {lo} and {hi}, got {value}")
    return value


def _float_or_none(env: Mapping[str, str], name: str, lo: float, hi: float) -> float | None:
    if _get(env, name) is None:
        return None
    return _float(env, name, 0.0, lo, hi)


def _crontab(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _get(env, name) or default
    try:
        from apscheduler.triggers.cron import CronTrigger

        CronTrigger.from_crontab(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: not a crontab line (minute hour day month weekday): {raw!r}: {exc}") from None
    return raw


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _http_url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = _get(env, name)
    if raw is None:
        return default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"{name}: expected an http(s) URL such as http://host:port, got {_mask_url_password(raw)!r}"
        )
    try:
        parts.port  # noqa: B018 - raises on a non-numeric port
    except ValueError:
        raise SettingsError(f"{name}: the port in {_mask_url_password(raw)!r} is not a number") from None
    return raw.rstrip("/")


def _database_url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _get(env, name) or default
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return "sqlite+aiosqlite://" + raw.split("://", 1)[1]
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return "postgresql+asyncpg://" + raw.split("://", 1)[1]
    raise SettingsError(
        f"{name}: expected sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db, "
        f"got a URL with scheme {scheme or '(none)'!r}"
    )


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    raw = _get(env, name)
    return Secret(raw) if raw is not None else None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting.

    Args:
        env: the environment to read; `os.environ` when omitted.

    Returns:
        The validated settings.

    Raises:
        SettingsError: a value is wrong; the message names the variable and never its secret value.
    """
    env = os.environ if env is None else env
    data_dir = Path(_get(env, "HOMEIQ_DATA_DIR") or "data")
    default_db = f"sqlite+aiosqlite:///{data_dir / 'shared.db'}"
    database_url = _database_url(env, "DATABASE_URL", default_db)
    cache_db = _get(env, "CORRELATION_CACHE_DB")
    if cache_db is not None:
        # A bare path is accepted for compatibility with the seed's SQLite file setting.
        if "://" not in cache_db:
            cache_db = f"sqlite:///{cache_db}"
        cache_db = _database_url(env | {"CORRELATION_CACHE_DB": cache_db}, "CORRELATION_CACHE_DB", cache_db)

    service_urls = {
        name: _http_url(env, var, DEFAULT_SERVICE_URLS[name]) or DEFAULT_SERVICE_URLS[name]
        for name, var in _SERVICE_URL_VARS.items()
    }

    mqtt_broker = _get(env, "MQTT_BROKER")
    if mqtt_broker is not None and ("://" in mqtt_broker or "/" in mqtt_broker or " " in mqtt_broker):
        raise SettingsError(f"MQTT_BROKER: expected a host name or address, got {_mask_url_password(mqtt_broker)!r}")

    time_zone = _get(env, "HOME_TIME_ZONE") or "UTC"
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"HOME_TIME_ZONE: unknown time zone {time_zone!r} (use e.g. Europe/Berlin)") from None

    log_level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL: expected one of {', '.join(_LOG_LEVELS)}, got {log_level!r}")

    data_source = (_get(env, "DATA_SOURCE") or "local").lower()
    if data_source not in DATA_SOURCES:
        raise SettingsError(f"DATA_SOURCE: expected one of {', '.join(DATA_SOURCES)}, got {data_source!r}")

    port_raw = _get(env, "PORT")
    models_dir = _get(env, "TRAINING_MODELS_DIR")
    base_model = _get(env, "SOFT_PROMPT_BASE_MODEL")
    prompt_dataset = _get(env, "SOFT_PROMPT_DATASET")
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        correlation_cache_db=cache_db,
        correlation_cache_ttl_seconds=_int(env, "CORRELATION_CACHE_TTL", 3600, 1, 30 * 86400),
        correlation_cache_max_entries=_int(env, "CORRELATION_CACHE_MAX_ENTRIES", 10_000, 1, 10_000_000),
        ha_url=_http_url(env, "HA_URL", None),
        ha_token=_secret(env, "HA_TOKEN"),
        openai_api_key=_secret(env, "OPENAI_API_KEY"),
        openai_model=_get(env, "OPENAI_MODEL") or "gpt-4o-mini",
        openai_base_url=_http_url(env, "OPENAI_BASE_URL", None),
        openai_timeout_seconds=_float(env, "OPENAI_TIMEOUT", 8.0, 0.1, 300.0),
        openai_retries=_int(env, "OPENAI_RETRIES", 1, 0, 5),
        mqtt_broker=mqtt_broker,
        mqtt_port=_int(env, "MQTT_PORT", 1883, 1, 65535),
        mqtt_username=_get(env, "MQTT_USERNAME"),
        mqtt_password=_secret(env, "MQTT_PASSWORD"),
        mqtt_topic_prefix=(_get(env, "MQTT_TOPIC_PREFIX") or "homeiq/ai-automation").strip("/"),
        api_key=_secret(env, "API_KEY"),
        service_urls=service_urls,
        service_timeout_seconds=_float(env, "SERVICE_TIMEOUT", 10.0, 0.1, 600.0),
        service_retries=_int(env, "SERVICE_RETRIES", 3, 1, 10),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 4_194_304, 1024, 1_073_741_824),
        rate_limit_query_per_minute=_int(env, "RATE_LIMIT_QUERY_PER_MINUTE", 600, 0, 1_000_000),
        rate_limit_deploy_per_minute=_int(env, "RATE_LIMIT_DEPLOY_PER_MINUTE", 60, 0, 1_000_000),
        home_time_zone=time_zone,
        home_latitude=_float_or_none(env, "HOME_LATITUDE", -90.0, 90.0),
        home_longitude=_float_or_none(env, "HOME_LONGITUDE", -180.0, 180.0),
        home_elevation=_float_or_none(env, "HOME_ELEVATION", -500.0, 9000.0),
        data_source=data_source,
        analysis_schedule=_crontab(env, "ANALYSIS_SCHEDULE", "0 3 * * *"),
        analysis_days=_int(env, "ANALYSIS_DAYS", 30, 1, 3650),
        sync_interval_minutes=_int(env, "SYNC_INTERVAL_MINUTES", 15, 1, 1440),
        ingest_max_batch=_int(env, "INGEST_MAX_BATCH", 10_000, 1, 1_000_000),
        training_models_dir=Path(models_dir) if models_dir else data_dir / "models",
        training_lease_seconds=_int(env, "TRAINING_LEASE_SECONDS", 60, 5, 3600),
        training_torch_threads=_int(env, "TRAINING_TORCH_THREADS", 1, 1, 64),
        soft_prompt_base_model=Path(base_model) if base_model else None,
        soft_prompt_dataset=Path(prompt_dataset) if prompt_dataset else None,
        influxdb_url=_http_url(env, "INFLUXDB_URL", None),
        influxdb_token=_secret(env, "INFLUXDB_TOKEN"),
        influxdb_org=_get(env, "INFLUXDB_ORG"),
        influxdb_bucket=_get(env, "INFLUXDB_BUCKET") or "home_assistant_events",
        scheduler_enabled=_bool(env, "SCHEDULER_ENABLED", True),
        log_level=log_level,
        host=_get(env, "HOST") or "127.0.0.1",
        port=_int(env, "PORT", 0, 1, 65535) if port_raw is not None else None,
    )
