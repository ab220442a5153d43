"""Helpers the library's services share: field errors, editors, usernames, elements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from isofind.errors import Forbidden, Unprocessable
from isofind.identity.models import User
from isofind.reference.elements.service import custom_symbols
from isofind.samples.vocabulary import normalise_element

Loc = Sequence[str | int]


def field_error(loc: Loc, message: str, value: Any = None) -> Unprocessable:
    """A 422 shaped like FastAPI's body validation errors, naming the field."""
    return Unprocessable([{"type": "value_error", "loc": list(loc), "msg": message,
                           "input": value}])


def validation_errors(exc: ValidationError, prefix: Loc) -> list[dict[str, Any]]:
    return [{"type": error["type"], "loc": [*prefix, *error["loc"]], "msg": error["msg"]}
            for error in exc.errors(include_url=False, include_context=False,
                                    include_input=False)]


def require_editor(user: User, what: str) -> None:
    if user.is_readonly:
        raise Forbidden(f"read-only users cannot change {what}")


def usernames(db: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    rows = db.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {user_id: username for user_id, username in rows}


def element_symbol(db: Session, text: str | None, loc: Loc) -> str | None:
    """The symbol of a known element (`lead`, `PB` → `Pb`), else a 422 naming the field."""
    if text is None:
        return None
    symbol = normalise_element(text, custom_symbols(db))
    if symbol is None:
        raise field_error(loc, f"{text!r} is not a known element: use a symbol or a name "
                               "(Pb, lead, plomb) or define a custom element", text)
    return symbol


def element_filter(db: Session, text: str | None) -> str | None:
    """A list filter's element: normalised when known, else taken as written (finds nothing)."""
    if text is None or not text.strip():
        return None
    return normalise_element(text, custom_symbols(db)) or text.strip()


def id_list(ids: Iterable[int]) -> str:
    return ", ".join(str(item) for item in ids)
