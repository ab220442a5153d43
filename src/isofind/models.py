"""Every room's tables, imported once so the metadata (and Alembic) sees them all."""

from isofind.activity import models as activity_models
from isofind.db import Base
from isofind.identity import models as identity_models
from isofind.system import models as system_models

__all__ = ["Base", "activity_models", "identity_models", "system_models"]
