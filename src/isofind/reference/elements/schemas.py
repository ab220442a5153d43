"""Bodies of the element routes: one shape for predefined and custom elements."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from isofind.reference.elements.models import CustomElement
from isofind.reference.elements.predefined import PREDEFINED_ELEMENTS, PredefinedElement
from isofind.schemas import RequestBody

# Ratio spellings read 1 to 3 letters as an element (vocabulary._SYMBOL): a longer custom
# symbol could never appear in an isotope ratio.
_SYMBOL = re.compile(r"[A-Za-z]{1,3}")
_ATOMIC_NUMBERS = {element.atomic_number: element for element in PREDEFINED_ELEMENTS.values()}


class IsotopeIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    mass_number: int = Field(ge=1, le=300)
    abundance: float | None = Field(default=None, ge=0, le=100,
                                    description="atom percent; null when not natural")


class CustomElementIn(RequestBody):
    """A custom element; its symbol is stored in canonical case (`xx` → `Xx`)."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=10, examples=["Xx"])
    name: str = Field(min_length=1, max_length=200)
    name_fr: str | None = Field(default=None, max_length=200)
    atomic_number: int | None = Field(default=None, ge=1, le=999)
    isotopes: list[IsotopeIn] = Field(default_factory=list, max_length=300)
    description: str = Field(default="", max_length=5000)

    @field_validator("symbol")
    @classmethod
    def _canonical_symbol(cls, value: str) -> str:
        stripped = value.strip()
        if not _SYMBOL.fullmatch(stripped):
            raise ValueError("symbol must be 1 to 3 letters, such as Xx")
        return stripped[0].upper() + stripped[1:].lower()

    @field_validator("name", "name_fr")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        if value is None:
            return None
        stripped = " ".join(value.split())
        if not stripped:
            raise ValueError("must not be blank")
        return stripped

    @field_validator("atomic_number")
    @classmethod
    def _not_predefined_number(cls, value: int | None) -> int | None:
        taken = _ATOMIC_NUMBERS.get(value) if value is not None else None
        if taken is not None:
            raise ValueError(
                f"atomic number {value} is {taken.name_en} ({taken.symbol}), a predefined element"
            )
        return value

    @field_validator("isotopes")
    @classmethod
    def _consistent_isotopes(cls, value: list[IsotopeIn]) -> list[IsotopeIn]:
        masses = [isotope.mass_number for isotope in value]
        repeated = sorted({mass for mass in masses if masses.count(mass) > 1})
        if repeated:
            raise ValueError(f"mass numbers listed twice: {', '.join(map(str, repeated))}")
        total = sum(isotope.abundance or 0 for isotope in value)
        if total > 100.5:  # rounding of published abundances leaves a little over 100
            raise ValueError(f"abundances sum to {total:g} %, more than 100 %")
        return sorted(value, key=lambda isotope: isotope.mass_number)


class IsotopeOut(BaseModel):
    mass_number: int
    abundance: float | None


class ElementOut(BaseModel):
    id: int | None = Field(description="custom elements only")
    symbol: str
    name: str
    name_fr: str | None
    atomic_number: int | None
    isotopes: list[IsotopeOut]
    custom: bool
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def predefined(cls, element: PredefinedElement) -> ElementOut:
        return cls(
            id=None, symbol=element.symbol, name=element.name_en, name_fr=element.name_fr,
            atomic_number=element.atomic_number, custom=False,
            isotopes=[IsotopeOut(mass_number=i.mass_number, abundance=i.abundance)
                      for i in element.isotopes],
        )

    @classmethod
    def of_custom(cls, element: CustomElement) -> ElementOut:
        return cls(
            id=element.id, symbol=element.symbol, name=element.name, name_fr=element.name_fr,
            atomic_number=element.atomic_number, custom=True,
            isotopes=[IsotopeOut.model_validate(item) for item in element.isotopes],
            description=element.description, created_at=element.created_at,
            updated_at=element.updated_at,
        )
