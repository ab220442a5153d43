"""Requests per second for GET /api/v1/users/me with each credential style, and for login.

Runs IsoFind in a uvicorn subprocess on loopback (production argon2 parameters, SQLite in a
temporary directory, or PostgreSQL when ISOFIND_BENCH_DATABASE_URL is set) next to a bare
FastAPI endpoint measured in the same run. Sequential requests over one keep-alive connection.
For scale: SampleDB 0.33 on this kind of machine answers /users/me in 248 ms with Basic or
API token (bcrypt on every request) and 7 ms with an access token.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile

import httpx2

from _live import live_server, rate  # bench/ is on sys.path when run as a script

USER, PASSWORD = "bench", "bench-password-1"


def _isofind_env(data_dir: str) -> dict[str, str]:
    env = {"ISOFIND_DATA_DIR": data_dir, "ISOFIND_MODE": "multi_user"}
    url = os.environ.get("ISOFIND_BENCH_DATABASE_URL")
    env["ISOFIND_DATABASE_URL"] = url or ""
    return env


def _prepare(env: dict[str, str]) -> str:
    """Migrate, create the benchmark user and return an API token (through the CLI)."""
    full = {**os.environ, **env}
    isofind = [sys.executable, "-m", "isofind.cli"]
    subprocess.run([*isofind, "init"], env=full, check=True, capture_output=True)
    subprocess.run(
        [*isofind, "users", "create", USER, "--password", PASSWORD, "--role", "analyst"],
        env=full,
        capture_output=True,
    )
    created = subprocess.run(
        [*isofind, "tokens", "create", "--user", USER],
        env=full,
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.strip().splitlines()[-1]


def _row(label: str, per_second: float, median_ms: float, floor: float) -> None:
    print(
        f"{label:<38} {per_second:>9.0f} req/s  median {median_ms:>7.2f} ms  "
        f"{floor / per_second:>5.1f}x the bare endpoint's time"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        env = _isofind_env(data_dir)
        token = _prepare(env)
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        with live_server("bare_app:create_app", {}) as bare:
            client = httpx2.Client(base_url=bare)
            floor, floor_ms = rate(lambda: client.get("/bare").raise_for_status())
        with live_server("isofind.app:create_app", env) as url:
            client = httpx2.Client(base_url=url)
            access = client.post(
                "/api/v1/access_tokens/",
                json={"description": "bench"},
                headers={"Authorization": basic},
            ).json()["access_token"]
            styles = {
                "GET /api/v1/users/me, Basic": {"Authorization": basic},
                "GET /api/v1/users/me, API token": {"Authorization": f"Bearer {token}"},
                "GET /api/v1/users/me, access token": {"Authorization": f"Bearer {access}"},
            }
            backend = "PostgreSQL" if env["ISOFIND_DATABASE_URL"] else "SQLite"
            print(f"IsoFind auth benchmark ({backend}, argon2id production parameters)")
            _row("bare FastAPI endpoint (floor)", floor, floor_ms, floor)
            for label, headers in styles.items():
                per_second, median = rate(
                    lambda h=headers: client.get("/api/v1/users/me", headers=h).raise_for_status()
                )
                _row(label, per_second, median, floor)
            login = {"username": USER, "password": PASSWORD}
            per_second, median = rate(
                lambda: httpx2.post(url + "/api/auth/login", json=login).raise_for_status()
            )
            _row("POST /api/auth/login (argon2 verify)", per_second, median, floor)


if __name__ == "__main__":
    main()
