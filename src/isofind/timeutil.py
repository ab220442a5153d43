"""UTC time, stored naive in the database (both backends compare it the same way)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def sampledb_timestamp(moment: datetime) -> str:
    """The ``YYYY-MM-DD HH:MM:SS`` form SampleDB uses for versions and logs."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 with microseconds, the form SampleDB uses for comments and instrument logs."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
