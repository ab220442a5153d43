"""Settings from the environment (prefix ``ISOFIND_``) or ``isofind serve`` flags."""

from __future__ import annotations

import ipaddress
import os
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(StrEnum):
    SINGLE_USER = "single_user"
    MULTI_USER = "multi_user"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISOFIND_", extra="ignore")

    data_dir: Path = Field(Path("./data"), description="Where the SQLite file and files live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file isofind.db in the data dir."
    )
    host: str = "127.0.0.1"
    port: int = 8001
    workers: int = Field(1, ge=1)
    mode: Mode = Mode.SINGLE_USER
    air_gap: bool = Field(False, description="No outbound network connection at all.")
    georem_url: str | None = Field(
        None, description="GeoReM-compatible JSON service for online CRM lookup; unset: "
        "the shipped catalogue only (never consulted in air-gap mode)."
    )
    language: str = Field("en", description="Default interface language (fr or en).")

    session_lifetime_hours: float = Field(12.0, gt=0)
    access_token_lifetime_minutes: float = Field(15.0, gt=0)
    refresh_token_lifetime_hours: float = Field(24.0, gt=0)
    lockout_attempts: int = Field(5, ge=1, description="Failed logins before lockout.")
    lockout_minutes: float = Field(15.0, gt=0)
    anonymous_access: bool = Field(False, description="Allow anonymous read permissions.")
    file_storage_dir: Path | None = Field(
        None, description="Directory for uploaded files; default: files/ in the data dir."
    )
    local_files_dir: Path | None = Field(
        None, description="Only directory under which local_reference files may point."
    )
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_cost: int = Field(65536, ge=8, description="KiB")
    argon2_parallelism: int = Field(4, ge=1)

    match_alpha: float = Field(
        0.01, ge=0, le=1,
        description="Matching: groups with a compatibility p-value below this are excluded "
                    "by the hybrid algorithm (score 0).",
    )
    match_max_groups: int = Field(
        100, ge=1, description="Matching: groups listed in an answer by default, best first."
    )
    match_nearest: int = Field(
        10, ge=0, le=1000, description="Matching: nearest individual sources listed."
    )
    match_cache_size: int = Field(
        8, ge=1, description="Matching: prepared source sets kept in memory per process."
    )
    import_workers: int | None = Field(
        None, ge=0, le=1, description="Imports: 1 lets a worker process build the rows of "
        "large imports while the server writes them, 0 never; unset, 1 from 2 cores (a "
        "100,000-sample import on 2 cores: SQLite 22 -> 19 s; PostgreSQL 24-28 -> 21 s once "
        "the worker also encoded the rows for COPY)."
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in {"fr", "en"}:
            raise ValueError("language must be 'fr' or 'en'")
        return value

    @model_validator(mode="after")
    def _argon2_memory_fits_lanes(self) -> Settings:
        if self.argon2_memory_cost < 8 * self.argon2_parallelism:
            raise ValueError("argon2_memory_cost must be at least 8 KiB per lane "
                             "(8 × argon2_parallelism)")
        return self

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'isofind.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def import_worker_count(self) -> int:
        """:attr:`import_workers`, or its default for this database and machine."""
        if self.import_workers is not None:
            return self.import_workers
        return int((os.cpu_count() or 1) >= 2)

    @property
    def files_dir(self) -> Path:
        return self.file_storage_dir or self.data_dir / "files"

    @property
    def multi_user(self) -> bool:
        return self.mode == Mode.MULTI_USER


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def deployment_problem(settings: Settings) -> str | None:
    """Why this configuration must not start, or None."""
    if settings.mode == Mode.SINGLE_USER and not is_loopback(settings.host):
        return (
            f"single_user mode has no login, so it listens on loopback only; refusing host "
            f"{settings.host!r}. Set ISOFIND_MODE=multi_user to serve a network."
        )
    if settings.workers > 1 and settings.is_sqlite:
        return (
            "SQLite allows one writer process: run one worker, or use PostgreSQL "
            "(ISOFIND_DATABASE_URL=postgresql+psycopg://...) for several workers."
        )
    return None
