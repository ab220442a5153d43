"""Every room's tables, imported once so the metadata (and Alembic) sees them all."""

from isofind.activity import models as activity_models
from isofind.comments import models as comments_models
from isofind.db import Base
from isofind.files import models as files_models
from isofind.identity import models as identity_models
from isofind.instruments import models as instruments_models
from isofind.locations import models as locations_models
from isofind.matching import models as matching_models
from isofind.objects import models as objects_models
from isofind.permissions import models as permissions_models
from isofind.reference.elements import models as elements_models
from isofind.reference.library import models as library_models
from isofind.reference.standards import models as standards_models
from isofind.samples import models as samples_models
from isofind.system import models as system_models

__all__ = [
    "Base",
    "activity_models",
    "comments_models",
    "elements_models",
    "files_models",
    "identity_models",
    "instruments_models",
    "library_models",
    "locations_models",
    "matching_models",
    "objects_models",
    "permissions_models",
    "samples_models",
    "standards_models",
    "system_models",
]
