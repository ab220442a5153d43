"""Source databases with known answers for the matching routes, built through the HTTP API."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

PB = ("206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb")
PB_2S = (0.002, 0.002, 0.005)


@dataclass(frozen=True)
class Sector:
    """A group of galena sources scattered around a centre (Pb ratios 206, 207, 208 / 204)."""

    name: str
    centre: tuple[float, float, float]
    latitude: float
    longitude: float
    n: int = 8
    material: str = "galena"
    project: str = "Mediterranean ores"
    date: str = "2021-06-01"


LAURION = Sector("Laurion, Greece", (18.85, 15.68, 38.90), 37.72, 24.05)
RIO_TINTO = Sector("Rio Tinto, Spain", (18.20, 15.63, 38.35), 37.70, -6.60,
                   project="Iberia", date="2019-03-10")
CORNWALL = Sector("Cornwall, UK", (18.45, 15.65, 38.55), 50.25, -5.20,
                  project="Atlantic", date="2015-09-20")
SECTORS = (LAURION, RIO_TINTO, CORNWALL)


def scatter(sector: Sector, seed: int) -> np.ndarray:
    """Members: a spread along the sector's growth line plus analytical noise (fixed seed)."""
    rng = np.random.default_rng(seed)
    along = rng.normal(0, 0.01, (sector.n, 1)) * np.array([1.0, 0.1, 1.1])
    noise = rng.normal(0, 1, (sector.n, 3)) * np.array([0.003, 0.002, 0.006])
    return np.array(sector.centre) + along + noise


def sources_csv(sectors: Sequence[Sector], *, seed: int = 7, classification: str = "source",
                prefix: str = "") -> bytes:
    out = io.StringIO()
    header = ["name", "material_type", "classification", "sector", "project",
              "collection_date", "latitude", "longitude"]
    for ratio in PB:
        header += [ratio, f"2s_{ratio}"]
    out.write(",".join(header) + "\n")
    for s_index, sector in enumerate(sectors):
        for m_index, values in enumerate(scatter(sector, seed + s_index)):
            name = f"{prefix}{sector.name.split(',')[0]} {m_index + 1}"
            cells = [name, sector.material, classification, f'"{sector.name}"', sector.project,
                     sector.date, f"{sector.latitude + 0.01 * m_index:.4f}",
                     f"{sector.longitude + 0.01 * m_index:.4f}"]
            for value, sigma in zip(values, PB_2S, strict=True):
                cells += [f"{value:.5f}", f"{sigma}"]
            out.write(",".join(cells) + "\n")
    return out.getvalue().encode()


def import_csv(client: TestClient, raw: bytes, **kwargs: Any) -> dict[str, Any]:
    data = {k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in kwargs.pop("form", {}).items()}
    response = client.post("/api/import-csv", files={"file": ("sources.csv", raw, "text/csv")},
                           data=data, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def pb_items(values: Sequence[float], uncertainties: Sequence[float | None] = PB_2S,
             ratios: Sequence[str] = PB) -> list[dict[str, Any]]:
    return [{"element": "Pb", "ratio": ratio, "value": value, "uncertainty": sigma,
             "standard": "NIST SRM 981"}
            for ratio, value, sigma in zip(ratios, values, uncertainties, strict=True)]


def near(sector: Sector, shift: Sequence[float] = (0.001, 0.0005, 0.002)) -> list[float]:
    """A point close to the sector's centre."""
    return [c + d for c, d in zip(sector.centre, shift, strict=True)]


def sample_ids(client: TestClient, **kwargs: Any) -> dict[str, int]:
    response = client.get("/api/samples", params={"include_archived": "true"}, **kwargs)
    assert response.status_code == 200, response.text
    return {sample["name"]: sample["id"] for sample in response.json()}


def create_sample(client: TestClient, body: dict[str, Any], **kwargs: Any) -> int:
    response = client.post("/api/samples", json=body, **kwargs)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def group_names(answer: dict[str, Any]) -> list[str]:
    return [group["group"] for group in answer["groups"]]


@pytest.fixture
def lab(client: TestClient) -> Callable[..., dict[str, int]]:
    """Import the three reference sectors (and optional extra ones); name → sample id."""

    def build(*extra: Sector, **kwargs: Any) -> dict[str, int]:
        import_csv(client, sources_csv((*SECTORS, *extra)), **kwargs)
        return sample_ids(client, **kwargs)

    return build
