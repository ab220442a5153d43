"""Normalisation of the words labs write: materials, classifications, elements, isotope ratios,
delta notations, uncertainty types and DOIs, in French or English, with or without accents.

Every function is pure and cheap; the CSV import calls them once per distinct cell value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from isofind.reference.elements.predefined import PREDEFINED_ELEMENTS


def fold(text: str) -> str:
    """Lower-case `text`, drop accents and collapse whitespace: `  Sédiment ` → `sediment`."""
    if text.isascii():  # nothing to decompose: most names, and imports fold every one
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


# --- Materials and classifications ----------------------------------------------------------

_MATERIAL_SYNONYMS: dict[str, tuple[str, ...]] = {
    # geological materials
    "sediment": ("sédiment", "sediment core", "carotte sédimentaire", "sédiment de rivière"),
    "soil": ("sol", "terre", "topsoil"),
    "rock": ("roche", "bedrock", "roche mère"),
    "ore": ("minerai", "mineral ore", "ore sample"),
    "mineral": ("minéral",),
    "sand": ("sable",),
    "clay": ("argile",),
    "peat": ("tourbe",),
    "coal": ("charbon", "houille"),
    # ore and gangue minerals met in provenance work
    "galena": ("galène", "galenite"),
    "sphalerite": ("sphalérite", "blende", "zinc blende"),
    "pyrite": (),
    "chalcopyrite": (),
    "cerussite": ("cérusite", "cérussite"),
    "anglesite": (),
    "malachite": (),
    "azurite": (),
    "cuprite": (),
    "chalcocite": ("chalcosine",),
    "bornite": (),
    "tetrahedrite": ("tétraédrite",),
    "arsenopyrite": (),
    "stibnite": ("stibine", "antimonite"),
    "cassiterite": ("cassitérite",),
    "cinnabar": ("cinabre",),
    "barite": ("baryte", "barytine"),
    "fluorite": ("fluorine",),
    "goethite": (),
    "hematite": ("hématite", "haematite"),
    "magnetite": ("magnétite",),
    "siderite": ("sidérite",),
    "calcite": (),
    "quartz": (),
    "feldspar": ("feldspath",),
    "zircon": (),
    "apatite": (),
    "monazite": (),
    # archaeological and industrial materials
    "slag": ("scorie", "laitier"),
    "metal": ("métal",),
    "alloy": ("alliage",),
    "bronze": (),
    "brass": ("laiton",),
    "copper alloy": ("alliage cuivreux", "alliage de cuivre"),
    "lead alloy": ("alliage de plomb",),
    "ingot": ("lingot",),
    "coin": ("monnaie", "pièce de monnaie", "pièce"),
    "artefact": ("artifact", "objet archéologique", "objet"),
    "glass": ("verre",),
    "glaze": ("glaçure",),
    "ceramic": ("céramique", "pottery", "poterie"),
    "pigment": (),
    "paint": ("peinture",),
    # environmental samples
    "water": ("eau",),
    "seawater": ("sea water", "eau de mer"),
    "groundwater": ("ground water", "eau souterraine", "eau de nappe"),
    "river water": ("eau de rivière", "eau de surface", "surface water"),
    "rainwater": ("rain water", "eau de pluie", "precipitation", "précipitation"),
    "dust": ("poussière", "house dust", "poussière domestique"),
    "aerosol": ("aérosol", "particulate matter", "particules", "pm10", "pm2.5"),
    "lichen": (),
    "moss": ("mousse",),
    "plant": ("plante", "végétal", "vegetation", "végétation"),
    "wood": ("bois",),
    "shell": ("coquille", "coquillage"),
    "coral": ("corail",),
    # biological and forensic samples
    "bone": ("os", "ossement"),
    "tooth": ("dent", "teeth"),
    "enamel": ("émail", "tooth enamel", "émail dentaire"),
    "hair": ("cheveu", "cheveux", "poil"),
    "nail": ("ongle",),
    "blood": ("sang",),
    "urine": (),
    "food": ("aliment", "nourriture", "foodstuff"),
    "wine": ("vin",),
    "honey": ("miel",),
    "milk": ("lait",),
    "meat": ("viande",),
    "fertilizer": ("fertiliser", "engrais"),
    "petroleum": ("pétrole", "crude oil", "brut"),
    "gasoline": ("petrol", "essence", "carburant", "fuel"),
    "ammunition": ("munition", "bullet", "balle"),
    "gunshot residue": ("résidu de tir", "gsr"),
    "explosive": ("explosif",),
    "drug": ("drogue", "stupéfiant"),
}

_CLASSIFICATION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "source": ("source", "sources", "origin", "origine", "parent", "mère", "end-member",
               "pôle", "reference", "référence"),
    "daughter": ("daughter", "daughters", "fille", "filles", "child", "enfant", "target",
                 "cible", "unknown", "inconnu", "inconnue", "questioned"),
}


def _fold_index(synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, others in synonyms.items():
        for word in (canonical, *others):
            index[fold(word)] = canonical
    return index


_MATERIALS = _fold_index(_MATERIAL_SYNONYMS)
_CLASSIFICATIONS = _fold_index(_CLASSIFICATION_SYNONYMS)


def _lookup_with_plural(index: dict[str, str], folded: str) -> str | None:
    found = index.get(folded)
    if found is None and len(folded) > 3 and folded[-1] in "sx":
        # French and English plurals: "sédiments", "eaux", "minerais" → "minerai"
        found = index.get(folded[:-1])
    return found


def canonical_material(text: str) -> str | None:
    """The canonical English material for a known word (`Sédiments` → `sediment`), else None."""
    return _lookup_with_plural(_MATERIALS, fold(text))


def normalise_material(text: str) -> str:
    """Canonical material; lists such as `galène; blende` are normalised item by item.

    Words outside the vocabulary are the lab's own and are kept, only trimmed.
    """
    parts = [" ".join(part.split()) for part in text.split(";")]
    normalised = [canonical_material(part) or part for part in parts if part]
    return "; ".join(normalised)


def normalise_classification(text: str) -> str | None:
    """`source` or `daughter` (`fille`, `Daughters`, `Source` …), None when not recognised."""
    return _lookup_with_plural(_CLASSIFICATIONS, fold(text))


# --- Elements -----------------------------------------------------------------------------

_NAME_ALIASES = {"aluminium": "Al", "caesium": "Cs", "sulphur": "S", "wolfram": "W"}


def _element_index() -> dict[str, str]:
    index = {fold(alias): symbol for alias, symbol in _NAME_ALIASES.items()}
    for symbol, element in PREDEFINED_ELEMENTS.items():
        index[fold(element.name_en)] = symbol
        index[fold(element.name_fr)] = symbol
        index[symbol.casefold()] = symbol
    return index


_ELEMENTS = _element_index()


def _custom_symbol(text: str, custom_symbols: Collection[str]) -> str | None:
    if text in custom_symbols:
        return text
    wanted = text.casefold()
    return next((symbol for symbol in custom_symbols if symbol.casefold() == wanted), None)


def normalise_element(text: str, custom_symbols: Collection[str] = frozenset()) -> str | None:
    """Symbol for an element written as a symbol or an English/French name, any case.

    `lead`, `plomb`, `PB` → `Pb`. Custom symbols are accepted as declared. None when unknown.
    """
    stripped = text.strip()
    return _ELEMENTS.get(fold(stripped)) or _custom_symbol(stripped, custom_symbols)


def _element_symbol(token: str, custom_symbols: Collection[str]) -> str | None:
    """Symbol only (no names) for the element part of a ratio: `pb` → `Pb`."""
    symbol = _ELEMENTS.get(token.casefold())
    if symbol is not None and symbol.casefold() == token.casefold():
        return symbol
    return _custom_symbol(token, custom_symbols)


# --- Ratios and deltas --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IsotopeQuantity:
    kind: Literal["ratio", "delta"]
    name: str  # canonical: `206Pb/204Pb`, `87Rb/86Sr`, `δ65Cu`, `δ66/64Zn`
    element: str  # the measured system: the denominator's element for a ratio
    elements: frozenset[str]  # every element the name involves

    def refuses(self, value: float) -> str | None:
        """Why ``value`` cannot be a measurement of this quantity, or None: a ratio of
        amounts is positive, a delta may be anything."""
        if self.kind == "ratio" and value <= 0:
            return "an isotope ratio must be positive"
        return None


_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SYMBOL = r"[A-Za-z]{1,3}"
_MASS = r"\d{1,3}"
_RATIO_SPELLINGS = (
    # 206Pb/204Pb, 206pb/204pb, 206Pb-204Pb, 206Pb:204Pb, 206Pb/204
    re.compile(rf"(?P<m1>{_MASS})(?P<e1>{_SYMBOL})[/:-](?P<m2>{_MASS})(?P<e2>{_SYMBOL})?"),
    # Pb206/Pb204, Pb-206/Pb-204, Pb206/204
    re.compile(rf"(?P<e1>{_SYMBOL})-?(?P<m1>{_MASS})[/:](?:(?P<e2>{_SYMBOL})-?)?(?P<m2>{_MASS})"),
    # 206/204Pb
    re.compile(rf"(?P<m1>{_MASS})/(?P<m2>{_MASS})(?P<e2>{_SYMBOL})"),
)
# δ only: capital Δ names another quantity (Δ17O, Δ199Hg: mass-independent anomalies).
_DELTA_PREFIX = r"(?:δ|[dD]elta|DELTA|d)"
_DELTA_SPELLINGS = (
    # δ65Cu, d65Cu, delta65Cu, δ66/64Zn
    re.compile(rf"{_DELTA_PREFIX}(?P<m1>{_MASS})(?:/(?P<m2>{_MASS}))?(?P<e1>{_SYMBOL})"),
    # δCu65
    re.compile(rf"{_DELTA_PREFIX}(?P<e1>{_SYMBOL})(?P<m1>{_MASS})"),
)
_DELTA_DEUTERIUM = re.compile(rf"{_DELTA_PREFIX}D")


def _compact(text: str) -> str:
    return "".join(text.translate(_SUPERSCRIPT_DIGITS).split())


def _is_isotope_of(mass: str, symbol: str) -> bool:
    element = PREDEFINED_ELEMENTS.get(symbol)
    # Custom elements have no isotope table: any mass number is taken as written.
    return element is None or int(mass) in element.known_mass_numbers


def _isotope(mass: str, token: str, custom_symbols: Collection[str]) -> str | None:
    symbol = _element_symbol(token, custom_symbols)
    if symbol is None or not _is_isotope_of(mass, symbol):
        return None
    return symbol


def _ratio_from_match(match: re.Match[str], custom: Collection[str]) -> IsotopeQuantity | None:
    parts = match.groupdict()
    # A spelling that names the element once (206/204Pb, Pb206/204) names it for both isotopes.
    token1 = parts.get("e1") or parts["e2"]
    token2 = parts.get("e2") or token1
    numerator = _isotope(parts["m1"], token1, custom)
    denominator = _isotope(parts["m2"], token2, custom)
    if numerator is None or denominator is None:
        return None
    top, bottom = f"{parts['m1']}{numerator}", f"{parts['m2']}{denominator}"
    if top == bottom:
        return None
    name = f"{top}/{bottom}"
    return IsotopeQuantity("ratio", name, denominator, frozenset((numerator, denominator)))


def parse_ratio(text: str, custom_symbols: Collection[str] = frozenset()) -> IsotopeQuantity | None:
    """A ratio in any common spelling, or None: `Pb206/Pb204`, `206/204Pb` → `206Pb/204Pb`."""
    compact = _compact(text)
    for spelling in _RATIO_SPELLINGS:
        match = spelling.fullmatch(compact)
        if match:
            return _ratio_from_match(match, custom_symbols)
    return None


def parse_delta(text: str, custom_symbols: Collection[str] = frozenset()) -> IsotopeQuantity | None:
    """A delta value name, or None: `d65Cu`, `delta65Cu`, `δ⁶⁵Cu` → `δ65Cu`; `δD` → `δ2H`."""
    compact = _compact(text)
    if _DELTA_DEUTERIUM.fullmatch(compact):
        return IsotopeQuantity("delta", "δ2H", "H", frozenset({"H"}))
    for spelling in _DELTA_SPELLINGS:
        match = spelling.fullmatch(compact)
        if match:
            symbol = _isotope(match["m1"], match["e1"], custom_symbols)
            second = match.groupdict().get("m2")
            if symbol is None or (second and not _is_isotope_of(second, symbol)):
                return None
            masses = f"{match['m1']}/{second}" if second else match["m1"]
            return IsotopeQuantity("delta", f"δ{masses}{symbol}", symbol, frozenset({symbol}))
    return None


def parse_isotope_quantity(
    text: str, custom_symbols: Collection[str] = frozenset()
) -> IsotopeQuantity | None:
    """A ratio or a delta name in canonical form, or None when `text` is neither."""
    return parse_ratio(text, custom_symbols) or parse_delta(text, custom_symbols)


_SYMBOL_SHAPED = re.compile(r"[A-Z][a-z]?")


def looks_like_isotope_quantity(text: str) -> bool:
    """Whether `text` is spelt like a ratio or delta of element symbols, known or not.

    `206Xx/204Xx` does, `CO2/N2` and `12h-24h` do not: tells a ratio column of an unknown
    element (to refuse) from an unrelated column (to ignore).
    """
    compact = _compact(text)
    for spelling in (*_RATIO_SPELLINGS, *_DELTA_SPELLINGS):
        match = spelling.fullmatch(compact)
        if match:
            tokens = [token for key, token in match.groupdict().items() if key[0] == "e" and token]
            return all(_SYMBOL_SHAPED.fullmatch(token) for token in tokens)
    return False


def canonical_ratio(text: str, custom_symbols: Collection[str] = frozenset()) -> str | None:
    quantity = parse_ratio(text, custom_symbols)
    return quantity.name if quantity else None


def canonical_delta(text: str, custom_symbols: Collection[str] = frozenset()) -> str | None:
    quantity = parse_delta(text, custom_symbols)
    return quantity.name if quantity else None


# --- Uncertainties ------------------------------------------------------------------------

# The labels a sample's uncertainty may be declared in; the standards' to_two_sigma turns
# each into 2σ (a 2SE stays a 2SE: the declared label records what it was).
_UNCERTAINTY_TYPE = re.compile(r"±?([12])(σ|sigma|s|sd|se)")


def parse_uncertainty_type(text: str) -> str | None:
    """Declared uncertainty label: `1s`, `1 sigma` → `1σ`; `2 s.d.` → `2SD`; `2se` → `2SE`."""
    compact = "".join(text.casefold().replace(".", "").split())
    match = _UNCERTAINTY_TYPE.fullmatch(compact)
    if match is None:
        return None
    level, unit = match.groups()
    suffix = "σ" if unit in ("σ", "sigma", "s") else unit.upper()
    return f"{level}{suffix}"


# --- DOIs -----------------------------------------------------------------------------------

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI = re.compile(r"10\.\d+(?:\.\d+)*/\S+")


def normalise_doi(text: str) -> str | None:
    """Bare DOI: `https://doi.org/10.1/x`, `doi:10.1/x` → `10.1/x`; None if not a DOI."""
    bare = _DOI_PREFIX.sub("", text.strip())
    return bare if _DOI.fullmatch(bare) else None
