"""The core API's request validation and response shapes (docs/ARCHITECTURE.md, "Responses"), a module per
part: ``fields`` (shared fields), ``users``, ``money``, ``notifications``, ``standing`` (v1.3). Every name is
importable from ``api.serializers`` as before."""

from .fields import *  # noqa: F403
from .money import *  # noqa: F403
from .notifications import *  # noqa: F403
from .users import *  # noqa: F403
