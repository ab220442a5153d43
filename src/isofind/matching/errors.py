"""Exceptions raised by the pure matching engine.

Every exception names the offending field or value so that the HTTP layer can answer a 4xx
with the message as it is. They all derive from ``MatchingInputError`` (a ``ValueError``).
"""


class MatchingInputError(ValueError):
    """Base class: the caller gave the engine something it cannot use."""


class InvalidQuantityError(MatchingInputError):
    """A ratio or delta name is not canonical (``206Pb/204Pb``, ``δ65Cu``) or is inconsistent."""


class InvalidSampleError(MatchingInputError):
    """A sample's isotope values cannot be matched (bad value, uncertainty or duplicate)."""


class InvalidSourcesError(MatchingInputError):
    """The source matrix or one of its companion arrays is malformed."""


class InvalidOptionsError(MatchingInputError):
    """A matching option is out of its allowed range."""


class InvalidValueError(MatchingInputError):
    """An isotope value or its uncertainty is not usable (non-positive ratio, negative 2σ, ∞)."""
