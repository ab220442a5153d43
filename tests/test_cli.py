"""The isofind command: init, users, tokens, and the refusals of serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from isofind.cli import app
from isofind.db import Database
from isofind.identity.service import local_owner
from isofind.permissions.service import Viewer
from isofind.samples import service as sample_service

runner = CliRunner()


@pytest.fixture
def cli_env(make_app, database_url: str, tmp_path: Path) -> dict[str, str]:
    make_app()  # empties the tables and seeds the administrator
    return {
        "ISOFIND_DATABASE_URL": database_url,
        "ISOFIND_DATA_DIR": str(tmp_path / "data"),
        "ISOFIND_ARGON2_TIME_COST": "1",
        "ISOFIND_ARGON2_MEMORY_COST": "8",
        "ISOFIND_ARGON2_PARALLELISM": "1",
    }


def test_users_create_list_passwd_unlock(cli_env: dict[str, str]) -> None:
    created = runner.invoke(app, ["users", "create", "kim", "--password", "kim-password",
                                  "--role", "analyst", "--email", "kim@lab.example"], env=cli_env)
    assert created.exit_code == 0, created.output
    assert "created user kim (id 2, role analyst)" in created.output
    listed = runner.invoke(app, ["users", "list"], env=cli_env)
    assert "kim" in listed.output and "analyst" in listed.output
    assert runner.invoke(app, ["users", "passwd", "kim", "--password", "new-password"],
                         env=cli_env).exit_code == 0
    assert runner.invoke(app, ["users", "unlock", "kim"], env=cli_env).exit_code == 0
    missing = runner.invoke(app, ["users", "unlock", "nobody"], env=cli_env)
    assert missing.exit_code == 2
    assert "no user named 'nobody'" in missing.output
    bad_role = runner.invoke(app, ["users", "create", "lee", "--password", "long-enough",
                                   "--role", "boss"], env=cli_env)
    assert bad_role.exit_code == 2
    short = runner.invoke(app, ["users", "create", "lee", "--password", "short"], env=cli_env)
    assert short.exit_code == 2
    assert "at least 8 characters" in short.output


def test_tokens_create_prints_the_token_alone_on_the_last_line(
    cli_env: dict[str, str], make_app
) -> None:
    result = runner.invoke(app, ["tokens", "create", "--user", "admin",
                                 "--description", "script"], env=cli_env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) == 64 and all(c in "0123456789abcdef" for c in token)
    from fastapi.testclient import TestClient

    client = TestClient(make_app())
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["user_id"] == 1


def test_init_is_idempotent_once_accounts_exist(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["init"], env=cli_env)
    assert result.exit_code == 0
    assert "Already initialised" in result.output


def test_init_on_an_empty_database_prints_the_recovery_code_once(tmp_path: Path) -> None:
    env = {"ISOFIND_DATA_DIR": str(tmp_path / "fresh"), "ISOFIND_DATABASE_URL": "",
           "ISOFIND_ARGON2_MEMORY_COST": "8", "ISOFIND_ARGON2_TIME_COST": "1",
           "ISOFIND_ARGON2_PARALLELISM": "1"}
    first = runner.invoke(app, ["init", "--admin-username", "boss",
                                "--admin-password", "boss-password"], env=env)
    assert first.exit_code == 0, first.output
    assert "admin username: boss" in first.output
    assert "recovery code:" in first.output
    assert "admin password" not in first.output  # chosen by the caller, not echoed
    assert (tmp_path / "fresh" / "isofind.db").exists()
    second = runner.invoke(app, ["init"], env=env)
    assert "recovery code" not in second.output


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--workers", "2"],
                           env={"ISOFIND_DATA_DIR": str(tmp_path), "ISOFIND_DATABASE_URL": ""})
    assert result.exit_code == 2
    assert "SQLite allows one writer process" in result.output
    assert "PostgreSQL" in result.output


def test_single_user_mode_refuses_a_network_address(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"],
                           env={"ISOFIND_DATA_DIR": str(tmp_path), "ISOFIND_DATABASE_URL": ""})
    assert result.exit_code == 2
    assert "loopback only" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_starts_a_real_server_on_a_fresh_data_dir(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "ISOFIND_DATA_DIR": str(tmp_path / "data"), "ISOFIND_PORT": str(port),
           "ISOFIND_ARGON2_MEMORY_COST": "8", "ISOFIND_ARGON2_TIME_COST": "1",
           "ISOFIND_ARGON2_PARALLELISM": "1"}
    env.pop("ISOFIND_DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "isofind.cli", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready = None
        for _ in range(100):
            try:
                ready = httpx2.get(f"http://127.0.0.1:{port}/api/ready", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.1)
        assert ready is not None, process.stdout.read() if process.poll() is not None else ""
        assert ready.json() == {"status": "ready"}
        docs = httpx2.get(f"http://127.0.0.1:{port}/docs")
        assert "/static-offline-docs/swagger-ui-bundle.js" in docs.text
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "recovery code:" in output
    assert "admin password:" in output


def test_invalid_configuration_is_named_not_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init"], env={"ISOFIND_MODE": "chaos",
                                               "ISOFIND_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "invalid configuration: ISOFIND_MODE" in result.output


def test_import_csv_and_isof_then_trash_list_restore_purge(cli_env: dict[str, str]) -> None:
    data = Path(__file__).parent / "samples" / "data"
    imported = runner.invoke(app, ["import", str(data / "wide.csv")], env=cli_env)
    assert imported.exit_code == 0, imported.output
    assert "2 samples created, 0 updated, 0 unchanged, 3 isotope values added" in imported.output
    isof = runner.invoke(app, ["import", str(data / "example.isof")], env=cli_env)
    assert isof.exit_code == 0, isof.output
    assert "3 samples created" in isof.output
    again = runner.invoke(app, ["import", str(data / "wide.csv")], env=cli_env)
    assert "0 samples created, 0 updated, 2 unchanged" in again.output
    bad = runner.invoke(app, ["import", str(data / "one_bad_row.csv")], env=cli_env)
    assert bad.exit_code == 2
    assert "line 3" in bad.output and "latitude" in bad.output

    samples = runner.invoke(app, ["import", str(data / "wide.csv"), "--archive"], env=cli_env)
    assert samples.exit_code == 0
    database = Database(cli_env["ISOFIND_DATABASE_URL"])
    with database.session(write=True) as db:
        owner = local_owner(db)
        sample_service.delete_sample(db, Viewer(owner), 1)
    database.dispose()
    listed = runner.invoke(app, ["trash", "list"], env=cli_env)
    assert "Galena A1" in listed.output
    assert runner.invoke(app, ["trash", "restore", "1"], env=cli_env).exit_code == 0
    assert "Galena A1" not in runner.invoke(app, ["trash", "list"], env=cli_env).output
    missing = runner.invoke(app, ["trash", "purge", "1", "--yes"], env=cli_env)
    assert missing.exit_code == 2 and "no deleted sample 1" in missing.output
