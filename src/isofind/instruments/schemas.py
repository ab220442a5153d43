"""Request bodies and SampleDB JSON shapes of instruments and their logs.

Bodies are strict (no coercion of ``"1"`` to ``1`` or ``1`` to ``true``) and refuse
unknown keys, so a typo answers 400 naming the key instead of being ignored.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from isofind.instruments.models import (
    Instrument,
    InstrumentLogCategory,
    InstrumentLogEntryVersion,
    InstrumentLogFileAttachment,
    InstrumentLogObjectAttachment,
)
from isofind.timeutil import iso_timestamp


def _decode_base64(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("not valid base64") from None


def _parse_utc_datetime(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
CategoryTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Base64Content = Annotated[
    bytes,
    BeforeValidator(_decode_base64),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
UtcDateTime = Annotated[
    datetime,
    BeforeValidator(_parse_utc_datetime),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Theme = Literal["gray", "blue", "green", "yellow", "red"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FileAttachmentBody(_Body):
    file_name: FileName
    content: Base64Content = Field(alias="base64_content")


class ObjectAttachmentBody(_Body):
    object_id: int


class LogEntryBody(_Body):
    """A new log entry. ``content_is_markdown`` and ``event_utc_datetime`` are IsoFind
    extensions (SampleDB sets them in its web interface only)."""

    content: str | None = ""
    category_ids: list[int] = []
    file_attachments: list[FileAttachmentBody] = []
    object_attachments: list[ObjectAttachmentBody] = []
    content_is_markdown: bool = False
    event_utc_datetime: UtcDateTime | None = None


class LogCategoryBody(_Body):
    title: CategoryTitle
    theme: Theme = "gray"


class InstrumentBody(_Body):
    """A new instrument, shaped like the instrument the API returns."""

    name: Name
    description: str = ""
    short_description: str = ""
    notes: str = ""
    is_hidden: bool = False
    instrument_scientists: list[int] = []
    location_id: int | None = None


class InstrumentChanges(_Body):
    """Changes to an instrument: the keys sent are set, the others stay as they are."""

    instrument_id: int | None = None
    name: Name = ""
    description: str = ""
    short_description: str = ""
    notes: str = ""
    is_hidden: bool = False
    instrument_scientists: list[int] = []
    location_id: int | None = None

    def sent(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.model_fields_set}


# --- responses ---------------------------------------------------------------------------


def instrument_json(instrument: Instrument, scientist_ids: list[int],
                    with_notes: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instrument_id": instrument.id,
        "name": instrument.name,
        "description": instrument.description,
        "short_description": instrument.short_description,
        "is_hidden": instrument.is_hidden,
        "instrument_scientists": scientist_ids,
        "location_id": instrument.location_id,
    }
    if with_notes:
        body["notes"] = instrument.notes
    return body


def category_json(category: InstrumentLogCategory) -> dict[str, Any]:
    return {"category_id": category.id, "title": category.title, "theme": category.theme}


def log_entry_version_json(version: InstrumentLogEntryVersion,
                           categories: list[InstrumentLogCategory]) -> dict[str, Any]:
    event = version.event_utc_datetime
    return {
        "log_entry_id": version.log_entry_id,
        "version_id": version.version_id,
        "utc_datetime": iso_timestamp(version.utc_datetime),
        "content": version.content,
        "categories": [category_json(category) for category in categories],
        "event_utc_datetime": iso_timestamp(event) if event is not None else None,
        "content_is_markdown": version.content_is_markdown,
    }


def file_attachment_json(attachment: InstrumentLogFileAttachment) -> dict[str, Any]:
    return {
        "file_attachment_id": attachment.id,
        "file_name": attachment.file_name,
        "content": base64.b64encode(attachment.content).decode("ascii"),
    }


def object_attachment_json(attachment: InstrumentLogObjectAttachment) -> dict[str, Any]:
    return {"object_attachment_id": attachment.id, "object_id": attachment.object_id}
