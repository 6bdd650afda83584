"""Settings come from CONSENT_* variables only; production never runs on made-up secrets."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from consent_service.infra.pii import generate_data_key
from consent_service.infra.signing import generate_signing_key
from consent_service.settings import DEV_SECRETS_FILE
from consent_service.settings import Environment
from consent_service.settings import Settings
from consent_service.settings import SettingsError


def test_development_with_no_configuration_generates_private_secrets(tmp_path):
    settings = Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    secrets_file = tmp_path / DEV_SECRETS_FILE
    assert settings.environment is Environment.DEVELOPMENT
    assert secrets_file.exists()
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert settings.database_url == f"sqlite:///{tmp_path / 'consent.db'}"


def test_development_reuses_its_generated_secrets(tmp_path):
    first = Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    second = Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert first.signing_keys[0].public_x == second.signing_keys[0].public_x


def test_development_logs_a_loud_warning_when_it_generates_secrets(tmp_path, caplog):
    Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    assert "DEVELOPMENT MODE" in caplog.text
    assert "never use them in production" in caplog.text.lower()


def test_production_refuses_to_start_and_names_every_missing_secret(tmp_path):
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"CONSENT_ENV": "production", "CONSENT_INSTANCE_PATH": str(tmp_path)})
    for name in (
        "CONSENT_DATABASE_URL",
        "CONSENT_SECRET_KEY",
        "CONSENT_SIGNING_KEYS",
        "CONSENT_BASE_URL",
        "CONSENT_DATA_KEYS",
        "CONSENT_BLIND_INDEX_KEY",
        "CONSENT_KEY_STORE_URL",
    ):
        assert name in str(error.value)
    assert not (tmp_path / DEV_SECRETS_FILE).exists()


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "CONSENT_ENV": "production",
        "CONSENT_DATABASE_URL": "postgresql+psycopg://db/consent",
        "CONSENT_SECRET_KEY": "s" * 40,
        "CONSENT_SIGNING_KEYS": generate_signing_key("prod-1").spec(),
        "CONSENT_BASE_URL": "https://consent.example/",
        "CONSENT_DATA_KEYS": generate_data_key("dk-prod-1").spec(),
        "CONSENT_BLIND_INDEX_KEY": base64.urlsafe_b64encode(b"b" * 32).decode(),
        "CONSENT_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "CONSENT_KEY_STORE_URL": "postgresql+psycopg://keys-db/consent_keys",
    }
    env.update(overrides)
    return env


def test_production_starts_with_its_secrets():
    settings = Settings.from_env(production_env())
    assert settings.is_production
    assert settings.base_url == "https://consent.example"
    assert settings.signing_keys[0].kid == "prod-1"


def test_production_refuses_a_plain_http_base_url_and_says_which_setting_to_change():
    # One-click unsubscribe URLs must be HTTPS (RFC 8058 §3.1); every link starts with it.
    with pytest.raises(SettingsError, match=r"CONSENT_BASE_URL .* must be https://"):
        Settings.from_env(production_env(CONSENT_BASE_URL="http://consent.example"))


def test_development_serves_its_links_over_plain_http(tmp_path):
    env = {"CONSENT_INSTANCE_PATH": str(tmp_path), "CONSENT_BASE_URL": "http://localhost:9000/"}
    assert Settings.from_env(env).base_url == "http://localhost:9000"


@pytest.mark.parametrize("value", ["consent.example", "ftp://consent.example", "https://"])
def test_a_base_url_that_is_not_an_http_url_with_a_host_is_refused(tmp_path, value):
    env = {"CONSENT_INSTANCE_PATH": str(tmp_path), "CONSENT_BASE_URL": value}
    with pytest.raises(SettingsError, match="CONSENT_BASE_URL must be an http"):
        Settings.from_env(env)


def test_production_refuses_a_short_secret_key():
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env(production_env(CONSENT_SECRET_KEY="short"))


def test_secrets_never_appear_in_the_settings_repr():
    settings = Settings.from_env(production_env())
    assert "s" * 40 not in repr(settings)
    assert settings.signing_keys[0].spec().split(":")[1] not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CONSENT_ENV", "staging", "CONSENT_ENV must be one of"),
        ("CONSENT_MAX_BODY_BYTES", "lots", "must be an integer"),
        ("CONSENT_MAX_BODY_BYTES", "0", "must be positive"),
        ("CONSENT_SIGNING_KEYS", "k1:AAAA", "CONSENT_SIGNING_KEYS"),
    ],
)
def test_malformed_values_are_refused_with_the_variable_named(name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(production_env(**{name: value}))


def test_secrets_a_newer_release_needs_are_added_to_an_existing_dev_secrets_file(tmp_path):
    older = {"secret_key": "k" * 48, "signing_keys": generate_signing_key("old-1").spec()}
    (tmp_path / DEV_SECRETS_FILE).write_text(json.dumps(older))
    settings = Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    assert settings.secret_key == "k" * 48
    assert settings.signing_keys[0].kid == "old-1"
    stored = json.loads((tmp_path / DEV_SECRETS_FILE).read_text())
    assert stored["data_keys"] == settings.data_keys[0].spec()


def test_data_keys_must_be_256_bit():
    with pytest.raises(SettingsError, match=r"CONSENT_DATA_KEYS: .*32 bytes"):
        Settings.from_env(production_env(CONSENT_DATA_KEYS="dk1:c2hvcnQ"))


def test_the_blind_index_key_must_be_at_least_256_bit():
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        Settings.from_env(production_env(CONSENT_BLIND_INDEX_KEY="c2hvcnQ"))


def test_an_unreadable_api_rate_limit_is_refused_at_start_up():
    with pytest.raises(SettingsError, match="CONSENT_API_RATE_LIMIT"):
        Settings.from_env(production_env(CONSENT_API_RATE_LIMIT="lots"))


def test_production_refuses_per_process_rate_limits_and_names_both_settings():
    with pytest.raises(SettingsError) as error:
        Settings.from_env(production_env(CONSENT_RATE_LIMIT_STORAGE="memory://"))
    assert "CONSENT_RATE_LIMIT_STORAGE" in str(error.value)
    assert "CONSENT_SINGLE_PROCESS" in str(error.value)


def test_production_accepts_memory_rate_limits_when_it_runs_one_process():
    settings = Settings.from_env(
        production_env(CONSENT_RATE_LIMIT_STORAGE="memory://", CONSENT_SINGLE_PROCESS="true")
    )
    assert settings.rate_limit_storage == "memory://" and settings.single_process


def test_development_warns_loudly_that_memory_rate_limits_are_per_process(tmp_path, caplog):
    Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    assert "RATE LIMITS ARE PER PROCESS" in caplog.text
    assert "CONSENT_SINGLE_PROCESS" in caplog.text


def test_shared_rate_limit_storage_needs_no_warning(tmp_path, caplog):
    Settings.from_env(
        {"CONSENT_INSTANCE_PATH": str(tmp_path), "CONSENT_RATE_LIMIT_STORAGE": "redis://r:6379/0"}
    )
    assert "RATE LIMITS ARE PER PROCESS" not in caplog.text


def test_webhooks_to_private_networks_are_refused_by_default_in_production():
    assert Settings.from_env(production_env()).webhook_allow_private_networks is False


def test_data_keys_never_appear_in_the_settings_repr():
    settings = Settings.from_env(production_env())
    assert settings.data_keys[0].spec().split(":")[1] not in repr(settings)


def test_unset_variables_leave_the_defaults_the_settings_declare(tmp_path):
    declared = Settings(
        environment=Environment.DEVELOPMENT,
        database_url="sqlite://",
        secret_key="k",
        signing_keys=(),
        base_url="http://consent.test",
        instance_path=tmp_path,
        data_keys=(),
        blind_index_key=b"",
    )
    from_env = Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    assert from_env.max_body_bytes == declared.max_body_bytes
    assert from_env.api_rate_limit == declared.api_rate_limit
    assert from_env.smtp_from == declared.smtp_from
    assert from_env.smtp_rate_limit == declared.smtp_rate_limit
    assert from_env.webhook_allow_private_networks is True  # development's own default


def test_a_variable_is_read_into_the_field_of_the_same_name(tmp_path):
    settings = Settings.from_env(
        {"CONSENT_INSTANCE_PATH": str(tmp_path), "CONSENT_SMTP_PORT": "2525"}
    )
    assert settings.smtp_port == 2525


def test_postgresql_connections_are_bounded_by_the_database_time_limits(tmp_path):
    settings = Settings.from_env(
        {
            "CONSENT_INSTANCE_PATH": str(tmp_path),
            "CONSENT_DATABASE_URL": "postgresql+psycopg://u@db.example/consent",
            "CONSENT_DATABASE_CONNECT_TIMEOUT": "4",
            "CONSENT_DATABASE_STATEMENT_TIMEOUT_MS": "2500",
            "CONSENT_DATABASE_POOL_TIMEOUT": "7",
        }
    )
    options = settings.flask_config()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_timeout"] == 7
    assert options["connect_args"]["connect_timeout"] == 4
    assert options["connect_args"]["options"] == "-c statement_timeout=2500"
    assert (settings.database_time_limits().connect, settings.database_time_limits().statement) == (
        4.0,
        2.5,
    )


def test_an_sqlite_file_waits_a_bounded_time_for_a_pooled_connection(tmp_path):
    settings = Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    options = settings.flask_config()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"pool_timeout": 5, "hide_parameters": True}


@pytest.mark.parametrize(
    "name",
    [
        "CONSENT_DATABASE_CONNECT_TIMEOUT",
        "CONSENT_DATABASE_STATEMENT_TIMEOUT_MS",
        "CONSENT_DATABASE_POOL_TIMEOUT",
    ],
)
def test_a_database_time_limit_must_be_positive(tmp_path, name):
    with pytest.raises(SettingsError, match=f"{name} must be positive"):
        Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path), name: "0"})


def test_the_key_store_defaults_to_a_file_of_its_own_in_the_instance_folder(tmp_path):
    settings = Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)})
    assert settings.key_store == f"sqlite:///{tmp_path.resolve() / 'keys.db'}"
    assert settings.key_store != settings.database_url


def test_a_key_store_in_the_main_database_is_refused_at_start_up():
    same = "postgresql+psycopg://db/consent"
    with pytest.raises(SettingsError, match="another database"):
        Settings.from_env(production_env(CONSENT_KEY_STORE_URL=same))


def test_the_key_store_url_never_appears_in_the_settings_repr():
    settings = Settings.from_env(production_env())
    assert "keys-db" not in repr(settings)


def test_a_consent_token_lives_fifteen_minutes_unless_configured(tmp_path):
    assert Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)}).token_ttl == 900
    configured = Settings.from_env(
        {"CONSENT_INSTANCE_PATH": str(tmp_path), "CONSENT_TOKEN_TTL": "300"}
    )
    assert configured.token_ttl == 300


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ten minutes", "CONSENT_TOKEN_TTL must be an integer"),
        ("59", "CONSENT_TOKEN_TTL must be 60 to 86400 seconds; got 59"),
        ("86401", "CONSENT_TOKEN_TTL must be 60 to 86400 seconds; got 86401"),
        ("-900", "CONSENT_TOKEN_TTL must be 60 to 86400 seconds"),
    ],
)
def test_a_consent_token_lifetime_of_days_or_seconds_is_refused(value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(production_env(CONSENT_TOKEN_TTL=value))
