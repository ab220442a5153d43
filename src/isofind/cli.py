"""The ``isofind`` command: serve, init, users, tokens, import, trash."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from isofind.config import Mode, Settings, deployment_problem
from isofind.db import Database
from isofind.errors import ApiError
from isofind.identity import service
from isofind.identity.bootstrap import InitialAdmin, create_initial_admin
from isofind.identity.models import Role, User
from isofind.identity.service import IdentityRuntime
from isofind.migrations import upgrade
from isofind.permissions.service import Viewer
from isofind.samples import importing
from isofind.samples import service as samples

app = typer.Typer(help="IsoFind: isotope sample database and provenance matching.",
                  no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
trash_app = typer.Typer(help="Deleted samples: list, restore, purge.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(trash_app, name="trash")
err = Console(stderr=True)
out = Console()


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"ISOFIND_{'_'.join(map(str, e['loc'])).upper() or 'SETTINGS'}: {e['msg']}"
            for e in exc.errors()
        )
        _fail(f"invalid configuration: {problems}")


def _prepare(settings: Settings) -> tuple[Database, IdentityRuntime]:
    """Create the data directory, apply migrations, and open the database."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    upgrade(database.engine)
    return database, IdentityRuntime.create(settings)


def _announce_admin(created: InitialAdmin) -> None:
    out.print("[bold green]IsoFind initialised.[/bold green] Shown once — store them safely:")
    out.print(f"  admin username: [bold]{created.username}[/bold]")
    if created.password:
        out.print(f"  admin password: [bold]{created.password}[/bold]")
    out.print(f"  recovery code:  [bold]{created.recovery_code}[/bold]")


def _init_admin(settings: Settings, username: str, password: str | None) -> bool:
    database, runtime = _prepare(settings)
    try:
        with database.session(write=True) as db:
            created = create_initial_admin(db, runtime, username, password)
    except ApiError as exc:
        _fail(str(exc.detail))
    finally:
        database.dispose()
    if created is not None:
        _announce_admin(created)
    return created is not None


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="Name of the first administrator.")] = "admin",
    admin_password: Annotated[
        str | None, typer.Option(help="Its password (default: generated and printed once).")
    ] = None,
) -> None:
    """Create the database and the first administrator (prints the recovery code once)."""
    if not _init_admin(_settings(), admin_username, admin_password):
        out.print("Already initialised: accounts exist.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (PostgreSQL only).")] = None,
    mode: Annotated[Mode | None, typer.Option(help="single_user or multi_user.")] = None,
) -> None:
    """Apply migrations, create the administrator on first start, and serve the API."""
    flags = {"host": host, "port": port, "workers": workers, "mode": mode}
    overrides = {name: value for name, value in flags.items() if value is not None}
    settings = _settings(**overrides)
    problem = deployment_problem(settings)
    if problem:
        _fail(problem)
    _init_admin(settings, "admin", None)
    # Worker processes build their settings from the environment: hand the flags over.
    for name, value in overrides.items():
        os.environ[f"ISOFIND_{name.upper()}"] = str(value)
    out.print(f"IsoFind on http://{settings.host}:{settings.port} ({settings.mode.value}, "
              f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'}); docs at /docs")
    uvicorn.run(
        "isofind.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        proxy_headers=True,
        log_level="info",
    )


def _describe(detail: object) -> str:
    """An error's detail for a terminal: a list of problems one per line."""
    if not isinstance(detail, list):
        return str(detail)
    lines = []
    for item in detail:
        if isinstance(item, dict) and "line" in item:
            lines.append(f"line {item['line']}, column {item['column']!r}, value "
                         f"{item['value']!r}: {item['message']}")
        elif isinstance(item, dict) and "loc" in item:
            lines.append(f"{'.'.join(map(str, item['loc']))}: {item['msg']}")
        elif isinstance(item, dict) and "path" in item:
            lines.append(f"{item['path']}: {item['message']}")
        else:
            lines.append(str(item))
    return f"{len(lines)} problem(s), nothing changed:\n  " + "\n  ".join(lines)


@contextmanager
def _with_db(*, write: bool) -> Iterator[tuple[Session, IdentityRuntime]]:
    database, runtime = _prepare(_settings())
    try:
        with database.session(write=write) as db:
            yield db, runtime
    except ApiError as exc:
        _fail(_describe(exc.detail))
    finally:
        database.dispose()


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    password: Annotated[str, typer.Option(help="Initial password (at least 8 characters).")],
    role: Annotated[str, typer.Option(help="user, analyst, manager or admin.")] = "user",
    email: Annotated[str | None, typer.Option()] = None,
    display_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an account."""
    try:
        parsed_role = Role.parse(role)
    except ValueError as exc:
        _fail(str(exc))
    with _with_db(write=True) as (db, runtime):
        user = service.create_user(db, runtime, username=username, password=password,
                                   role=parsed_role, email=email, display_name=display_name)
        out.print(f"created user {user.username} (id {user.id}, role {parsed_role.label})")


@users_app.command("list")
def users_list() -> None:
    """List accounts."""
    table = Table("id", "username", "role", "active", "email")
    with _with_db(write=False) as (db, _):
        for user in service.list_users(db):
            table.add_row(str(user.id), user.username, Role(user.role).label,
                          "yes" if user.is_active else "no", user.email or "")
    out.print(table)


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument()],
    password: Annotated[str, typer.Option(help="New password (at least 8 characters).")],
) -> None:
    """Set an account's password."""
    with _with_db(write=True) as (db, runtime):
        user = service.find_user(db, username)
        if user is None or user.is_deleted:
            _fail(f"no user named {username!r}")
        service.set_password(db, runtime, user, password)
        out.print(f"password of {user.username} changed")


@users_app.command("unlock")
def users_unlock(username: Annotated[str, typer.Argument()]) -> None:
    """Lift a lockout after failed logins."""
    with _with_db(write=True) as (db, _):
        user = service.find_user(db, username)
        if user is None or user.is_deleted:
            _fail(f"no user named {username!r}")
        service.unlock(db, user)
        out.print(f"{user.username} unlocked")


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option(help="Username the token acts as.")],
    description: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create an API token; it is printed alone on the last line, once."""
    with _with_db(write=True) as (db, _):
        account = service.find_user(db, user)
        if account is None or account.is_deleted:
            _fail(f"no user named {user!r}")
        _, token = service.create_api_token(db, account, description)
    err.print(f"API token for {user} (shown once):")
    sys.stdout.write(token + "\n")


def _acting_user(db: Session, username: str | None) -> User:
    if username is None:
        return service.local_owner(db)
    user = service.find_user(db, username)
    if user is None or user.is_deleted:
        _fail(f"no user named {username!r}")
    return user


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="A CSV file or an .isof document.",
                                         exists=True, dir_okay=False, readable=True)],
    user: Annotated[str | None, typer.Option(help="Import as this user (default: the "
                                                  "first administrator).")] = None,
    profile: Annotated[str | None, typer.Option(help="CSV mapping profile, e.g. globalid.")]
    = None,
    mapping: Annotated[str | None, typer.Option(help="CSV mapping as JSON.")] = None,
    archive: Annotated[bool, typer.Option(help="Import as archived samples.")] = False,
) -> None:
    """Import samples from a CSV file or an .isof document, in one transaction."""
    raw = path.read_bytes()
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with _with_db(write=True) as (db, _), Progress(*columns, console=err) as progress:
        task = progress.add_task(f"importing {path.name}", total=None)

        def advance(count: int) -> None:
            progress.advance(task, count)

        viewer = Viewer(_acting_user(db, user))
        workers = _settings().import_worker_count
        if path.suffix.lower() == ".isof":
            report = importing.import_isof(db, viewer, raw, filename=path.name,
                                           progress=advance, workers=workers)
        else:
            report = importing.import_csv(db, viewer, raw, archive_mode=archive,
                                          mapping=mapping, profile=profile,
                                          filename=path.name, progress=advance,
                                          workers=workers)
    out.print(f"{report['samples_created']} samples created, {report['samples_updated']} "
              f"updated, {report['samples_unchanged']} unchanged, {report['values_added']} "
              "isotope values added")


@trash_app.command("list")
def trash_list() -> None:
    """Deleted samples, restorable until purged."""
    table = Table("sample_id", "name", "deleted_at", "versions")
    with _with_db(write=False) as (db, _):
        for entry in samples.deleted_samples(db):
            table.add_row(str(entry["sample_id"]), entry["name"], entry["deleted_at"] or "",
                          str(entry["versions"]))
    out.print(table)


@trash_app.command("restore")
def trash_restore(sample_id: Annotated[int, typer.Argument()]) -> None:
    """Bring a deleted sample back, with all its versions."""
    with _with_db(write=True) as (db, _):
        samples.restore_sample(db, service.local_owner(db), sample_id)
    out.print(f"sample {sample_id} restored")


@trash_app.command("purge")
def trash_purge(
    sample_id: Annotated[int, typer.Argument()],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a deleted sample and its versions for good."""
    if not yes:
        typer.confirm(f"Purge sample {sample_id} and all its versions for good?", abort=True)
    with _with_db(write=True) as (db, _):
        samples.purge_sample(db, service.local_owner(db), sample_id)
    out.print(f"sample {sample_id} purged")


if __name__ == "__main__":
    app()
