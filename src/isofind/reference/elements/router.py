"""Element routes: /api/elements (predefined + custom) and the custom elements' CRUD."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, status

from isofind.identity.dependencies import AnalystUser, CurrentUser, Db, client_address
from isofind.identity.schemas import Success
from isofind.reference.elements import service
from isofind.reference.elements.schemas import CustomElementIn, ElementOut
from isofind.routing import api_router

router = api_router(tags=["Elements"])

ElementId = Annotated[int, Path(ge=-(2**31), le=2**31 - 1)]


@router.get("/api/elements", response_model=list[ElementOut])
def list_elements(user: CurrentUser, db: Db) -> list[ElementOut]:
    """Every element: the predefined ones (by atomic number), then the lab's custom ones."""
    return service.list_elements(db)


@router.get("/api/elements/custom", response_model=list[ElementOut])
def list_custom_elements(user: CurrentUser, db: Db) -> list[ElementOut]:
    """The lab's custom elements, by symbol."""
    return [ElementOut.of_custom(element) for element in service.list_custom(db)]


@router.post("/api/elements/custom", response_model=ElementOut,
             status_code=status.HTTP_201_CREATED)
def create_custom_element(body: CustomElementIn, request: Request, user: AnalystUser,
                          db: Db) -> ElementOut:
    """Create a custom element (analyst or above). Its symbol may not shadow a predefined
    element's symbol or name (409), nor repeat another custom symbol (409)."""
    element = service.create_custom(db, user, body, client_address=client_address(request))
    return ElementOut.of_custom(element)


@router.put("/api/elements/custom/{element_id}", response_model=ElementOut)
def update_custom_element(element_id: ElementId, body: CustomElementIn, request: Request,
                          user: AnalystUser, db: Db) -> ElementOut:
    """Replace a custom element (analyst or above); a symbol in use cannot change (409)."""
    element = service.update_custom(db, user, element_id, body,
                                    client_address=client_address(request))
    return ElementOut.of_custom(element)


@router.delete("/api/elements/custom/{element_id}", response_model=Success)
def delete_custom_element(element_id: ElementId, request: Request, user: AnalystUser,
                          db: Db) -> Success:
    """Delete a custom element (analyst or above); refused (409) while values name it."""
    symbol = service.delete_custom(db, user, element_id, client_address=client_address(request))
    return Success(message=f"custom element {symbol} deleted")
