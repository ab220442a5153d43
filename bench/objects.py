"""The object store over HTTP: creation, reads, lists, search, diffs, permissions.

Runs IsoFind in a uvicorn subprocess on loopback against SQLite (temporary directory) and,
when ISOFIND_BENCH_DATABASE_URL names an empty PostgreSQL database, against PostgreSQL too.
10,000 objects are stored first (through the same service code the API uses); each line is
the median of sequential requests with an access token. A bare FastAPI endpoint measured in
the same run is the floor. ``--stored N`` and ``--seconds S`` shrink the workload while
iterating; ``--backend sqlite|postgresql`` runs one backend only. For scale, SampleDB 0.33 on
this kind of machine (PostgreSQL, access token): 20 creations/s, 12 ms per version read,
104 ms to list 1,000 objects, 109 ms for q=mass > 50mg, 80 ms for a diff version, 38 ms for a
permission PUT.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import httpx2

from _live import live_server, rate  # bench/ is on sys.path when run as a script
from isofind.config import Settings
from isofind.db import Database
from isofind.identity.service import find_user
from isofind.migrations import upgrade
from isofind.objects import service as objects
from isofind.objects.models import Action
from isofind.permissions.service import Viewer

STORED = 10_000
USER, PASSWORD = "bench", "bench-password-1"
SCHEMA = {
    "title": "Sample",
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"title": "Name", "type": "text"},
        "mass": {"title": "Mass", "type": "quantity", "units": "mg"},
        "notes": {"title": "Notes", "type": "text", "multiline": True},
    },
}


def sample_data(index: int, rng: random.Random) -> dict[str, object]:
    return {
        "name": {"_type": "text", "text": f"Sample {index}"},
        "mass": {"_type": "quantity", "magnitude": round(rng.uniform(1, 100), 3), "units": "mg"},
        "notes": {"_type": "text", "text": "galena from the Laurion district"},
    }


def seed(env: dict[str, str], stored: int) -> int:
    """Create the user, the action and STORED objects; returns the action id."""
    full = {**os.environ, **env}
    isofind = [sys.executable, "-m", "isofind.cli"]
    subprocess.run([*isofind, "init"], env=full, check=True, capture_output=True)
    subprocess.run(
        [*isofind, "users", "create", USER, "--password", PASSWORD],
        env=full,
        check=True,
        capture_output=True,
    )
    settings = Settings(
        database_url=env["ISOFIND_DATABASE_URL"] or None, data_dir=env["ISOFIND_DATA_DIR"]
    )
    database = Database(settings.effective_database_url)
    upgrade(database.engine)
    rng = random.Random(7)
    with database.session(write=True) as db:
        action = Action(
            type_id=-99,
            name="Bench sample",
            description="",
            is_hidden=False,
            schema=SCHEMA,
            is_locked=False,
        )
        db.add(action)
        db.flush()
        action_id = action.id
        viewer = Viewer(find_user(db, USER))
        for index in range(stored):
            objects.create_object(db, viewer, action_id, sample_data(index, rng))
    with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # What autovacuum does within a minute of the seeding; this machine's server runs
            # with autovacuum off, and without statistics the list took 15 ms instead of 10.
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    database.dispose()
    return action_id


def median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def diff_version_ms(
    client: httpx2.Client, object_id: int, rng: random.Random, repeat: int
) -> float:
    """Median time of POSTing a data_diff; reading the current value is not timed."""
    times = []
    for _ in range(repeat):
        current = client.get(f"/api/v1/objects/{object_id}").json()["data"]["mass"]
        diff = {
            "mass": {
                "_before": current,
                "_after": {
                    "_type": "quantity",
                    "magnitude": round(rng.uniform(1, 100), 3),
                    "units": "mg",
                },
            }
        }
        start = time.perf_counter()
        client.post(
            f"/api/v1/objects/{object_id}/versions/", json={"data_diff": diff}
        ).raise_for_status()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def run(label: str, env: dict[str, str], stored: int, seconds: float) -> None:
    action_id = seed(env, stored)
    with live_server("isofind.app:create_app", env) as url:
        client = httpx2.Client(base_url=url, timeout=60, follow_redirects=True)
        token = client.post(
            "/api/v1/access_tokens/", json={"description": "bench"}, auth=(USER, PASSWORD)
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        rng = random.Random(11)
        created, _ = rate(
            lambda: client.post(
                "/api/v1/objects/", json={"action_id": action_id, "data": sample_data(0, rng)}
            ).raise_for_status(),
            seconds,
        )
        target = stored // 2
        lines = {
            "GET a version": median_ms(
                lambda: client.get(f"/api/v1/objects/{target}/versions/0").raise_for_status(), 50
            ),
            "GET /objects/?limit=1000": median_ms(
                lambda: client.get("/api/v1/objects/", params={"limit": 1000}).raise_for_status(),
                10,
            ),
            "q=mass > 50mg (limit 1000)": median_ms(
                lambda: client.get(
                    "/api/v1/objects/", params={"q": "mass > 50mg", "limit": 1000}
                ).raise_for_status(),
                10,
            ),
            "q=mass > 50mg (all matches)": median_ms(
                lambda: client.get(
                    "/api/v1/objects/", params={"q": "mass > 50mg"}
                ).raise_for_status(),
                5,
            ),
        }

        lines["diff version (POST data_diff)"] = diff_version_ms(client, target, rng, 30)
        permission_path = f"/api/v1/objects/{target}/permissions/authenticated_users"
        lines["permission PUT"] = median_ms(
            lambda: client.put(permission_path, json="read").raise_for_status(), 30
        )
    with live_server("bare_app:create_app", {}) as bare:
        bare_client = httpx2.Client(base_url=bare)
        floor = median_ms(lambda: bare_client.get("/bare").raise_for_status(), 200)
    print(f"\n{label}: {stored:,} objects stored")
    print(f"  {'bare FastAPI endpoint (floor)':<32} {floor:8.2f} ms")
    print(f"  {'object creation':<32} {created:8.0f} /s   (SampleDB 0.33: 20 /s)")
    reference = {
        "GET a version": 12,
        "GET /objects/?limit=1000": 104,
        "q=mass > 50mg (limit 1000)": 109,
        "diff version (POST data_diff)": 80,
        "permission PUT": 38,
    }
    for name, value in lines.items():
        scale = f"(SampleDB 0.33: {reference[name]} ms)" if name in reference else ""
        print(f"  {name:<32} {value:8.2f} ms  {scale}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=STORED, help="objects stored first")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of the creation line")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help="only this backend")
    options = parser.parse_args()
    if options.backend != "postgresql":
        with tempfile.TemporaryDirectory() as data_dir:
            run(
                "SQLite",
                {
                    "ISOFIND_DATA_DIR": data_dir,
                    "ISOFIND_DATABASE_URL": "",
                    "ISOFIND_MODE": "multi_user",
                },
                options.stored,
                options.seconds,
            )
    if options.backend == "sqlite":
        return
    postgres = os.environ.get("ISOFIND_BENCH_DATABASE_URL")
    if postgres:
        with tempfile.TemporaryDirectory() as data_dir:
            run(
                "PostgreSQL",
                {
                    "ISOFIND_DATA_DIR": data_dir,
                    "ISOFIND_DATABASE_URL": postgres,
                    "ISOFIND_MODE": "multi_user",
                },
                options.stored,
                options.seconds,
            )
    else:
        print("\nPostgreSQL: set ISOFIND_BENCH_DATABASE_URL to an empty database to measure it")


if __name__ == "__main__":
    main()
