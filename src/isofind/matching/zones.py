"""Reference geographic zones: GeoJSON polygons, their rules, and point-in-polygon with shapely.

A zone can group source samples (``group_by: "zone"``: the sources whose coordinates fall in
it, border included) and carry a prior weight for the Bayesian and hybrid algorithms.
Prepared shapely geometries are cached per process and rebuilt only when a zone's
``version`` changes (every write bumps it), so a match does not re-parse polygons.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import Conflict, NotFound
from isofind.identity.models import User
from isofind.matching.models import Zone
from isofind.names import same_name
from isofind.timeutil import iso_timestamp, utcnow

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")

#: (zone id, version) of every zone, in id order: changes whenever any zone does.
ZonesKey = tuple[tuple[int, int], ...]


# --- GeoJSON validation (pure) ----------------------------------------------------------------


class GeometryError(ValueError):
    """The GeoJSON is not a usable polygon; the message names the position at fault."""


def _position(value: Any, where: str) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise GeometryError(f"{where}: a position must be [longitude, latitude], got {value!r}")
    numbers = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise GeometryError(f"{where}: coordinates must be finite numbers, got {value!r}")
        numbers.append(float(item))
    longitude, latitude = numbers[0], numbers[1]
    if not -180 <= longitude <= 180:
        raise GeometryError(f"{where}: longitude {longitude:g} is outside -180..180")
    if not -90 <= latitude <= 90:
        raise GeometryError(f"{where}: latitude {latitude:g} is outside -90..90")
    return [longitude, latitude]


def _ring(value: Any, where: str) -> list[list[float]]:
    if not isinstance(value, list | tuple):
        raise GeometryError(f"{where}: a linear ring must be a list of positions")
    positions = [_position(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if len(positions) < 4:
        raise GeometryError(
            f"{where}: a linear ring needs at least 4 positions (the first repeated last), "
            f"got {len(positions)}"
        )
    if positions[0] != positions[-1]:
        raise GeometryError(
            f"{where}: the ring is not closed: its first position {positions[0]} differs from "
            f"its last {positions[-1]}"
        )
    return positions


def _polygon(value: Any, where: str) -> list[list[list[float]]]:
    if not isinstance(value, list | tuple) or not value:
        raise GeometryError(f"{where}: a polygon must be a non-empty list of linear rings")
    return [_ring(ring, f"{where}[{i}]") for i, ring in enumerate(value)]


def validate_geometry(value: Any) -> dict[str, Any]:
    """A GeoJSON Polygon or MultiPolygon (or a Feature holding one) as a clean geometry.

    Raises GeometryError naming the problem: wrong type, malformed or out-of-range
    positions, unclosed rings, self-intersections (shapely's explanation), zero area.
    """
    if not isinstance(value, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    if value.get("type") == "Feature":
        value = value.get("geometry")
        if not isinstance(value, dict):
            raise GeometryError("the Feature has no geometry object")
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"geometry type must be Polygon or MultiPolygon, got {kind!r}")
    coordinates = value.get("coordinates")
    if kind == "Polygon":
        clean: Any = _polygon(coordinates, "coordinates")
    else:
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise GeometryError("coordinates: a MultiPolygon needs a non-empty list of polygons")
        clean = [_polygon(p, f"coordinates[{i}]") for i, p in enumerate(coordinates)]
    geometry = {"type": kind, "coordinates": clean}
    built = shape(geometry)
    if not built.is_valid:
        raise GeometryError(f"the polygon is not valid: {explain_validity(built)}")
    if built.area <= 0:
        raise GeometryError("the polygon has no area")
    return geometry


# --- prepared zones (process cache) -----------------------------------------------------------


@dataclass(frozen=True)
class PreparedZone:
    id: int
    name: str
    prior_weight: float | None
    geometry: BaseGeometry
    area: float


@dataclass(frozen=True)
class ZoneSet:
    key: ZonesKey
    zones: tuple[PreparedZone, ...]

    def membership(self, latitudes: NDArray[np.float64],
                   longitudes: NDArray[np.float64]) -> NDArray[np.bool_]:
        """(zones × points): the point lies in the zone or on its border; unknown → False."""
        result = np.zeros((len(self.zones), latitudes.size), dtype=bool)
        known = np.isfinite(latitudes) & np.isfinite(longitudes)
        for row, zone in enumerate(self.zones):
            result[row, known] = shapely.intersects_xy(
                zone.geometry, longitudes[known], latitudes[known]
            )
        return result

    def smallest_containing(self, latitude: float, longitude: float) -> PreparedZone | None:
        """The most specific zone holding the point (zones may nest: Iberia ⊃ a district)."""
        found = [
            zone for zone in self.zones
            if shapely.intersects_xy(zone.geometry, longitude, latitude)
        ]
        return min(found, key=lambda zone: zone.area) if found else None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(zone.name for zone in self.zones)


class ZoneCache:
    """The prepared zones of the last version seen, rebuilt when any zone changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = ZoneSet((), ())
        self.loads = 0

    def get(self, db: Session) -> ZoneSet:
        key: ZonesKey = tuple(
            (row.id, row.version) for row in db.execute(select(Zone.id, Zone.version)
                                                        .order_by(Zone.id))
        )
        with self._lock:
            if key == self._current.key:
                return self._current
        rows = db.execute(
            select(Zone.id, Zone.version, Zone.name, Zone.geometry, Zone.prior_weight)
            .order_by(Zone.id)
        ).all()
        zones = []
        for row in rows:
            geometry = shape(row.geometry)
            shapely.prepare(geometry)
            zones.append(PreparedZone(row.id, row.name, row.prior_weight, geometry,
                                      float(geometry.area)))
        # Keyed by the rows read, not the first query: on PostgreSQL both may differ.
        loaded = ZoneSet(tuple((row.id, row.version) for row in rows), tuple(zones))
        with self._lock:
            self._current = loaded
            self.loads += 1
        return loaded


# --- zone rules -------------------------------------------------------------------------------


def zone_view(zone: Zone) -> dict[str, Any]:
    minx, miny, maxx, maxy = shape(zone.geometry).bounds
    return {
        "id": zone.id,
        "name": zone.name,
        "description": zone.description,
        "geometry": zone.geometry,
        "prior_weight": zone.prior_weight,
        "bounds": {"min_longitude": minx, "min_latitude": miny,
                   "max_longitude": maxx, "max_latitude": maxy},
        "version": zone.version,
        "created_at": iso_timestamp(zone.created_at),
        "updated_at": iso_timestamp(zone.updated_at),
    }


def list_zones(db: Session) -> list[dict[str, Any]]:
    return [zone_view(zone) for zone in db.scalars(select(Zone).order_by(Zone.name, Zone.id))]


def count_zones(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Zone)) or 0


def _zone(db: Session, zone_id: int) -> Zone:
    zone = db.get(Zone, zone_id)
    if zone is None:
        raise NotFound(f"zone {zone_id} not found")
    return zone


def get_zone(db: Session, zone_id: int) -> dict[str, Any]:
    return zone_view(_zone(db, zone_id))


def _check_unique_name(db: Session, name: str, zone_id: int | None) -> None:
    clash = same_name(db, Zone.id, Zone.name, name)
    if clash is not None and clash[0] != zone_id:
        raise Conflict(f"a zone named {name!r} already exists (zone {clash[0]})")


def create_zone(db: Session, user: User, fields: dict[str, Any], *,
                client_address: str | None = None) -> dict[str, Any]:
    """``fields``: name, description, geometry (already validated), prior_weight."""
    _check_unique_name(db, fields["name"], None)
    zone = Zone(**fields, version=1, created_by=user.id, updated_by=user.id)
    db.add(zone)
    db.flush()
    record_activity(db, "zone.created", user_id=user.id, target_type="zone", target_id=zone.id,
                    details={"name": zone.name}, client_address=client_address)
    return zone_view(zone)


def update_zone(db: Session, user: User, zone_id: int, fields: dict[str, Any], *,
                client_address: str | None = None) -> dict[str, Any]:
    zone = _zone(db, zone_id)
    _check_unique_name(db, fields["name"], zone.id)
    for name, value in fields.items():
        setattr(zone, name, value)
    zone.version += 1
    zone.updated_at = utcnow()
    zone.updated_by = user.id
    db.flush()
    record_activity(db, "zone.updated", user_id=user.id, target_type="zone", target_id=zone.id,
                    details={"name": zone.name, "version": zone.version},
                    client_address=client_address)
    return zone_view(zone)


def delete_zone(db: Session, user: User, zone_id: int, *,
                client_address: str | None = None) -> None:
    zone = _zone(db, zone_id)
    record_activity(db, "zone.deleted", user_id=user.id, target_type="zone", target_id=zone.id,
                    details={"name": zone.name}, client_address=client_address)
    db.delete(zone)
    db.flush()


def zone_weights(zones: ZoneSet, overrides: dict[str, float] | None) -> dict[str, float]:
    """Prior weight per zone name: the override, else the stored weight, else 1."""
    weights = {zone.name: 1.0 if zone.prior_weight is None else zone.prior_weight
               for zone in zones.zones}
    weights.update({name: w for name, w in (overrides or {}).items() if name in weights})
    return weights


def unknown_zone_names(zones: ZoneSet, names: Sequence[str]) -> list[str]:
    known = zones.names
    return sorted(name for name in names if name not in known)
