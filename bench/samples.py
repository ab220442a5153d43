"""Isotope samples over HTTP: CSV import, export, list and get with 100,000 samples stored.

Runs IsoFind (single-user mode) in a uvicorn subprocess on loopback against SQLite in a
temporary directory and, when ISOFIND_BENCH_DATABASE_URL names an empty PostgreSQL database,
against PostgreSQL too. Lines: import of GlobaLID (4,623 rows), import of a generated CSV of
100,000 rows (one sample per row, six Pb ratios with 2σ), the CSV export of every sample, and
the medians of ``GET /api/samples?limit=100`` (and its first call, which decodes the
documents) and ``GET /api/samples/{id}``. Baselines measured in the same run: parsing the same
files in-process (no database) and a bare FastAPI endpoint. Goals of issue 4: 100,000 rows
imported in under 20 s, exported in under 5 s, list and get under 20 ms.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

from _live import live_server  # bench/ is on sys.path when run as a script
from isofind.samples.csv_import import parse_csv

GLOBALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "globalid" / "GlobaLID.csv"
ROWS = int(os.environ.get("ISOFIND_BENCH_ROWS", "100000"))
RATIOS = ("206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb", "207Pb/206Pb", "208Pb/206Pb",
          "206Pb/207Pb")


def generated_csv(rows: int, seed: int = 3) -> bytes:
    """A GlobaLID-like file: one source sample per row, six Pb ratios and their 2σ."""
    rng = random.Random(seed)
    out = io.StringIO()
    header = ["name", "material_type", "classification", "sector", "latitude", "longitude",
              "project", "standard"]
    for ratio in RATIOS:
        header += [ratio, f"2s_{ratio}"]
    out.write(",".join(header) + "\n")
    for index in range(rows):
        a = rng.uniform(17.5, 19.5)
        b = rng.uniform(15.4, 15.8)
        c = rng.uniform(37.5, 39.5)
        values = (a, b, c, b / a, c / a, a / b)
        cells = [f"GEN-{index:06d}", "galena", "source", f"District {index % 500}",
                 f"{rng.uniform(-60, 70):.5f}", f"{rng.uniform(-170, 170):.5f}",
                 "bench", "NIST SRM 981"]
        for value in values:
            cells += [f"{value:.5f}", f"{value * 5e-5:.6f}"]
        out.write(",".join(cells) + "\n")
    return out.getvalue().encode()


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def median_ms(call: Callable[[], object], repeat: int) -> float:
    return 1000 * statistics.median(timed(call) for _ in range(repeat))


def upload(client: httpx2.Client, name: str, raw: bytes, **form: str) -> dict[str, object]:
    response = client.post("/api/import-csv", files={"file": (name, raw, "text/csv")},
                           data=form)
    response.raise_for_status()
    return response.json()


def run(label: str, env: dict[str, str], generated: bytes) -> None:
    globalid = GLOBALID.read_bytes()
    # Single-user mode acts as the first administrator: create it.
    subprocess.run([sys.executable, "-m", "isofind.cli", "init"], env={**os.environ, **env},
                   check=True, capture_output=True)
    with live_server("isofind.app:create_app", env) as url:
        client = httpx2.Client(base_url=url, timeout=600)
        t_globalid = timed(lambda: upload(client, "GlobaLID.csv", globalid, profile="globalid"))
        t_generated = timed(lambda: upload(client, "generated.csv", generated))
        total = client.get("/api/samples/stats").json()["total_samples"]
        export_bytes = 0

        def export() -> None:
            nonlocal export_bytes
            export_bytes = len(client.get("/api/samples/export").content)

        t_export = timed(export)
        # The first list decodes the documents; later ones reuse the views' JSON (issue 4).
        first_list_ms = 1000 * timed(
            lambda: client.get("/api/samples", params={"limit": 100}).raise_for_status())
        list_ms = median_ms(
            lambda: client.get("/api/samples", params={"limit": 100}).raise_for_status(), 30)
        ids = [s["id"] for s in client.get("/api/samples", params={"limit": 1000}).json()]
        rng = random.Random(5)
        get_ms = median_ms(
            lambda: client.get(f"/api/samples/{rng.choice(ids)}").raise_for_status(), 100)
    print(f"\n{label}: {total:,} samples stored after the imports")
    print(f"  import GlobaLID (4,623 rows)      {t_globalid:7.2f} s  "
          f"{4623 / t_globalid:8.0f} rows/s")
    print(f"  import {ROWS:,} generated rows   {t_generated:7.2f} s  "
          f"{ROWS / t_generated:8.0f} rows/s   (goal < 20 s for 100,000)")
    print(f"  export CSV of every sample       {t_export:7.2f} s  "
          f"{export_bytes / 1e6:6.1f} MB        (goal < 5 s)")
    print(f"  GET /api/samples?limit=100       {list_ms:7.2f} ms                 (goal < 20 ms)")
    print(f"    of which the first call        {first_list_ms:7.2f} ms                 "
          "(documents decoded)")
    print(f"  GET /api/samples/{{id}}            {get_ms:7.2f} ms                 (goal < 20 ms)")


def baselines(generated: bytes) -> None:
    globalid = GLOBALID.read_bytes()
    parse_globalid = timed(lambda: parse_csv(globalid, profile="globalid"))
    parse_generated = timed(lambda: parse_csv(generated))
    with live_server("bare_app:create_app", {}) as bare:
        bare_client = httpx2.Client(base_url=bare)
        floor = median_ms(lambda: bare_client.get("/bare").raise_for_status(), 200)
    print("\nBaselines (same run):")
    print(f"  parse GlobaLID in-process        {parse_globalid:7.2f} s")
    print(f"  parse {ROWS:,} generated rows     {parse_generated:7.2f} s")
    print(f"  bare FastAPI endpoint            {floor:7.2f} ms")


def main() -> None:
    generated = generated_csv(ROWS)
    baselines(generated)
    with tempfile.TemporaryDirectory() as data_dir:
        run("SQLite", {"ISOFIND_DATA_DIR": data_dir, "ISOFIND_DATABASE_URL": "",
                       "ISOFIND_MODE": "single_user"}, generated)
    postgres = os.environ.get("ISOFIND_BENCH_DATABASE_URL")
    if postgres:
        with tempfile.TemporaryDirectory() as data_dir:
            run("PostgreSQL", {"ISOFIND_DATA_DIR": data_dir, "ISOFIND_DATABASE_URL": postgres,
                               "ISOFIND_MODE": "single_user"}, generated)
    else:
        print("\nPostgreSQL: set ISOFIND_BENCH_DATABASE_URL to an empty database to measure it")


if __name__ == "__main__":
    sys.exit(main())
