"""``holds_in_bulk`` agrees with ``holds``: every way of the permission matrix, every level,
for one object and over a query of many objects, held and (negated) not held."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import ColumnElement, literal, not_, select
from sqlalchemy.orm import Session

from isofind.identity.models import User
from isofind.objects.models import Action, ObjectRecord
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer, holds, holds_in_bulk
from tests.permissions.conftest import HOLDER, OWNER, SIMPLE_SCHEMA, Lab, name_data
from tests.permissions.test_permission_matrix import WAYS, Auth, Way

LEVELS = (Level.READ, Level.WRITE, Level.GRANT)


def _viewer(db: Session, lab: Lab, auth: Auth, anonymous_enabled: bool) -> Viewer:
    user_id = {HOLDER: lab.holder_id, OWNER: lab.owner_id, None: None}[auth]
    return Viewer(db.get(User, user_id) if user_id is not None else None, anonymous_enabled)


def _add_object_of_another_action(lab: Lab) -> int:
    """An object of the owner's that no instrument of the lab's action reaches."""
    with lab.session() as db:
        action = Action(type_id=-99, name="Other", description="", is_hidden=False,
                        schema=SIMPLE_SCHEMA, is_locked=False)
        db.add(action)
        db.flush()
        action_id = action.id
    created = lab.client.post("/api/v1/objects/", auth=OWNER,
                              json={"action_id": action_id, "data": name_data("Pb ore 2")})
    assert created.status_code == 201, created.text
    return int(created.headers["Location"].split("/")[-3])


def _ids(db: Session, condition: ColumnElement[bool]) -> set[int]:
    return set(db.scalars(select(ObjectRecord.id).where(condition)))


@pytest.mark.parametrize("way", WAYS, ids=[way.id for way in WAYS])
def test_holds_in_bulk_agrees_with_holds(lab_for: Callable[..., Lab], way: Way) -> None:
    lab = lab_for(anonymous_access=way.anonymous_access, **way.holder)
    other_object = _add_object_of_another_action(lab)
    way.arrange(lab)
    with lab.session() as db:
        viewer = _viewer(db, lab, way.auth, way.anonymous_access)
        dialect = db.get_bind().dialect.name
        for level in LEVELS:
            one = literal(lab.object_id)
            assert db.scalar(select(holds_in_bulk(viewer, level, one, dialect=dialect))) \
                == db.scalar(select(holds(viewer, level, one))), level

            in_bulk = holds_in_bulk(viewer, level, ObjectRecord.id, dialect=dialect)
            held = _ids(db, holds(viewer, level))
            assert _ids(db, in_bulk) == held, level
            assert _ids(db, not_(in_bulk)) == {lab.object_id, other_object} - held, level
            expected = way.level is not None and way.level >= level
            assert (lab.object_id in held) is expected, level
