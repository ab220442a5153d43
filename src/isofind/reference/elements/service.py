"""Rules for elements: predefined ones come from `periodictable`, custom ones from the lab.

A custom symbol must never be read as something else: it may not be a predefined symbol in
any case (`PB`), nor a predefined element's name that normalisation turns into a symbol
(`Or` is French for gold, `Fer` for iron). A custom element in use (isotope values,
purification yields, methods, pipelines) keeps its symbol and cannot be deleted: the values
that name it would stop naming anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.errors import Conflict, Forbidden, NotFound
from isofind.identity.models import User
from isofind.reference.elements.models import CustomElement
from isofind.reference.elements.predefined import PREDEFINED_ELEMENTS, shadows_predefined
from isofind.reference.elements.schemas import CustomElementIn, ElementOut
from isofind.reference.library.models import Method, Pipeline
from isofind.samples.models import IsotopeValue, PurificationYield
from isofind.samples.vocabulary import normalise_element
from isofind.timeutil import utcnow


def custom_symbols(db: Session) -> frozenset[str]:
    """Symbols of the lab's custom elements, for vocabulary normalisation."""
    return frozenset(db.scalars(select(CustomElement.symbol)))


def list_custom(db: Session) -> Sequence[CustomElement]:
    return db.scalars(select(CustomElement).order_by(CustomElement.symbol)).all()


def list_elements(db: Session) -> list[ElementOut]:
    """Predefined elements by atomic number, then custom elements by symbol."""
    predefined = sorted(PREDEFINED_ELEMENTS.values(), key=lambda element: element.atomic_number)
    return [*(ElementOut.predefined(element) for element in predefined),
            *(ElementOut.of_custom(element) for element in list_custom(db))]


def get_custom(db: Session, element_id: int) -> CustomElement:
    element = db.get(CustomElement, element_id)
    if element is None:
        raise NotFound(f"custom element {element_id} not found")
    return element


def _require_editor(user: User) -> None:
    if user.is_readonly:
        raise Forbidden("read-only users cannot change the element library")


def _check_symbol_free(db: Session, symbol: str, element_id: int | None) -> None:
    if shadows_predefined(symbol):
        predefined = PREDEFINED_ELEMENTS[normalise_element(symbol) or symbol]
        raise Conflict(f"symbol {symbol} is the predefined element {predefined.symbol} "
                       f"({predefined.name_en}); a custom element cannot shadow it")
    read_as = normalise_element(symbol)
    if read_as is not None:
        raise Conflict(f"symbol {symbol} would be read as the predefined element {read_as} "
                       f"(a name of {PREDEFINED_ELEMENTS[read_as].name_en}); choose another")
    other = db.scalar(select(CustomElement.id).where(CustomElement.symbol == symbol))
    if other is not None and other != element_id:
        raise Conflict(f"custom element {symbol} already exists (id {other})")


def element_usage(db: Session, symbol: str) -> list[str]:
    """What names `symbol`, as phrases for an error message; empty when unused."""
    counts = {
        "isotope value": select(func.count()).where(IsotopeValue.element == symbol),
        "purification yield": select(func.count()).where(PurificationYield.element == symbol),
        "method": select(func.count()).where(Method.element == symbol),
        "pipeline": select(func.count()).where(Pipeline.element == symbol),
    }
    usage = []
    for what, query in counts.items():
        count = db.scalar(query) or 0
        if count:
            usage.append(f"{count} {what}{'s' if count > 1 else ''}")
    return usage


def _refuse_if_used(db: Session, element: CustomElement, refusal: str) -> None:
    usage = element_usage(db, element.symbol)
    if usage:
        raise Conflict(f"{refusal}: it is used by {', '.join(usage)}")


def _apply(element: CustomElement, body: CustomElementIn) -> None:
    element.symbol = body.symbol
    element.name = body.name
    element.name_fr = body.name_fr
    element.atomic_number = body.atomic_number
    element.isotopes = [isotope.model_dump() for isotope in body.isotopes]
    element.description = body.description


def _flush(db: Session, symbol: str) -> None:
    try:
        db.flush()
    except IntegrityError:
        # Another request created the same symbol between our check and this insert.
        raise Conflict(f"custom element {symbol} already exists") from None


def create_custom(db: Session, user: User, body: CustomElementIn, *,
                  client_address: str | None = None) -> CustomElement:
    _require_editor(user)
    _check_symbol_free(db, body.symbol, None)
    element = CustomElement(created_by=user.id)
    _apply(element, body)
    db.add(element)
    _flush(db, body.symbol)
    record(db, "element.created", user_id=user.id, target_type="element", target_id=element.id,
           details={"symbol": element.symbol}, client_address=client_address)
    return element


def update_custom(db: Session, user: User, element_id: int, body: CustomElementIn, *,
                  client_address: str | None = None) -> CustomElement:
    _require_editor(user)
    element = get_custom(db, element_id)
    previous = element.symbol
    if body.symbol != previous:
        _refuse_if_used(db, element,
                        f"cannot rename custom element {previous} to {body.symbol}")
        _check_symbol_free(db, body.symbol, element.id)
    _apply(element, body)
    element.updated_at = utcnow()
    _flush(db, body.symbol)
    details = {"symbol": element.symbol}
    if previous != element.symbol:
        details["previous_symbol"] = previous
    record(db, "element.updated", user_id=user.id, target_type="element", target_id=element.id,
           details=details, client_address=client_address)
    return element


def delete_custom(db: Session, user: User, element_id: int, *,
                  client_address: str | None = None) -> str:
    _require_editor(user)
    element = get_custom(db, element_id)
    _refuse_if_used(db, element, f"cannot delete custom element {element.symbol}")
    symbol = element.symbol
    db.delete(element)
    db.flush()
    record(db, "element.deleted", user_id=user.id, target_type="element", target_id=element_id,
           details={"symbol": symbol}, client_address=client_address)
    return symbol
