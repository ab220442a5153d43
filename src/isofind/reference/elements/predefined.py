"""Predefined elements: every element with a natural isotopic composition.

That is the 80 elements with stable isotopes plus Bi, Th, Pa and U, whose long-lived isotopes
geochemists measure (U-series, Th/U). Symbols, English names, isotopes and natural abundances come
from `periodictable` (IUPAC/CIAAW values); French names are ours.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import periodictable
from periodictable import mass as periodictable_mass
from periodictable.util import parse_uncertainty

FRENCH_NAMES: Mapping[str, str] = MappingProxyType({
    "H": "hydrogène", "He": "hélium", "Li": "lithium", "Be": "béryllium", "B": "bore",
    "C": "carbone", "N": "azote", "O": "oxygène", "F": "fluor", "Ne": "néon", "Na": "sodium",
    "Mg": "magnésium", "Al": "aluminium", "Si": "silicium", "P": "phosphore", "S": "soufre",
    "Cl": "chlore", "Ar": "argon", "K": "potassium", "Ca": "calcium", "Sc": "scandium",
    "Ti": "titane", "V": "vanadium", "Cr": "chrome", "Mn": "manganèse", "Fe": "fer",
    "Co": "cobalt", "Ni": "nickel", "Cu": "cuivre", "Zn": "zinc", "Ga": "gallium",
    "Ge": "germanium", "As": "arsenic", "Se": "sélénium", "Br": "brome", "Kr": "krypton",
    "Rb": "rubidium", "Sr": "strontium", "Y": "yttrium", "Zr": "zirconium", "Nb": "niobium",
    "Mo": "molybdène", "Ru": "ruthénium", "Rh": "rhodium", "Pd": "palladium", "Ag": "argent",
    "Cd": "cadmium", "In": "indium", "Sn": "étain", "Sb": "antimoine", "Te": "tellure",
    "I": "iode", "Xe": "xénon", "Cs": "césium", "Ba": "baryum", "La": "lanthane",
    "Ce": "cérium", "Pr": "praséodyme", "Nd": "néodyme", "Sm": "samarium", "Eu": "europium",
    "Gd": "gadolinium", "Tb": "terbium", "Dy": "dysprosium", "Ho": "holmium", "Er": "erbium",
    "Tm": "thulium", "Yb": "ytterbium", "Lu": "lutécium", "Hf": "hafnium", "Ta": "tantale",
    "W": "tungstène", "Re": "rhénium", "Os": "osmium", "Ir": "iridium", "Pt": "platine",
    "Au": "or", "Hg": "mercure", "Tl": "thallium", "Pb": "plomb", "Bi": "bismuth",
    "Th": "thorium", "Pa": "protactinium", "U": "uranium",
})


@dataclass(frozen=True, slots=True)
class NaturalIsotope:
    mass_number: int
    abundance: float  # atom percent; the isotopes of an element sum to 100


@dataclass(frozen=True, slots=True)
class PredefinedElement:
    symbol: str
    atomic_number: int
    name_en: str
    name_fr: str
    isotopes: tuple[NaturalIsotope, ...]
    # Every isotope known to periodictable, radioactive ones included: ratios such as
    # 210Pb/206Pb or 230Th/232Th name isotopes with no natural abundance.
    known_mass_numbers: frozenset[int]


def _abundances_from_ciaaw_table(atomic_number: int) -> dict[int, float]:
    """Read one element's block of periodictable's own CIAAW abundance table.

    periodictable 2.1 never stores the last block of that table (uranium), so its U isotopes
    report a zero abundance; reading the block here keeps U's natural composition.
    """
    fractions: dict[int, float] = {}
    in_block = False
    for line in getattr(periodictable_mass, "isotope_abundance", "").splitlines():
        if not line.strip():
            continue
        if line[0] not in " \t":
            in_block = line.split()[0] == str(atomic_number)
        elif in_block:
            mass_number, fraction = line.split()[:2]
            fractions[int(mass_number)] = parse_uncertainty(fraction)[0]
    total = sum(fractions.values())
    return {mass: 100 * fraction / total for mass, fraction in fractions.items() if total}


def _natural_abundances(element: periodictable.core.Element) -> dict[int, float]:
    listed = {
        mass: element[mass].abundance
        for mass in element.isotopes
        if element[mass].abundance > 0
    }
    return listed or _abundances_from_ciaaw_table(element.number)


def _build_predefined() -> dict[str, PredefinedElement]:
    predefined: dict[str, PredefinedElement] = {}
    for element in periodictable.elements:
        if element.symbol not in FRENCH_NAMES:
            continue
        abundances = _natural_abundances(element)
        predefined[element.symbol] = PredefinedElement(
            symbol=element.symbol,
            atomic_number=element.number,
            name_en=element.name,
            name_fr=FRENCH_NAMES[element.symbol],
            isotopes=tuple(
                NaturalIsotope(mass, abundance) for mass, abundance in sorted(abundances.items())
            ),
            known_mass_numbers=frozenset(element.isotopes),
        )
    return predefined


PREDEFINED_ELEMENTS: Mapping[str, PredefinedElement] = MappingProxyType(_build_predefined())

_PREDEFINED_BY_CASEFOLD = {symbol.casefold(): symbol for symbol in PREDEFINED_ELEMENTS}


def predefined_element(symbol: str) -> PredefinedElement | None:
    """The predefined element with exactly this symbol (`Pb`), or None."""
    return PREDEFINED_ELEMENTS.get(symbol)


def is_known_element(symbol: str, custom_symbols: Collection[str] = frozenset()) -> bool:
    """Whether `symbol` is, exactly, a predefined symbol or one of the lab's custom symbols."""
    return symbol in PREDEFINED_ELEMENTS or symbol in custom_symbols


def shadows_predefined(symbol: str) -> bool:
    """Whether a custom element named `symbol` would be mistaken for a predefined one.

    Case is ignored: a custom `PB` or `pb` would collide with Pb wherever input is normalised.
    """
    return symbol.strip().casefold() in _PREDEFINED_BY_CASEFOLD
