"""Rules for object files: ids count from 0 within each object; files are never changed.

Three storages, as SampleDB's API has them:

* ``database``: the content travels base64-encoded and is kept in the database;
* ``url``: a link, http or https only;
* ``local_reference``: a file that stays on the server's disk, allowed only under the
  configured ``local_files_dir`` (stored relative to it); only its name, size and
  hash are recorded, its content is never served.

Limits: 32 MiB of decoded content per database file, file names of at most 150 bytes in
UTF-8 (SampleDB's limit) without path separators, URLs of at most 2,048 characters.
An optional ``hash`` (``sha256`` or ``sha512``) must match the content, else 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import BadRequest, Forbidden, NotFound
from isofind.files.models import ObjectFile
from isofind.identity.models import User
from isofind.objects.models import ObjectLogEntry, ObjectRecord
from isofind.objects.service import require_object
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.timeutil import utcnow

MAX_CONTENT_BYTES = 32 * 1024 * 1024
MAX_FILE_NAME_BYTES = 150
MAX_URL_LENGTH = 2048
HASH_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
ALLOWED_KEYS = {
    "database": {"object_id", "storage", "original_file_name", "base64_content", "hash"},
    "url": {"object_id", "storage", "url"},
    "local_reference": {"object_id", "storage", "filepath", "hash"},
}
_READ_CHUNK = 1024 * 1024


def stored_file_name(db: Session, object_id: int, file_id: int) -> str | None:
    """The original name of a file of an object, for schema validation of file properties."""
    return db.scalar(select(ObjectFile.original_file_name).where(
        ObjectFile.object_id == object_id, ObjectFile.file_id == file_id))


# --- reading ------------------------------------------------------------------------------


def list_files(db: Session, viewer: Viewer, object_id: int) -> Sequence[ObjectFile]:
    require_object(db, viewer, object_id, Level.READ)
    return db.scalars(select(ObjectFile).where(ObjectFile.object_id == object_id)
                      .order_by(ObjectFile.file_id)).all()


def get_file(db: Session, viewer: Viewer, object_id: int, file_id: int) -> ObjectFile:
    require_object(db, viewer, object_id, Level.READ)
    file = db.get(ObjectFile, (object_id, file_id))
    if file is None:
        raise NotFound(f"file {file_id} of object {object_id} does not exist")
    return file


# --- body checks --------------------------------------------------------------------------


def _payload(body: object, object_id: int) -> tuple[str, dict[str, Any]]:
    """The storage and the body, once its keys fit that storage."""
    if not isinstance(body, dict):
        raise BadRequest("JSON object body required")
    if "object_id" in body and body["object_id"] != object_id:
        raise BadRequest(f"object_id must be {object_id}")
    if "storage" not in body:
        raise BadRequest("storage must be set")
    storage = body["storage"]
    if not isinstance(storage, str) or storage not in ALLOWED_KEYS:
        raise BadRequest("storage must be 'database', 'url' or 'local_reference'")
    for key in body:
        if key not in ALLOWED_KEYS[storage]:
            raise BadRequest(f"invalid key '{key}' for files with {storage} storage")
    return storage, body


def _required_text(body: dict[str, Any], key: str, storage: str) -> str:
    value = body.get(key)
    if value is None or value == "":
        raise BadRequest(f"{key} must be set for files with {storage} storage")
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    if "\x00" in value:
        raise BadRequest(f"{key} must not contain NUL characters")
    return value


def _file_name(body: dict[str, Any]) -> str:
    name = _required_text(body, "original_file_name", "database")
    if len(name.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        raise BadRequest(f"original_file_name must be at most {MAX_FILE_NAME_BYTES} bytes "
                         "in UTF-8")
    # Names may become paths when files are exported; keep them single path components.
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise BadRequest(f"original_file_name {name!r} must be a plain file name without "
                         "path separators")
    return name


def _content(body: dict[str, Any]) -> bytes:
    encoded = _required_text(body, "base64_content", "database")
    # Refuse oversized content before decoding it: base64 is 4 characters per 3 bytes.
    if len(encoded) > (MAX_CONTENT_BYTES + 2) // 3 * 4:
        raise BadRequest(f"base64_content exceeds the limit of {MAX_CONTENT_BYTES} bytes")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("base64_content must be base64 encoded") from None


def _expected_hash(body: dict[str, Any]) -> tuple[str, str] | None:
    """The (algorithm, hexdigest) the client claims for the content, if any."""
    claim = body.get("hash")
    if claim is None:
        return None
    if not isinstance(claim, dict) or set(claim) != {"algorithm", "hexdigest"}:
        raise BadRequest("hash must be an object with algorithm and hexdigest")
    algorithm, hexdigest = claim["algorithm"], claim["hexdigest"]
    if not isinstance(algorithm, str) or algorithm not in HASH_ALGORITHMS:
        raise BadRequest(f"hash algorithm must be one of {', '.join(HASH_ALGORITHMS)}")
    if not isinstance(hexdigest, str):
        raise BadRequest("hash hexdigest must be a string")
    return algorithm, hexdigest.lower()


def _verify_hash(expected: tuple[str, str] | None, digests: dict[str, str]) -> None:
    if expected is None:
        return
    algorithm, hexdigest = expected
    if digests[algorithm] != hexdigest:
        raise BadRequest(f"hash mismatch: the {algorithm} hexdigest of the content is "
                         f"{digests[algorithm]}, not {hexdigest}")


def _database_fields(body: dict[str, Any]) -> dict[str, Any]:
    name = _file_name(body)
    content = _content(body)
    digests = {algorithm: factory(content).hexdigest()
               for algorithm, factory in HASH_ALGORITHMS.items()}
    _verify_hash(_expected_hash(body), digests)
    return {"original_file_name": name, "content": content, "sha256": digests["sha256"],
            "size": len(content)}


def _url_parts(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        # Reading .port also refuses non-numeric and out-of-range ports.
        if parts.port == 0:
            raise ValueError("port 0")
    except ValueError:
        raise BadRequest(f"url {url!r} is not a valid url") from None
    return parts


def _url_fields(body: dict[str, Any]) -> dict[str, Any]:
    url = _required_text(body, "url", "url")
    if len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"url must be at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise BadRequest("url must not contain spaces or control characters")
    parts = _url_parts(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise BadRequest(f"url must use http or https, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise BadRequest(f"url {url!r} has no host")
    return {"url": url}


def _referenced_path(filepath: str, base: Path) -> Path:
    """The real path of a file under ``base``; refuses ``..``, escapes and non-files."""
    if ".." in PurePath(filepath).parts:
        raise BadRequest("filepath must not contain '..'")
    try:
        real_base = base.resolve()
        # resolve() follows every symlink, so a link pointing out of the directory is
        # caught by the containment check below; an absolute filepath replaces the base.
        real = (base / filepath).resolve()
        if not real.is_relative_to(real_base):
            raise Forbidden("filepath is outside the directory allowed for local_reference "
                            "files")
        is_file = real.is_file()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        raise BadRequest(f"filepath {filepath!r} cannot be resolved") from None
    if not is_file:
        raise BadRequest(f"filepath {filepath!r} does not name an existing regular file")
    return real


def _read_local_file(path: Path) -> tuple[dict[str, str], int]:
    """The digests and the size of a file, read in chunks."""
    hashers = {algorithm: factory() for algorithm, factory in HASH_ALGORITHMS.items()}
    size = 0
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_READ_CHUNK):
                size += len(chunk)
                for hasher in hashers.values():
                    hasher.update(chunk)
    except OSError:
        raise BadRequest("filepath cannot be read by the server") from None
    return {algorithm: hasher.hexdigest() for algorithm, hasher in hashers.items()}, size


def _local_reference_fields(body: dict[str, Any], base: Path | None) -> dict[str, Any]:
    if base is None:
        raise BadRequest("local_reference storage is disabled: no local files directory "
                         "is configured")
    filepath = _required_text(body, "filepath", "local_reference")
    expected = _expected_hash(body)
    real = _referenced_path(filepath, base)
    digests, size = _read_local_file(real)
    _verify_hash(expected, digests)
    return {"original_file_name": real.name,
            "local_path": real.relative_to(base.resolve()).as_posix(),
            "sha256": digests["sha256"], "size": size}


# --- writing ------------------------------------------------------------------------------


def _next_file_id(db: Session, object_id: int) -> int:
    # Lock the object row so concurrent uploads (PostgreSQL) cannot pick the same id;
    # SQLite writers are already serialised by BEGIN IMMEDIATE.
    db.execute(select(ObjectRecord.id).where(ObjectRecord.id == object_id).with_for_update())
    last = db.scalar(select(func.max(ObjectFile.file_id))
                     .where(ObjectFile.object_id == object_id))
    return 0 if last is None else last + 1


def _uploader(viewer: Viewer) -> User:
    if viewer.user is None:
        raise Forbidden("anonymous users cannot upload files")
    return viewer.user


def create_file(
    db: Session,
    viewer: Viewer,
    object_id: int,
    body: object,
    *,
    local_files_dir: Path | None,
    client_address: str | None = None,
) -> ObjectFile:
    """Attach a file to an object the viewer may write; logs it on the object and activity."""
    require_object(db, viewer, object_id, Level.WRITE)
    user = _uploader(viewer)
    storage, payload = _payload(body, object_id)
    if storage == "database":
        fields = _database_fields(payload)
    elif storage == "url":
        fields = _url_fields(payload)
    else:
        fields = _local_reference_fields(payload, local_files_dir)
    now = utcnow()
    file = ObjectFile(object_id=object_id, file_id=_next_file_id(db, object_id),
                      storage=storage, user_id=user.id, utc_datetime=now, **fields)
    db.add(file)
    db.add(ObjectLogEntry(type="UPLOAD_FILE", object_id=object_id, user_id=user.id,
                          data={"file_id": file.file_id}, utc_datetime=now))
    record_activity(db, "file.uploaded", user_id=user.id, target_type="object",
                    target_id=object_id, details={"file_id": file.file_id, "storage": storage},
                    client_address=client_address)
    db.flush()
    return file
