"""Rules for instruments and their logs.

* Instruments are readable by everyone who may use ``/api/v1``. A hidden instrument
  is left out of the list except for administrators and its own scientists, as
  SampleDB's instrument list does; it still answers by id (hidden means unlisted,
  not secret: actions keep pointing at it).
* The notes are for the instrument's scientists and administrators only.
* An instrument log (entries, categories, attachments) is readable and writable by
  the instrument's scientists only; read-only users cannot write to it.
* An object attachment may only name an object the author may read, and is shown
  only to callers who may read the object (and never once the object is deleted).
* Administrators create instruments; administrators and the instrument's scientists
  change them and add log categories.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, delete, exists, or_, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import BadRequest, Forbidden, NotFound, Unauthorized
from isofind.identity.models import Role, User
from isofind.instruments.models import (
    Instrument,
    InstrumentLogCategory,
    InstrumentLogEntry,
    InstrumentLogEntryVersion,
    InstrumentLogEntryVersionCategory,
    InstrumentLogFileAttachment,
    InstrumentLogObjectAttachment,
    InstrumentScientist,
)
from isofind.instruments.schemas import (
    InstrumentBody,
    InstrumentChanges,
    LogCategoryBody,
    LogEntryBody,
)
from isofind.locations.models import Location
from isofind.objects.models import ObjectRecord
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer, holds
from isofind.timeutil import utcnow


@dataclass(frozen=True)
class InstrumentView:
    instrument: Instrument
    scientist_ids: list[int]
    show_notes: bool


@dataclass(frozen=True)
class LogEntryVersionView:
    version: InstrumentLogEntryVersion
    categories: list[InstrumentLogCategory]


@dataclass(frozen=True)
class LogEntryView:
    entry: InstrumentLogEntry
    versions: list[LogEntryVersionView]


# --- who may do what ---------------------------------------------------------------------


def _is_admin(user: User | None) -> bool:
    return user is not None and user.role >= Role.ADMIN


def _scientist_condition(user_id: int, instrument_id: ColumnElement[int]) -> ColumnElement[bool]:
    return exists().where(InstrumentScientist.instrument_id == instrument_id,
                          InstrumentScientist.user_id == user_id)


def _is_scientist(db: Session, user: User | None, instrument_id: int) -> bool:
    if user is None:
        return False
    return db.get(InstrumentScientist, (instrument_id, user.id)) is not None


def _signed_in(viewer: Viewer) -> User:
    if viewer.user is None:
        raise Unauthorized("Authentication required",
                           headers={"WWW-Authenticate": 'Basic realm="IsoFind"'})
    return viewer.user


def _require_writer(user: User) -> None:
    if user.is_readonly:
        raise Forbidden("read-only users cannot change instruments or their logs")


def _require_admin_or_scientist(db: Session, user: User, instrument_id: int) -> None:
    if not _is_admin(user) and not _is_scientist(db, user, instrument_id):
        raise Forbidden(f"only administrators and the instrument scientists of instrument "
                        f"{instrument_id} may change it")


# --- instruments -------------------------------------------------------------------------


def _find_instrument(db: Session, instrument_id: int) -> Instrument:
    instrument = db.get(Instrument, instrument_id)
    if instrument is None:
        raise NotFound(f"instrument {instrument_id} does not exist")
    return instrument


def _scientists_by_instrument(db: Session, instrument_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    rows = db.execute(
        select(InstrumentScientist.instrument_id, InstrumentScientist.user_id)
        .where(InstrumentScientist.instrument_id.in_(instrument_ids))
        .order_by(InstrumentScientist.instrument_id, InstrumentScientist.user_id)
    )
    for instrument_id, user_id in rows:
        found[instrument_id].append(user_id)
    return found


def _views(db: Session, user: User | None,
           instruments: Sequence[Instrument]) -> list[InstrumentView]:
    scientists = _scientists_by_instrument(db, [i.id for i in instruments])
    admin = _is_admin(user)
    return [
        InstrumentView(
            instrument,
            scientists[instrument.id],
            show_notes=admin or (user is not None and user.id in scientists[instrument.id]),
        )
        for instrument in instruments
    ]


def _listed_instruments(user: User | None) -> Select[tuple[Instrument]]:
    statement = select(Instrument).order_by(Instrument.id)
    if _is_admin(user):
        return statement
    shown = Instrument.is_hidden.is_(False)
    if user is not None:
        shown = or_(shown, _scientist_condition(user.id, Instrument.id))
    return statement.where(shown)


def list_instruments(db: Session, viewer: Viewer) -> list[InstrumentView]:
    return _views(db, viewer.user, db.scalars(_listed_instruments(viewer.user)).all())


def get_instrument(db: Session, viewer: Viewer, instrument_id: int) -> InstrumentView:
    return _views(db, viewer.user, [_find_instrument(db, instrument_id)])[0]


def _check_users(db: Session, user_ids: list[int]) -> None:
    _refuse_duplicates("instrument_scientists", "user", user_ids)
    existing = set(db.scalars(
        select(User.id).where(User.id.in_(user_ids), User.is_deleted.is_(False))))
    for user_id in user_ids:
        if user_id not in existing:
            raise BadRequest(f"instrument_scientists: user {user_id} does not exist")


def _check_location(db: Session, location_id: int | None) -> None:
    if location_id is not None and db.get(Location, location_id) is None:
        raise BadRequest(f"location_id: location {location_id} does not exist")


def _set_scientists(db: Session, instrument_id: int, user_ids: list[int]) -> None:
    db.execute(delete(InstrumentScientist).where(
        InstrumentScientist.instrument_id == instrument_id))
    db.add_all(InstrumentScientist(instrument_id=instrument_id, user_id=user_id)
               for user_id in user_ids)
    db.flush()


def create_instrument(db: Session, viewer: Viewer, body: InstrumentBody,
                      client_address: str | None = None) -> InstrumentView:
    user = _signed_in(viewer)
    if not _is_admin(user):
        raise Forbidden("only administrators may create instruments")
    _require_writer(user)
    _check_users(db, body.instrument_scientists)
    _check_location(db, body.location_id)
    instrument = Instrument(
        name=body.name, description=body.description,
        short_description=body.short_description, notes=body.notes,
        is_hidden=body.is_hidden, location_id=body.location_id,
    )
    db.add(instrument)
    db.flush()
    _set_scientists(db, instrument.id, body.instrument_scientists)
    record_activity(db, "instrument.created", user_id=user.id, target_type="instrument",
                    target_id=instrument.id, details={"name": instrument.name},
                    client_address=client_address)
    return _views(db, user, [instrument])[0]


def update_instrument(db: Session, viewer: Viewer, instrument_id: int,
                      changes: InstrumentChanges,
                      client_address: str | None = None) -> InstrumentView:
    user = _signed_in(viewer)
    instrument = _find_instrument(db, instrument_id)
    _require_admin_or_scientist(db, user, instrument_id)
    _require_writer(user)
    sent = changes.sent()
    if sent.pop("instrument_id", instrument_id) != instrument_id:
        raise BadRequest(f"instrument_id must be {instrument_id}")
    if "instrument_scientists" in sent:
        _check_users(db, sent["instrument_scientists"])
    if "location_id" in sent:
        _check_location(db, sent["location_id"])
    for key, value in sent.items():
        if key != "instrument_scientists":
            setattr(instrument, key, value)
    db.flush()
    if "instrument_scientists" in sent:
        _set_scientists(db, instrument_id, sent["instrument_scientists"])
    record_activity(db, "instrument.updated", user_id=user.id, target_type="instrument",
                    target_id=instrument_id, details={"changed": sorted(sent)},
                    client_address=client_address)
    return _views(db, user, [instrument])[0]


# --- reading the log ---------------------------------------------------------------------


def _log_instrument(db: Session, viewer: Viewer, instrument_id: int) -> Instrument:
    """The instrument whose log the viewer opens: 404 if unknown, 403 for non-scientists."""
    instrument = _find_instrument(db, instrument_id)
    if not _is_scientist(db, viewer.user, instrument_id):
        raise Forbidden(f"the instrument log of instrument {instrument_id} can only be "
                        f"accessed by instrument scientists")
    return instrument


def _find_entry(db: Session, instrument_id: int, log_entry_id: int) -> InstrumentLogEntry:
    entry = db.get(InstrumentLogEntry, log_entry_id)
    if entry is None or entry.instrument_id != instrument_id:
        raise NotFound(f"log entry {log_entry_id} for instrument {instrument_id} does not exist")
    return entry


def _categories_by_version(
    db: Session, entry_ids: list[int]
) -> dict[tuple[int, int], list[InstrumentLogCategory]]:
    link = InstrumentLogEntryVersionCategory
    found: dict[tuple[int, int], list[InstrumentLogCategory]] = defaultdict(list)
    rows = db.execute(
        select(link.log_entry_id, link.version_id, InstrumentLogCategory)
        .join(InstrumentLogCategory, InstrumentLogCategory.id == link.category_id)
        .where(link.log_entry_id.in_(entry_ids))
        .order_by(InstrumentLogCategory.id)
    )
    for log_entry_id, version_id, category in rows:
        found[(log_entry_id, version_id)].append(category)
    return found


def _entry_views(db: Session, entries: Sequence[InstrumentLogEntry]) -> list[LogEntryView]:
    entry_ids = [entry.id for entry in entries]
    categories = _categories_by_version(db, entry_ids)
    versions: dict[int, list[LogEntryVersionView]] = defaultdict(list)
    for version in db.scalars(
        select(InstrumentLogEntryVersion)
        .where(InstrumentLogEntryVersion.log_entry_id.in_(entry_ids))
        .order_by(InstrumentLogEntryVersion.log_entry_id, InstrumentLogEntryVersion.version_id)
    ):
        key = (version.log_entry_id, version.version_id)
        versions[version.log_entry_id].append(LogEntryVersionView(version, categories[key]))
    return [LogEntryView(entry, versions[entry.id]) for entry in entries]


def list_log_entries(db: Session, viewer: Viewer, instrument_id: int) -> list[LogEntryView]:
    """The instrument's log, oldest entry first."""
    _log_instrument(db, viewer, instrument_id)
    entries = db.scalars(
        select(InstrumentLogEntry).where(InstrumentLogEntry.instrument_id == instrument_id)
        .order_by(InstrumentLogEntry.id)
    ).all()
    return _entry_views(db, entries)


def get_log_entry(db: Session, viewer: Viewer, instrument_id: int,
                  log_entry_id: int) -> LogEntryView:
    _log_instrument(db, viewer, instrument_id)
    return _entry_views(db, [_find_entry(db, instrument_id, log_entry_id)])[0]


def list_log_categories(db: Session, viewer: Viewer,
                        instrument_id: int) -> Sequence[InstrumentLogCategory]:
    _log_instrument(db, viewer, instrument_id)
    return db.scalars(
        select(InstrumentLogCategory).where(InstrumentLogCategory.instrument_id == instrument_id)
        .order_by(InstrumentLogCategory.id)
    ).all()


def get_log_category(db: Session, viewer: Viewer, instrument_id: int,
                     category_id: int) -> InstrumentLogCategory:
    _log_instrument(db, viewer, instrument_id)
    category = db.get(InstrumentLogCategory, category_id)
    if category is None or category.instrument_id != instrument_id:
        raise NotFound(f"log category {category_id} for instrument {instrument_id} "
                       f"does not exist")
    return category


def _file_attachments(log_entry_id: int) -> Select[tuple[InstrumentLogFileAttachment]]:
    return (select(InstrumentLogFileAttachment)
            .where(InstrumentLogFileAttachment.log_entry_id == log_entry_id)
            .order_by(InstrumentLogFileAttachment.id))


def list_file_attachments(db: Session, viewer: Viewer, instrument_id: int,
                          log_entry_id: int) -> Sequence[InstrumentLogFileAttachment]:
    _log_instrument(db, viewer, instrument_id)
    _find_entry(db, instrument_id, log_entry_id)
    return db.scalars(_file_attachments(log_entry_id)).all()


def get_file_attachment(db: Session, viewer: Viewer, instrument_id: int, log_entry_id: int,
                        file_attachment_id: int) -> InstrumentLogFileAttachment:
    _log_instrument(db, viewer, instrument_id)
    _find_entry(db, instrument_id, log_entry_id)
    attachment = db.scalar(_file_attachments(log_entry_id).where(
        InstrumentLogFileAttachment.id == file_attachment_id))
    if attachment is None:
        raise NotFound(f"file attachment {file_attachment_id} for log entry {log_entry_id} "
                       f"for instrument {instrument_id} does not exist")
    return attachment


def _readable_object_attachments(
    viewer: Viewer, log_entry_id: int
) -> Select[tuple[InstrumentLogObjectAttachment]]:
    attachment = InstrumentLogObjectAttachment
    return (
        select(attachment)
        .join(ObjectRecord, ObjectRecord.id == attachment.object_id)
        .where(attachment.log_entry_id == log_entry_id, ObjectRecord.is_deleted.is_(False),
               holds(viewer, Level.READ, attachment.object_id))
        .order_by(attachment.id)
    )


def list_object_attachments(db: Session, viewer: Viewer, instrument_id: int,
                            log_entry_id: int) -> Sequence[InstrumentLogObjectAttachment]:
    _log_instrument(db, viewer, instrument_id)
    _find_entry(db, instrument_id, log_entry_id)
    return db.scalars(_readable_object_attachments(viewer, log_entry_id)).all()


def get_object_attachment(db: Session, viewer: Viewer, instrument_id: int, log_entry_id: int,
                          object_attachment_id: int) -> InstrumentLogObjectAttachment:
    _log_instrument(db, viewer, instrument_id)
    _find_entry(db, instrument_id, log_entry_id)
    attachment = db.scalar(_readable_object_attachments(viewer, log_entry_id).where(
        InstrumentLogObjectAttachment.id == object_attachment_id))
    if attachment is None:
        raise NotFound(f"object attachment {object_attachment_id} for log entry "
                       f"{log_entry_id} for instrument {instrument_id} does not exist")
    return attachment


# --- writing the log ---------------------------------------------------------------------


def _refuse_duplicates(field: str, noun: str, ids: Iterable[int]) -> None:
    seen: set[int] = set()
    for item in ids:
        if item in seen:
            raise BadRequest(f"{field}: {noun} {item} is listed twice")
        seen.add(item)


def _check_categories(db: Session, instrument_id: int, category_ids: list[int]) -> None:
    if not category_ids:
        return
    _refuse_duplicates("category_ids", "category", category_ids)
    existing = set(db.scalars(select(InstrumentLogCategory.id).where(
        InstrumentLogCategory.instrument_id == instrument_id,
        InstrumentLogCategory.id.in_(category_ids))))
    unknown = [category_id for category_id in category_ids if category_id not in existing]
    if unknown:
        raise BadRequest(f"category_ids: unknown log categories of instrument {instrument_id}: "
                         f"{', '.join(map(str, unknown))}")


def _check_attachable_objects(db: Session, viewer: Viewer, object_ids: list[int]) -> None:
    if not object_ids:
        return
    _refuse_duplicates("object_attachments", "object", object_ids)
    readable = set(db.scalars(
        select(ObjectRecord.id).where(ObjectRecord.id.in_(object_ids),
                                      ObjectRecord.is_deleted.is_(False),
                                      holds(viewer, Level.READ))))
    # Unknown and unreadable objects get the same answer, so existence does not leak.
    refused = [object_id for object_id in object_ids if object_id not in readable]
    if refused:
        raise BadRequest(f"object_attachments: no readable object with id "
                         f"{', '.join(map(str, refused))}")


def _add_first_version(db: Session, log_entry_id: int, body: LogEntryBody) -> None:
    # SampleDB numbers log entry versions from 1.
    version_id = 1
    db.add(InstrumentLogEntryVersion(
        log_entry_id=log_entry_id, version_id=version_id, content=body.content or "",
        content_is_markdown=body.content_is_markdown, utc_datetime=utcnow(),
        event_utc_datetime=body.event_utc_datetime,
    ))
    db.flush()
    db.add_all(InstrumentLogEntryVersionCategory(log_entry_id=log_entry_id,
                                                 version_id=version_id, category_id=category_id)
               for category_id in body.category_ids)


def _add_attachments(db: Session, log_entry_id: int, body: LogEntryBody) -> None:
    db.add_all(InstrumentLogFileAttachment(log_entry_id=log_entry_id, file_name=item.file_name,
                                           content=item.content)
               for item in body.file_attachments)
    db.add_all(InstrumentLogObjectAttachment(log_entry_id=log_entry_id, object_id=item.object_id)
               for item in body.object_attachments)


def create_log_entry(db: Session, viewer: Viewer, instrument_id: int, body: LogEntryBody,
                     client_address: str | None = None) -> InstrumentLogEntry:
    user = _signed_in(viewer)
    _log_instrument(db, viewer, instrument_id)
    _require_writer(user)
    _check_categories(db, instrument_id, body.category_ids)
    _check_attachable_objects(db, viewer, [item.object_id for item in body.object_attachments])
    if not (body.content or body.file_attachments or body.object_attachments):
        raise BadRequest("content: a log entry needs content or an attachment")
    entry = InstrumentLogEntry(instrument_id=instrument_id, user_id=user.id)
    db.add(entry)
    db.flush()
    _add_first_version(db, entry.id, body)
    _add_attachments(db, entry.id, body)
    db.flush()
    record_activity(db, "instrument.log_entry_created", user_id=user.id,
                    target_type="instrument_log_entry", target_id=entry.id,
                    details={"instrument_id": instrument_id,
                             "file_attachments": len(body.file_attachments),
                             "object_attachments": len(body.object_attachments)},
                    client_address=client_address)
    return entry


def create_log_category(db: Session, viewer: Viewer, instrument_id: int,
                        body: LogCategoryBody,
                        client_address: str | None = None) -> InstrumentLogCategory:
    user = _signed_in(viewer)
    _find_instrument(db, instrument_id)
    _require_admin_or_scientist(db, user, instrument_id)
    _require_writer(user)
    category = InstrumentLogCategory(instrument_id=instrument_id, title=body.title,
                                     theme=body.theme)
    db.add(category)
    db.flush()
    record_activity(db, "instrument.log_category_created", user_id=user.id,
                    target_type="instrument_log_category", target_id=category.id,
                    details={"instrument_id": instrument_id, "title": category.title},
                    client_address=client_address)
    return category
