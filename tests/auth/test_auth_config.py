"""Start-up: database URL, cookie flags, required keys, proxy addresses, the dev account."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import delete, select

from app import config_rules as settings
from app.auth.devaccount import DEV_ACCOUNT, ensure_dev_account, register
from app.auth.models import StaffUser
from app.config import Defaults
from app.extensions import db
from tests.conftest import sandbox_config, sign_in


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@db/points", "postgresql+psycopg://u@db/points"),
        ("postgres://u@db/points", "postgresql+psycopg://u@db/points"),
        ("postgresql+psycopg://u@db/points", "postgresql+psycopg://u@db/points"),
        ("sqlite:////srv/points.sqlite3", "sqlite:////srv/points.sqlite3"),
    ],
)
def test_database_urls_use_the_psycopg_driver(url, expected):
    config = {**vars(Defaults), "DATABASE_URL": url}
    config = {k: v for k, v in config.items() if k.isupper()}
    settings.normalise(config)
    assert config["DATABASE_URL"] == expected


def test_the_default_database_is_a_sqlite_file_in_instance(sandbox):
    from app import create_app

    app = create_app({**sandbox_config(sandbox), "DATABASE_URL": None})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{app.instance_path}/points-desk.sqlite3"
    )


def test_audit_hash_key_is_required_outside_development():
    config = {"SECRET_KEY": "s", "CAPILLARY_BASE_URL": None, "CAPILLARY_SANDBOX": True}
    with pytest.raises(settings.ConfigError, match="AUDIT_HASH_KEY"):
        settings.check(config, development=False)
    settings.check({**config, "AUDIT_HASH_KEY": "k"}, development=False)
    settings.check(config, development=True)


def test_outside_development_the_session_cookie_is_secure(make_app):
    app = make_app(TESTING=False, AUDIT_HASH_KEY="k")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_in_tests_the_session_cookie_works_over_http(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["10.0.0.5", "10.1.0.0/16"]', ["10.0.0.5/32", "10.1.0.0/16"]),
        ("10.0.0.5, ::1", ["10.0.0.5/32", "::1/128"]),
        (["10.0.0.5"], ["10.0.0.5/32"]),
        ("", []),
    ],
)
def test_proxy_addresses_from_the_environment(value, expected):
    config = {"AUTH_MODE": "local", "AUTH_PROXY_TRUSTED": value}
    config.update(
        {k: 1 for k in Defaults.__dict__ if k.endswith(("_MINUTES", "_HOURS", "_SECONDS", "_SIZE"))}
    )
    config.update({k: 1 for k in ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "AUDIT_EXPORT_MAX_ROWS")})
    config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 1
    settings.normalise_staff_access(config)
    assert config["AUTH_PROXY_TRUSTED"] == [ipaddress.ip_network(e) for e in expected]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("AUTH_MODE", "ldap", "AUTH_MODE"),
        ("AUTH_PROXY_TRUSTED", "not-an-address", "AUTH_PROXY_TRUSTED"),
    ],
)
def test_bad_access_settings_refuse_to_start(make_app, key, value, message):
    with pytest.raises(settings.ConfigError, match=message):
        make_app(**{key: value})


def test_the_dev_account_is_made_once_when_there_are_no_accounts(app, capsys):
    with app.app_context():
        db.session.execute(delete(StaffUser))
        db.session.commit()
    ensure_dev_account(app)
    err = capsys.readouterr().err
    assert f"Sign in as {DEV_ACCOUNT} with password: " in err
    assert "flask --app app users add NAME --role admin" in err
    password = err.split("with password: ")[1].split()[0]
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        assert (user.username, user.role) == (DEV_ACCOUNT, "admin")
    sign_in(app.test_client(), DEV_ACCOUNT, password)

    ensure_dev_account(app)
    assert capsys.readouterr().err == ""
    with app.app_context():
        assert len(db.session.scalars(select(StaffUser)).all()) == 1


def test_no_dev_account_when_accounts_exist(app, capsys):
    ensure_dev_account(app)
    assert capsys.readouterr().err == ""


def test_no_schema_says_to_run_the_migrations(make_app, caplog):
    app = make_app()
    with app.app_context():
        db.session.execute(delete(StaffUser))
        db.session.commit()
        db.drop_all()
    ensure_dev_account(app)
    assert "flask --app app db upgrade" in caplog.text


@pytest.mark.parametrize(
    ("debug", "testing", "mode", "hooked"),
    [
        (True, False, "local", True),
        (False, False, "local", False),
        (True, True, "local", False),
        (True, False, "proxy", False),
    ],
)
def test_the_dev_account_is_only_ever_made_in_local_debug_mode(debug, testing, mode, hooked):
    from flask import Flask

    app = Flask("probe")
    app.debug, app.testing = debug, testing
    app.config["AUTH_MODE"] = mode
    register(app)
    assert bool(app.before_request_funcs.get(None)) is hooked


def test_in_debug_mode_the_first_request_makes_the_dev_account(make_app, capsys):
    app = make_app(TESTING=False, DEBUG=True)
    with app.app_context():
        db.session.execute(delete(StaffUser))
        db.session.commit()
    response = app.test_client().get("/")  # anonymous: the guard redirects to sign in
    assert response.status_code == 302
    assert f"Sign in as {DEV_ACCOUNT} with password: " in capsys.readouterr().err
    with app.app_context():
        assert db.session.scalar(select(StaffUser.username)) == DEV_ACCOUNT
