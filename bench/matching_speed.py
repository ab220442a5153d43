"""Speed of the matching engine, in process and over HTTP.

Run: ``nice .venv/bin/python bench/matching_speed.py`` (a few minutes on 2 cores; set
ISOFIND_BENCH_SKIP_HTTP=1 for the engine part only).

1. One ``hybrid`` match against 100,000 synthetic Pb sources in 1,000 groups (aim < 50 ms in
   the engine), then the same sources imported into IsoFind (``POST /api/import-csv``, SQLite
   in a temporary directory, single-user mode, uvicorn on loopback) and one ``hybrid``
   ``POST /analyze/manual`` timed over HTTP (aim < 100 ms): the first call loads and prepares
   the sources (once per index generation), the median is of the calls after it. A bare
   FastAPI endpoint measured in the same run is the HTTP floor. The readable part of the
   request (the permission query narrowing the cached sources to the viewer's, issue 6) is
   then timed in process on the same database: asked of the database (what the first match
   after a permission change pays) and answered from its memo. With
   ISOFIND_BENCH_DATABASE_URL naming an empty PostgreSQL database, PostgreSQL is measured too.
2. A batch of 10,000 samples against GlobaLID (4,619 analyses, grouped by mining area)
   (aim < 10 s).

Each engine figure is printed next to a bare vectorised numpy Mahalanobis pass over the same
arrays, measured in the same run: the floor that any engine doing per-group or per-source
distances cannot beat. Timings are medians of repeated runs after one warm-up run.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import httpx2
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from _live import live_server  # bench/ is on sys.path when run as a script
from isofind.config import Settings
from isofind.db import Database
from isofind.identity.models import User
from isofind.matching.engine import IsotopeValue, MatchOptions, evaluate, match, match_batch
from isofind.matching.repository import SourceFilter, load_source_set, readable
from isofind.matching.sources import PreparedSources, prepare_sources
from isofind.permissions.service import Viewer
from isofind.samples.index import generation
from matching_accuracy import BASIS, load_globalid

FloatArray = NDArray[np.float64]

N_SOURCES = 100_000
N_GROUPS = 1_000
N_BATCH = 10_000
BATCH_MAX_GROUPS = 10


def timed(action: Callable[[], object], repeats: int) -> float:
    """Median wall time in seconds, after one warm-up call."""
    action()
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def synthetic_sources(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, list[str]]:
    """Groups scattered over the common-lead range, each elongated along a growth line."""
    centres = np.column_stack(
        [rng.uniform(17.0, 19.5, N_GROUPS), np.zeros(N_GROUPS), np.zeros(N_GROUPS)]
    )
    centres[:, 1] = 14.6 + 0.055 * centres[:, 0] + rng.normal(0, 0.03, N_GROUPS)
    centres[:, 2] = 19.6 + 1.0 * centres[:, 0] + rng.normal(0, 0.2, N_GROUPS)
    group_of = rng.integers(0, N_GROUPS, N_SOURCES)
    spread = rng.normal(size=(N_SOURCES, 1)) * rng.uniform(0.01, 0.08, N_GROUPS)[group_of, None]
    noise = rng.normal(size=(N_SOURCES, 3)) * [0.004, 0.003, 0.01]
    values = centres[group_of] + spread * [1.0, 0.1, 1.1] + noise
    two_sigma = values * 5e-4
    return values, two_sigma, [f"group {g:04d}" for g in group_of.tolist()]


def precisions(prepared: PreparedSources) -> tuple[FloatArray, FloatArray]:
    """Group means (G, k) and inverse predictive covariances (G, k, k) of the prepared data."""
    view = prepared.view(prepared.default_references)
    subset = view.subset(int(view.masks.max()))
    means = subset.predictive_means.T
    covariance = np.moveaxis(subset.predictive_covariance, (0, 1), (-2, -1))
    return np.ascontiguousarray(means), np.linalg.inv(covariance)


def bare_mahalanobis(samples: FloatArray, means: FloatArray, inverse: FloatArray) -> FloatArray:
    """D² of every sample to every group mean with precomputed precision matrices."""
    result = np.empty((samples.shape[0], means.shape[0]))
    for start in range(0, samples.shape[0], 256):
        residual = samples[start : start + 256, None, :] - means[None, :, :]
        result[start : start + 256] = np.einsum("sgi,gij,sgj->sg", residual, inverse, residual)
    return result


def bare_source_pass(
    samples: FloatArray, sources: FloatArray, source_inverse: FloatArray
) -> FloatArray:
    """D² of every sample to every source with its group's precision (no reduction)."""
    total = 0.0
    for start in range(0, samples.shape[0], 16):
        residual = samples[start : start + 16, None, :] - sources[None, :, :]
        total += float(np.einsum("sni,nij,snj->", residual, source_inverse, residual))
    return np.array([total])


def single_match(rng: np.random.Generator) -> None:
    values, two_sigma, groups = synthetic_sources(rng)
    latitudes = rng.uniform(-60, 60, N_SOURCES)
    longitudes = rng.uniform(-180, 180, N_SOURCES)
    started = time.perf_counter()
    prepared = prepare_sources(
        BASIS,
        values,
        two_sigma,
        groups,
        latitudes=latitudes,
        longitudes=longitudes,
    )
    prepare_time = time.perf_counter() - started
    query_values = values[12345] + rng.normal(0, 0.003, 3)
    query = [
        IsotopeValue(name, float(v), float(v) * 5e-4)
        for name, v in zip(BASIS, query_values, strict=True)
    ]
    engine = timed(lambda: match(query, prepared), repeats=30)
    result = match(query, prepared)
    means, inverse = precisions(prepared)
    group_floor = timed(lambda: bare_mahalanobis(query_values[None, :], means, inverse), 30)
    group_index = prepared.group_index
    sources = prepared.view(prepared.default_references).values
    source_floor = timed(
        lambda: bare_source_pass(query_values[None, :], sources, inverse[group_index]), 30
    )
    print(f"1) one hybrid match, {N_SOURCES:,} synthetic sources in {N_GROUPS:,} groups")
    print(f"   prepare_sources (once per database generation): {prepare_time * 1e3:8.1f} ms")
    print(f"   engine match (all groups, 10 nearest sources):   {engine * 1e3:8.1f} ms  (aim < 50)")
    print(f"   floor: bare numpy Mahalanobis to {N_GROUPS:,} means:   {group_floor * 1e3:8.2f} ms")
    print(
        f"   floor: bare numpy Mahalanobis to {N_SOURCES:,} sources: {source_floor * 1e3:7.2f} ms"
    )
    print(
        f"   best group {result.groups[0].group} (score {result.groups[0].score:.3f}), "
        f"true group {groups[12345]}"
    )
    if os.environ.get("ISOFIND_BENCH_SKIP_HTTP"):
        return
    raw = sources_csv(values, two_sigma, groups, latitudes, longitudes)
    body = {
        "sample_name": "bench query",
        "material_type": "galena",
        "algorithm": "hybrid",
        "isotope_data": [
            {"element": "Pb", "ratio": name, "value": float(v), "uncertainty": float(v) * 5e-4}
            for name, v in zip(BASIS, query_values, strict=True)
        ],
    }
    with live_server("bare_app:create_app", {}) as bare:
        bare_client = httpx2.Client(base_url=bare)
        floor = http_median(lambda: bare_client.get("/bare").raise_for_status(), 100)
    print(f"   floor: bare FastAPI endpoint over HTTP:             {floor:8.2f} ms")
    with tempfile.TemporaryDirectory() as data_dir:
        http_match("SQLite", {"ISOFIND_DATA_DIR": data_dir, "ISOFIND_DATABASE_URL": ""}, raw,
                   body, engine)
    postgres = os.environ.get("ISOFIND_BENCH_DATABASE_URL")
    if postgres:
        with tempfile.TemporaryDirectory() as data_dir:
            http_match("PostgreSQL", {"ISOFIND_DATA_DIR": data_dir,
                                      "ISOFIND_DATABASE_URL": postgres}, raw, body, engine)
    else:
        print("   PostgreSQL: set ISOFIND_BENCH_DATABASE_URL to an empty database to measure it")


def sources_csv(
    values: FloatArray,
    two_sigma: FloatArray,
    groups: list[str],
    latitudes: FloatArray,
    longitudes: FloatArray,
) -> bytes:
    """The synthetic sources as an IsoFind CSV: one source sample per row."""
    out = io.StringIO()
    header = ["name", "material_type", "classification", "sector", "latitude", "longitude"]
    for name in BASIS:
        header += [name, f"2s_{name}"]
    out.write(",".join(header) + "\n")
    for index in range(values.shape[0]):
        cells = [
            f"SYN-{index:06d}",
            "galena",
            "source",
            groups[index],
            f"{latitudes[index]:.5f}",
            f"{longitudes[index]:.5f}",
        ]
        for value, sigma in zip(values[index], two_sigma[index], strict=True):
            cells += [f"{value:.6f}", f"{sigma:.7f}"]
        out.write(",".join(cells) + "\n")
    return out.getvalue().encode()


def http_median(call: Callable[[], object], repeats: int) -> float:
    """Median wall time in milliseconds."""
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return 1000 * statistics.median(durations)


def http_match(
    label: str, env: dict[str, str], raw: bytes, body: dict[str, object], engine: float
) -> None:
    env = {**env, "ISOFIND_MODE": "single_user"}
    # Single-user mode acts as the first administrator: create it (and the schema).
    subprocess.run(
        [sys.executable, "-m", "isofind.cli", "init"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    with live_server("isofind.app:create_app", env) as url:
        client = httpx2.Client(base_url=url, timeout=600)
        started = time.perf_counter()
        client.post(
            "/api/import-csv", files={"file": ("sources.csv", raw, "text/csv")}
        ).raise_for_status()
        seeding = time.perf_counter() - started

        def analyze() -> dict[str, object]:
            response = client.post("/analyze/manual", json=body)
            response.raise_for_status()
            return response.json()

        started = time.perf_counter()
        answer = analyze()
        cold = 1000 * (time.perf_counter() - started)
        warm = http_median(analyze, 30)
    groups = answer["groups"]
    best = groups[0] if isinstance(groups, list) and groups else {}
    print(f"   {label}: {answer['n_sources']:,} sources imported over HTTP in {seeding:.1f} s")
    print(f"   {label}: first /analyze/manual (loads, prepares):  {cold:8.1f} ms")
    print(
        f"   {label}: hybrid /analyze/manual over HTTP:        {warm:8.1f} ms  (aim < 100; "
        f"engine {engine * 1e3:.1f} ms), best group {best.get('group')}"
    )
    url = Settings(database_url=env.get("ISOFIND_DATABASE_URL") or None,
                   data_dir=env["ISOFIND_DATA_DIR"]).effective_database_url
    asked, memoised = readable_times(url)
    print(f"   {label}: readable part, asked of the database:     {asked:8.1f} ms  "
          "(in process; once per permission generation)")
    print(f"   {label}: readable part, memoised:                  {memoised:8.2f} ms")


def readable_times(url: str) -> tuple[float, float]:
    """Median milliseconds of ``readable()`` for the owner (the single-user viewer): asking
    the database (memo emptied before each call), and answered from the memo."""
    database = Database(url)
    try:
        with database.session(write=False) as db:
            owner = db.scalar(select(User).order_by(User.id))
            source_set = load_source_set(db, SourceFilter(elements=("Pb",)), None,
                                         generation(db))

            def ask() -> None:
                source_set.readable_memo.clear()
                readable(db, Viewer(owner), source_set)

            asked = timed(ask, repeats=15)
            memoised = timed(lambda: readable(db, Viewer(owner), source_set), repeats=15)
            return 1000 * asked, 1000 * memoised
    finally:
        database.dispose()


def globalid_batch(rng: np.random.Generator) -> None:
    data = load_globalid()
    areas = [
        f"{country} | {area or '(unspecified)'}"
        for country, area in zip(data.countries.tolist(), data.areas.tolist(), strict=True)
    ]
    prepared = prepare_sources(BASIS, data.values, data.two_sigma["reported"], areas)
    drawn = rng.integers(0, data.values.shape[0], N_BATCH)
    samples = data.values[drawn] * (1 + rng.normal(0, 2.5e-4, (N_BATCH, 3)))
    two_sigma = samples * 5e-4
    queries = [
        [
            IsotopeValue(name, float(v), float(s))
            for name, v, s in zip(BASIS, row, sigma, strict=True)
        ]
        for row, sigma in zip(samples, two_sigma, strict=True)
    ]
    options = MatchOptions(max_groups=BATCH_MAX_GROUPS)
    batch = timed(lambda: match_batch(queries, prepared, options), repeats=2)
    arrays = timed(lambda: evaluate(prepared, BASIS, samples, two_sigma, options), repeats=2)
    means, inverse = precisions(prepared)
    group_floor = timed(lambda: bare_mahalanobis(samples, means, inverse), repeats=2)
    sources = prepared.view(prepared.default_references).values
    source_floor = timed(
        lambda: bare_source_pass(samples, sources, inverse[prepared.group_index]), repeats=1
    )
    print(
        f"2) batch of {N_BATCH:,} samples against GlobaLID "
        f"({prepared.n_sources:,} analyses, {len(prepared.group_names)} mining areas)"
    )
    print(
        f"   match_batch (results with top {BATCH_MAX_GROUPS} groups, 10 nearest): "
        f"{batch:6.2f} s  (aim < 10)"
    )
    print(f"   evaluate (evidence arrays, all groups, no result objects): {arrays:6.2f} s")
    print(f"   floor: bare numpy Mahalanobis to the group means:          {group_floor:6.2f} s")
    print(f"   floor: bare numpy Mahalanobis to every source:             {source_floor:6.2f} s")


def main() -> None:
    rng = np.random.default_rng(2026)
    single_match(rng)
    globalid_batch(rng)


if __name__ == "__main__":
    main()
