"""The README's flask commands work as written on a development checkout, and a
configuration mistake is one line and exit status 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def flask(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `flask --app app ...` as a person would, with only the given FLASK_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    return subprocess.run(
        [FLASK, "--app", "app", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", [("users", "--help"), ("sandbox", "run", "--help")])
def test_the_documented_commands_load_the_app_without_debug(command):
    done = flask(*command)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Usage: flask" in done.stdout


def test_a_configuration_mistake_is_one_line_and_exit_1():
    # A deployment's setting is made, so every production check applies.
    done = flask("users", "list", FLASK_SECRET_KEY="not-the-audit-key")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: AUDIT_HASH_KEY is not set; set FLASK_AUDIT_HASH_KEY or put it in instance/config.py"
    ]


def test_a_command_before_db_upgrade_says_so_in_one_line(tmp_path):
    done = flask(
        "users",
        "list",
        FLASK_SECRET_KEY="k" * 32,
        FLASK_AUDIT_HASH_KEY="h" * 32,
        FLASK_CAPILLARY_SANDBOX="true",
        FLASK_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        FLASK_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",  # no warning about memory://
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: The database has no tables yet: run `flask --app app db upgrade` first."
    ]
