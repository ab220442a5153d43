"""What data validation needs to know about other records: objects, users and files.

The database layer implements :class:`ReferenceChecker` for the requesting user, so that
a reference to an object the user cannot read fails exactly like one to a missing object.
:class:`InMemoryReferences` serves tests and callers without a database.
"""

from dataclasses import dataclass, field
from typing import Final, NamedTuple, Protocol

ACTION_TYPE_SAMPLE: Final = -99
ACTION_TYPE_MEASUREMENT: Final = -98


class ReferenceChecker(Protocol):
    """Look-ups made while validating object data."""

    def object_action_type(self, object_id: int) -> int | None:
        """The action type ID of the object's action; None if the object is missing or
        not readable by the caller."""
        ...

    def action_of(self, object_id: int) -> int | None:
        """The ID of the action the object was created with; None if the object is
        missing or not readable by the caller."""
        ...

    def user_exists(self, user_id: int) -> bool:
        """Whether a user with this ID exists."""
        ...

    def file_name(self, object_id: int, file_id: int) -> str | None:
        """The (original) name of file ``file_id`` of object ``object_id``; None if the
        object has no such file. The name is needed to check allowed extensions."""
        ...


class KnownObject(NamedTuple):
    """An object as seen by :class:`InMemoryReferences`."""

    action_id: int
    action_type_id: int


@dataclass
class InMemoryReferences:
    """A :class:`ReferenceChecker` over plain dictionaries.

    ``objects`` maps readable object IDs to their action and action type, ``users`` holds
    existing user IDs and ``files`` maps ``(object_id, file_id)`` to file names. The
    defaults describe an empty database in which every reference fails.
    """

    objects: dict[int, KnownObject] = field(default_factory=dict)
    users: set[int] = field(default_factory=set)
    files: dict[tuple[int, int], str] = field(default_factory=dict)

    def object_action_type(self, object_id: int) -> int | None:
        known = self.objects.get(object_id)
        return None if known is None else known.action_type_id

    def action_of(self, object_id: int) -> int | None:
        known = self.objects.get(object_id)
        return None if known is None else known.action_id

    def user_exists(self, user_id: int) -> bool:
        return user_id in self.users

    def file_name(self, object_id: int, file_id: int) -> str | None:
        return self.files.get((object_id, file_id))
