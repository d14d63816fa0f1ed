"""The back office (docs/ARCHITECTURE.md): a module per part, each registering its pages. Money moves only
through the services the API calls, under the same idempotency mechanism, so a double click on "Confirm"
moves money once. The display helpers (``display``) are shared with the risk and business admins."""

from . import accounts, approvals, audit, display, records, standing, transactions, users  # noqa: F401
from .accounts import AccountAdmin  # noqa: F401
from .display import *  # noqa: F403 - the display helpers, for the risk and business admins
from .users import UserAdmin  # noqa: F401
