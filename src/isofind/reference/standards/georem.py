"""GeoReM reference materials: the curated catalogue shipped with IsoFind, and an online source.

The catalogue (``data/georem_catalogue.json``) answers by default and always in air-gap
mode. An online source is consulted only when ``ISOFIND_AIR_GAP`` is off *and*
``ISOFIND_GEOREM_URL`` names one, so no connection is ever opened unless configured. The
online source is a GeoReM-compatible JSON service answering, in the catalogue's format,

* ``GET {url}/search?q=<text>&limit=<n>``: a list of reference materials;
* ``GET {url}/reference-materials/{georem_id}``: one reference material.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from isofind.config import Settings
from isofind.samples.vocabulary import fold

ONLINE_TIMEOUT_SECONDS = 10.0
_MAX_ANSWER_BYTES = 5_000_000


class GeoremUnavailable(Exception):
    """The online source could not be read; the message says why."""


class _NotOnline(GeoremUnavailable):
    """The online source answered 404: no such entry (or, for a search, no such route)."""


@cache
def catalogue() -> tuple[dict[str, Any], ...]:
    text = files("isofind.reference.standards").joinpath(
        "data", "georem_catalogue.json").read_text(encoding="utf-8")
    return tuple(json.loads(text))


def _matches(entry: dict[str, Any], words: list[str]) -> bool:
    haystack = fold(" ".join(
        str(part) for part in (
            entry.get("name"), entry.get("material"), entry.get("producer"),
            *(i.get("ratio") for i in entry.get("isotopes", [])),
            *(c.get("element") for c in entry.get("concentrations", [])),
        ) if part
    ))
    compact = haystack.replace("-", "").replace(" ", "")
    return all(word in haystack or word.replace("-", "") in compact for word in words)


def search_catalogue(query: str, limit: int) -> list[dict[str, Any]]:
    """Catalogue entries whose name, material, producer, ratios or elements hold every word."""
    words = fold(query).split()
    return [entry for entry in catalogue() if _matches(entry, words)][:limit]


def catalogue_entry(georem_id: int) -> dict[str, Any] | None:
    return next((entry for entry in catalogue() if entry["georem_id"] == georem_id), None)


@dataclass(frozen=True, slots=True)
class OnlineSource:
    url: str
    timeout: float = ONLINE_TIMEOUT_SECONDS

    @classmethod
    def configured(cls, settings: Settings) -> OnlineSource | None:
        """The online source, or None in air-gap mode or when none is configured."""
        if settings.air_gap or not settings.georem_url:
            return None
        return cls(settings.georem_url.rstrip("/"))

    def _get(self, path: str) -> Any:
        request = urllib.request.Request(self.url + path, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = answer.read(_MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            kind = _NotOnline if exc.code == 404 else GeoremUnavailable
            raise kind(f"GeoReM source {self.url} unreachable: {exc}") from None
        except (OSError, ValueError) as exc:
            raise GeoremUnavailable(f"GeoReM source {self.url} unreachable: {exc}") from None
        if len(body) > _MAX_ANSWER_BYTES:
            raise GeoremUnavailable(f"GeoReM source {self.url} answered more than 5 MB")
        try:
            return json.loads(body)
        except ValueError:
            raise GeoremUnavailable(f"GeoReM source {self.url} did not answer JSON") from None

    def search(self, query: str, limit: int) -> list[dict[str, Any]]:
        answer = self._get("/search?" + urllib.parse.urlencode({"q": query, "limit": limit}))
        if not isinstance(answer, list):
            raise GeoremUnavailable(f"GeoReM source {self.url} did not answer a list")
        return [entry for entry in answer if _well_formed(entry)][:limit]

    def entry(self, georem_id: int) -> dict[str, Any] | None:
        try:
            answer = self._get(f"/reference-materials/{georem_id}")
        except _NotOnline:
            return None
        if not _well_formed(answer) or answer["georem_id"] != georem_id:
            raise GeoremUnavailable(
                f"GeoReM source {self.url} answered no reference material {georem_id}")
        return answer


def _well_formed(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("georem_id"), int)
        and isinstance(entry.get("name"), str)
        and isinstance(entry.get("isotopes", []), list)
        and isinstance(entry.get("concentrations", []), list)
    )
