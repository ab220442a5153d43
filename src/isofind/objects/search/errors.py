"""The one exception the search language raises for bad input."""


class SearchQueryError(ValueError):
    """A query that cannot be parsed or compiled.

    ``message`` says what is wrong, ``position`` is the 0-based character offset in the
    query where the problem starts; ``str(error)`` combines both for an HTTP 400 body.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position
