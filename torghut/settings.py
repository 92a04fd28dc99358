"""torghut settings: every value that varies by deployment comes from the environment.

Defaults suit a single development machine; `torghut.core.env` records each setting so docs/settings.md lists
them all. Tests run with `TESTING` on, which moves Redis, ClickHouse and the metrics directory to
their own namespaces so a running `make run` never sees test traffic.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from torghut.core.env import env_bool, env_float, env_int, env_list, env_str
from torghut.core.security import DEV_EVIDENCE_HMAC_KEY, DEV_SECRET_KEY, DEV_SUPERUSER_DEFAULT

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TORGHUT_VAR_DIR", str(BASE_DIR / "var"), "Folder for spool files, metrics and service data."))

TESTING = os.environ.get("TORGHUT_TESTING") == "1" or "pytest" in sys.modules

# --- core -------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False, "Django debug mode. Turn on for development only.")
SECRET_KEY = env_str("SECRET_KEY", "", "Django secret key. Required unless DEBUG is on (then a dev default is used).")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = DEV_SECRET_KEY
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (export SECRET_KEY or DEBUG=1 for development)")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"], "Host names the web server answers for.")
if TESTING and "testserver" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append("testserver")

WEB_HOST = env_str("WEB_HOST", "127.0.0.1", "Address gunicorn binds to.")
WEB_PORT = env_int("WEB_PORT", 8000, "Port of the API, admin and /metrics.")
FLOWER_HOST = env_str("FLOWER_HOST", "127.0.0.1", "Address Flower binds to.")
FLOWER_PORT = env_int("FLOWER_PORT", 5555, "Port of Flower.")
FLOWER_BASIC_AUTH = env_str(
    "FLOWER_BASIC_AUTH",
    "",
    "Flower basic-auth credentials as user:password; with DEBUG off a missing, default or short (<16) password refuses to start.",
)
FLOWER_READ_ONLY = env_bool(
    "FLOWER_READ_ONLY", True, "Start Flower read-only: its task-running and worker-control API is off (turn on only for admins)."
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "torghut.core.apps.CoreConfig",
    "trading",
    "research",
    "governance",
    "torghut.console.apps.ConsoleConfig",
    "torghut.devstack.apps.DevstackConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-axes: counts failed admin logins and locks the account/address out (last, as its docs ask).
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "torghut.urls"
WSGI_APPLICATION = "torghut.wsgi.application"
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
            ]
        },
    }
]

DATABASE_URL = env_str(
    "DATABASE_URL",
    "postgres://torghut:torghut@127.0.0.1:5432/torghut",
    "PostgreSQL URL (psycopg 3). Tests use test_<name> on the same server.",
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault(
    "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, "Seconds to wait for a Postgres connection.")
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, "Failed admin logins (per user and address) before the login is locked out.")
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 1.0, "Hours an admin login lockout lasts.")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "/admin/login/"

# --- transport security (production: DEBUG off). check --deploy is clean with these defaults. ---------
_PRODUCTION = not (DEBUG or TESTING)
SESSION_COOKIE_SECURE = env_bool(
    "SESSION_COOKIE_SECURE", _PRODUCTION, "Send the session cookie over HTTPS only (default: on unless DEBUG)."
)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _PRODUCTION, "Send the CSRF cookie over HTTPS only (default: on unless DEBUG).")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _PRODUCTION, "Redirect plain HTTP to HTTPS (default: on unless DEBUG).")
# Probes and scrapers speak plain HTTP inside the cluster; they carry no session or credentials.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _PRODUCTION else 0, "HSTS max-age (s) sent over HTTPS; 0 sends none.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _PRODUCTION, "HSTS covers sub-domains too.")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _PRODUCTION, "Ask browsers to preload HSTS for the host.")
_PROXY_SSL_HEADER = env_str(
    "SECURE_PROXY_SSL_HEADER", "", "Header a TLS-terminating proxy sets to say the request was HTTPS, e.g. HTTP_X_FORWARDED_PROTO."
)
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER, "https") if _PROXY_SSL_HEADER else None
# The DEBUG error page and error mails mask settings whose names match this (URLs carry passwords).
DEFAULT_EXCEPTION_REPORTER_FILTER = "torghut.core.checks.SecretSafeExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO", "Root log level.")},
}

# --- Redis, Celery ----------------------------------------------------------------------------
REDIS_URL = env_str(
    "REDIS_URL",
    "redis://127.0.0.1:6379/14" if TESTING else "redis://127.0.0.1:6379/0",
    "Redis URL: Celery broker, kill-switch mirror, locks. Tests default to database 14.",
)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL, "Celery broker URL (Redis, or RabbitMQ by amqp:// URL).")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL, "Celery result backend URL.")
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, "Seconds before a task gets SoftTimeLimitExceeded.")
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, "Seconds before a task's process is killed.")
CELERY_RETRY_BACKOFF_MAX = env_int("CELERY_RETRY_BACKOFF_MAX", 600, "Cap in seconds of the exponential retry backoff.")
CELERY_MAX_RETRIES = env_int("CELERY_MAX_RETRIES", 5, "Retries before a task is dead-lettered.")
CELERY_DB_REUSE_MAX = env_int(
    "CELERY_DB_REUSE_MAX",
    1_000_000,
    "Tasks a worker process runs on one Postgres connection before reopening it; 0 reopens around every task (Celery's default). "
    "Connections are also replaced after 60 s (CONN_MAX_AGE); each reopen costs the next order ~12 ms (connect, the gate's plans).",
)
CELERY_VISIBILITY_TIMEOUT = env_int(
    "CELERY_VISIBILITY_TIMEOUT", 3600, "Redis visibility timeout (s); must exceed the longest retry countdown."
)
BEAT_LOCK_TTL = env_int("BEAT_LOCK_TTL", 30, "Seconds the beat leader lock lives without renewal.")
HEARTBEAT_INTERVAL_SECONDS = env_float(
    "HEARTBEAT_INTERVAL_SECONDS", 30.0, "Seconds between the heartbeat tasks beat sends to every queue (worker liveness for Prometheus)."
)
DEAD_LETTER_SPOOL = Path(
    env_str(
        "DEAD_LETTER_SPOOL",
        str(VAR_DIR / ("test-spool" if TESTING else "spool") / "dead_letters.jsonl"),
        "Local file where dead letters wait while Postgres is unreachable.",
    )
)

# --- ClickHouse -------------------------------------------------------------------------------
CLICKHOUSE_URL = env_str(
    "CLICKHOUSE_URL",
    "clickhouse://default@127.0.0.1:9000/torghut_test" if TESTING else "clickhouse://default@127.0.0.1:9000/torghut",
    "ClickHouse native-protocol URL. Tests default to database torghut_test.",
)
CLICKHOUSE_CONNECT_TIMEOUT = env_float("CLICKHOUSE_CONNECT_TIMEOUT", 2.0, "Seconds to connect to ClickHouse.")
CLICKHOUSE_SEND_RECEIVE_TIMEOUT = env_float("CLICKHOUSE_SEND_RECEIVE_TIMEOUT", 10.0, "Socket send/receive timeout (s).")
CLICKHOUSE_MAX_EXECUTION_TIME = env_int("CLICKHOUSE_MAX_EXECUTION_TIME", 8, "Server-side max_execution_time per query (s).")

# --- health, metrics --------------------------------------------------------------------------
READYZ_TIMEOUT = env_float("READYZ_TIMEOUT", 2.0, "Seconds each dependency check of /readyz may take.")
PROMETHEUS_MULTIPROC_DIR = env_str(
    "PROMETHEUS_MULTIPROC_DIR",
    str(VAR_DIR / ("prometheus-test" if TESTING else "prometheus")),
    "Folder shared by web and worker processes for multiprocess Prometheus metrics.",
)
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", PROMETHEUS_MULTIPROC_DIR)
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing or bad credential a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["torghut.core.permissions.ViewPermittedReadPermittedWrite"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle", "rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "30/min", "DRF throttle rate of anonymous API callers (per address)."),
        "user": env_str("API_THROTTLE_USER", "6000/min", "DRF throttle rate of each authenticated user or token."),
        "health": env_str("API_THROTTLE_HEALTH", "600/min", "DRF throttle rate of /trading/health probes (per address)."),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    # JSON bodies bounded in size and depth (torghut/core/inputs.py); forms are bounded by DATA_UPLOAD_MAX_*.
    "DEFAULT_PARSER_CLASSES": [
        "torghut.core.inputs.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "torghut control plane",
    "DESCRIPTION": "Signals, decisions, executions, research runs, promotions and the kill switch.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # swagger-ui and redoc from the vendored drf-spectacular-sidecar static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema maps every operation: with DEBUG off only signed-in users (session or token) may read it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny" if DEBUG else "rest_framework.permissions.IsAuthenticated"],
    # Several serializers have a `status` choice field; this one gets a name of its own.
    "ENUM_NAME_OVERRIDES": {"TradingHealthStatusEnum": ["healthy", "degraded"]},
}

REST_KNOX = {
    # Tokens are stored as digests only; each expires (create_api_token --expires) and is revoked by deleting it.
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_TTL_DAYS", 90, "Default lifetime (days) of an API token made by create_api_token.")),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

DEV_SUPERUSER = env_str(
    "DEV_SUPERUSER", DEV_SUPERUSER_DEFAULT, "Development superuser user:password made by `make run` (refused when DEBUG is off)."
)

# --- trading ----------------------------------------------------------------------------------
TRADING_EXECUTION_ADAPTER = env_str(
    "TRADING_EXECUTION_ADAPTER",
    "simulated",
    "Expected order adapter (simulated|lean|alpaca), set on each decision when it is planned; a strategy's parameters.adapter overrides it.",
)
TRADING_EXECUTION_FALLBACK_CHAIN = env_list(
    "TRADING_EXECUTION_FALLBACK_CHAIN", ["lean", "alpaca"], "Adapters tried, in order, after the expected one fails to take an order."
)
TRADING_ORDER_NOTIONAL = env_float("TRADING_ORDER_NOTIONAL", 1000.0, "Target notional (USD) of one decision before risk checks.")
TRADING_ACCOUNT_CAPITAL = env_float("TRADING_ACCOUNT_CAPITAL", 100000.0, "Account capital (USD); a strategy gets capital_fraction of it.")
TRADING_MAX_ORDER_NOTIONAL = env_float("TRADING_MAX_ORDER_NOTIONAL", 10000.0, "Risk: largest notional (USD) of one order.")
TRADING_MAX_POSITION_NOTIONAL = env_float(
    "TRADING_MAX_POSITION_NOTIONAL", 50000.0, "Risk: largest absolute position (USD) per symbol after an order."
)
TRADING_MAX_ORDERS_PER_SECOND = env_int("TRADING_MAX_ORDERS_PER_SECOND", 5, "Risk: orders per second per account before throttling.")
TRADING_SIMULATED_SLIPPAGE_BPS = env_float(
    "TRADING_SIMULATED_SLIPPAGE_BPS", 5.0, "Simulated fills: slippage against the signal price, in basis points."
)
TRADING_SIMULATED_LATENCY_MS = env_int(
    "TRADING_SIMULATED_LATENCY_MS",
    0,
    "Simulated fills: latency added to each order, in milliseconds; at 0 the order gate fills them in its own statement.",
)
TRADING_LEAN_URL = env_str("TRADING_LEAN_URL", "http://127.0.0.1:8811", "Base URL of the LEAN runner HTTP API.")
TRADING_LEAN_TIMEOUT_SECONDS = env_float("TRADING_LEAN_TIMEOUT_SECONDS", 5.0, "Timeout (s) of each LEAN runner request.")
TRADING_ALPACA_BASE_URL = env_str(
    "TRADING_ALPACA_BASE_URL", "https://paper-api.alpaca.markets", "Alpaca trading API base URL (paper by default; the local venue in dev)."
)
TRADING_ALPACA_KEY_ID = env_str("TRADING_ALPACA_KEY_ID", "", "Alpaca API key id.")
TRADING_ALPACA_SECRET_KEY = env_str("TRADING_ALPACA_SECRET_KEY", "", "Alpaca API secret key.")
TRADING_ALPACA_TIMEOUT_SECONDS = env_float("TRADING_ALPACA_TIMEOUT_SECONDS", 5.0, "Timeout (s) of each Alpaca request.")
TRADING_RECONCILE_GRACE_SECONDS = env_int(
    "TRADING_RECONCILE_GRACE_SECONDS",
    120,
    "Age (s) before reconciliation looks for a submitted decision with no execution row (exceeds the slowest route).",
)
TRADING_UNKNOWN_EXPIRE_SECONDS = env_int(
    "TRADING_UNKNOWN_EXPIRE_SECONDS", 300, "Age (s) after which an order no venue knows by client order id is settled as expired."
)
TRADING_DECISION_TTL_SECONDS = env_int(
    "TRADING_DECISION_TTL_SECONDS", 60, "Age (s) after which a planned decision is too stale to send; it expires instead."
)
TRADING_FALLBACK_WINDOW_SECONDS = env_int("TRADING_FALLBACK_WINDOW_SECONDS", 900, "Rolling window (s) of torghut_execution_fallback_ratio.")
TRADING_VENUE_LEAN_PORT = env_int("TRADING_VENUE_LEAN_PORT", 8811, "Port of the local LEAN-like venue started by `make run`.")
TRADING_VENUE_ALPACA_PORT = env_int("TRADING_VENUE_ALPACA_PORT", 8812, "Port of the local Alpaca-like venue started by `make run`.")

# Signals: source table, cursor and continuity (issue 3).
TRADING_SIGNAL_TABLE = env_str(
    "TRADING_SIGNAL_TABLE", "ta_signals", "ClickHouse table of TA signal rows (may be db.table or a Distributed table)."
)
TRADING_SIGNAL_TIME_COLUMN = env_str(
    "TRADING_SIGNAL_TIME_COLUMN", "event_ts", "Event time column of the signal table (DateTime or DateTime64(3))."
)
TRADING_SIGNAL_SYMBOL_COLUMN = env_str("TRADING_SIGNAL_SYMBOL_COLUMN", "symbol", "Symbol column of the signal table.")
TRADING_SIGNAL_SEQ_COLUMN = env_str("TRADING_SIGNAL_SEQ_COLUMN", "seq", "Per-symbol sequence column of the signal table.")
TRADING_SIGNAL_SOURCE = env_str("TRADING_SIGNAL_SOURCE", "ta", "Name of the signal source; part of the cursor key.")
TRADING_ACCOUNT = env_str("TRADING_ACCOUNT", "paper", "Trading account the ingest feeds; part of the cursor key.")
TRADING_INGEST_INTERVAL_SECONDS = env_float("TRADING_INGEST_INTERVAL_SECONDS", 5.0, "Beat interval of trading.ingest_signals.")
TRADING_INGEST_SHARDS = env_int(
    "TRADING_INGEST_SHARDS", 1, "Ingest shards: symbols map to crc32(symbol) % shards, one cursor and lock per shard."
)
TRADING_INGEST_BATCH_SIZE = env_int("TRADING_INGEST_BATCH_SIZE", 5000, "Rows fetched per ingest poll.")
TRADING_SIGNAL_LOOKBACK_SECONDS = env_int(
    "TRADING_SIGNAL_LOOKBACK_SECONDS", 600, "Where a new cursor starts (now minus this); older cursors fast-forward to it."
)
TRADING_SIGNAL_EMPTY_ADVANCE_SECONDS = env_int(
    "TRADING_SIGNAL_EMPTY_ADVANCE_SECONDS", 120, "An empty poll whose cursor is older than this advances the cursor (empty_batch_advanced)."
)
TRADING_SIGNAL_SETTLE_SECONDS = env_float(
    "TRADING_SIGNAL_SETTLE_SECONDS",
    0.0,
    "Rows are read only once their time unit (a second on DateTime, a millisecond on DateTime64(3)) ended this long ago, so "
    "rows of a unit written in several batches are not skipped; signals reach strategies that much later. 0 reads at once.",
)
TRADING_SIGNAL_ALLOWED_LATENESS_SECONDS = env_float(
    "TRADING_SIGNAL_ALLOWED_LATENESS_SECONDS",
    5.0,
    "A row written up to this long after its event time (plus one ingest interval) is still processed, once: each poll "
    "re-reads that horizon behind the cursor and skips keys it already processed. Later rows are counted "
    "(torghut_signal_late_rows_total), not processed; the audit finds the rest.",
)
TRADING_SIGNAL_LATE_ROWS_ALERT_THRESHOLD = env_int(
    "TRADING_SIGNAL_LATE_ROWS_ALERT_THRESHOLD",
    1,
    "Rows later than the allowed lateness, per cursor over the last 10 minutes, that open a signal_late_rows alert (0 never).",
)
TRADING_SIGNAL_AUDIT_INTERVAL_SECONDS = env_float(
    "TRADING_SIGNAL_AUDIT_INTERVAL_SECONDS", 300.0, "Beat interval of trading.audit_signals (ClickHouse rows vs processed rows, last hour)."
)
TRADING_SIGNAL_FUTURE_TOLERANCE_SECONDS = env_int(
    "TRADING_SIGNAL_FUTURE_TOLERANCE_SECONDS", 5, "Rows stamped further than this in the future are rejected (future_timestamp)."
)
TRADING_SIGNAL_PROBE_CACHE_SECONDS = env_float(
    "TRADING_SIGNAL_PROBE_CACHE_SECONDS", 30.0, "How long the max(event_ts) probe is cached; its last value is reused on error."
)
TRADING_SIGNAL_STREAK_ALERT_THRESHOLD = env_int(
    "TRADING_SIGNAL_STREAK_ALERT_THRESHOLD", 2, "Consecutive polls with one no-signal reason that raise a continuity alert."
)
TRADING_SIGNAL_LAG_ALERT_SECONDS = env_float("TRADING_SIGNAL_LAG_ALERT_SECONDS", 300.0, "Signal lag that raises a continuity alert.")
TRADING_SIGNAL_ALERT_CLEAR_POLLS = env_int(
    "TRADING_SIGNAL_ALERT_CLEAR_POLLS", 2, "Consecutive signal-bearing polls that clear a latched continuity alert."
)
TRADING_INGEST_WINDOW_RETENTION_DAYS = env_int(
    "TRADING_INGEST_WINDOW_RETENTION_DAYS", 30, "Days of IngestWindow telemetry kept; older rows are deleted hourly (0 keeps everything)."
)
TRADING_STALENESS_INTERVAL_SECONDS = env_float(
    "TRADING_STALENESS_INTERVAL_SECONDS", 15.0, "Beat interval of trading.evaluate_signal_staleness."
)
TRADING_UNIVERSE_SOURCE = env_str(
    "TRADING_UNIVERSE_SOURCE",
    "jangar",
    "Symbol universe: jangar (authoritative, required for live/autonomy) or static (research and paper only).",
)
TRADING_UNIVERSE_STATIC_SYMBOLS = env_list(
    "TRADING_UNIVERSE_STATIC_SYMBOLS", [], "Symbols of the static universe (TRADING_UNIVERSE_SOURCE=static)."
)
JANGAR_SYMBOLS_URL = env_str(
    "JANGAR_SYMBOLS_URL", "", 'jangar endpoint returning {"symbols": [...]}; `make run` points it at the simulator.'
)
JANGAR_RETRY_SECONDS = env_float(
    "JANGAR_RETRY_SECONDS", 15.0, "After a jangar failure, polls reuse that verdict this long before asking again."
)
JANGAR_TIMEOUT_SECONDS = env_float("JANGAR_TIMEOUT_SECONDS", 2.0, "Connect and read timeout of the jangar request (s).")
TRADING_UNIVERSE_CACHE_SECONDS = env_int(
    "TRADING_UNIVERSE_CACHE_SECONDS", 300, "How long a jangar universe is used before it is refreshed."
)
TRADING_UNIVERSE_STALE_MAX_SECONDS = env_int(
    "TRADING_UNIVERSE_STALE_MAX_SECONDS", 900, "On jangar failure a cached universe up to this age is used (degraded); older fails closed."
)
TRADING_AUTONOMY_ENABLED = env_bool(
    "TRADING_AUTONOMY_ENABLED", False, "Autonomous/live trading loop; refuses to start unless TRADING_UNIVERSE_SOURCE=jangar."
)
ALERTMANAGER_URL = env_str("ALERTMANAGER_URL", "", "Alertmanager base URL; alerts are POSTed to <url>/api/v2/alerts when set.")
ALERTMANAGER_TIMEOUT_SECONDS = env_float("ALERTMANAGER_TIMEOUT_SECONDS", 3.0, "Timeout of an Alertmanager webhook POST (s).")
SIMULATOR_PORT = env_int("SIMULATOR_PORT", 8765, "Loopback port of the market simulator's jangar-compatible symbols endpoint.")

# --- research ---------------------------------------------------------------------------------
RESEARCH_SOURCE_TABLE = env_str(
    "RESEARCH_SOURCE_TABLE", "ta_signals", "ClickHouse table (ta_signals column layout) that paper simulations read by default."
)
RESEARCH_PRICES_TABLE = env_str(
    "RESEARCH_PRICES_TABLE", "research_prices", "ClickHouse table the real-price loader writes (same layout as ta_signals)."
)
RESEARCH_LANE_INTERVAL_SECONDS = env_int("RESEARCH_LANE_INTERVAL_SECONDS", 300, "Beat interval of research.run_autonomous_lane (s).")
RESEARCH_LANE_WINDOW_SECONDS = env_int("RESEARCH_LANE_WINDOW_SECONDS", 900, "Signal window each autonomous research run replays (s).")
RESEARCH_COVERAGE_LOOKBACK_SECONDS = env_int(
    "RESEARCH_COVERAGE_LOOKBACK_SECONDS", 86400, "Symbols seen this long before a window are the ones it is expected to cover (s)."
)
RESEARCH_CAPITAL = env_float(
    "RESEARCH_CAPITAL", 100000.0, "Capital a paper simulation trades against (drawdown and turnover are fractions of it)."
)
RESEARCH_TRADE_NOTIONAL = env_float(
    "RESEARCH_TRADE_NOTIONAL", 10000.0, "Notional of each simulated entry; a strategy's `notional` parameter overrides it."
)
RESEARCH_SLIPPAGE_BPS = env_float("RESEARCH_SLIPPAGE_BPS", 5.0, "Simulated fill slippage in basis points against the signal price.")
RESEARCH_FEE_BPS = env_float("RESEARCH_FEE_BPS", 1.0, "Simulated fee in basis points of each fill's notional.")
TORGHUT_LLM_URL = env_str(
    "TORGHUT_LLM_URL", "", "OpenAI-compatible chat-completions URL of the optional LLM reviewer of research runs; empty turns it off."
)
TORGHUT_LLM_MODEL = env_str("TORGHUT_LLM_MODEL", "gpt-4o-mini", "Model name sent to the LLM reviewer endpoint.")
TORGHUT_LLM_TIMEOUT_SECONDS = env_float(
    "TORGHUT_LLM_TIMEOUT_SECONDS", 20.0, "Connect and read timeout of one LLM reviewer call (s); a timeout is `not_evaluated`."
)
TORGHUT_LLM_API_KEY = env_str("TORGHUT_LLM_API_KEY", "", "Bearer token of the LLM reviewer endpoint (empty: no Authorization header).")
RESEARCH_PERSIST_ATTEMPTS = env_int("RESEARCH_PERSIST_ATTEMPTS", 4, "Tries to write a research run before its payload is dead-lettered.")
RESEARCH_PERSIST_BACKOFF_SECONDS = env_float(
    "RESEARCH_PERSIST_BACKOFF_SECONDS", 0.5, "First retry delay of a research run write; doubles on every further try."
)
RESEARCH_PERSIST_LOCK_TIMEOUT_MS = env_int(
    "RESEARCH_PERSIST_LOCK_TIMEOUT_MS",
    2000,
    "Postgres lock_timeout of a research run write (ms), so a locked table fails fast and retries.",
)

# --- governance -------------------------------------------------------------------------------
GOVERNANCE_KILL_SWITCH_REDIS_KEY = env_str(
    "GOVERNANCE_KILL_SWITCH_REDIS_KEY",
    "torghut:governance:kill_switch",
    "Redis key mirroring the kill-switch state for fast readers (status, tools); the order gate reads Postgres.",
)
GOVERNANCE_KILL_SWITCH_READ_TIMEOUT = env_float(
    "GOVERNANCE_KILL_SWITCH_READ_TIMEOUT", 0.25, "Seconds the mirror check waits for Redis, then for Postgres, before failing closed."
)
GOVERNANCE_EMERGENCY_STOP_INTERVAL = env_float(
    "GOVERNANCE_EMERGENCY_STOP_INTERVAL", 5.0, "Seconds between emergency-stop evaluations (beat)."
)
GOVERNANCE_RESUME_REQUIRES_OTHER_USER = env_bool(
    "GOVERNANCE_RESUME_REQUIRES_OTHER_USER", True, "Refuse a kill-switch resume by the user (by id) who engaged it (four eyes)."
)
GOVERNANCE_LIVE_APPROVALS_REQUIRED = env_int(
    "GOVERNANCE_LIVE_APPROVALS_REQUIRED", 1, "Approvals by distinct approvers (none the requester) a move to live needs."
)
GOVERNANCE_PROMOTION_REQUEST_TTL_HOURS = env_float(
    "GOVERNANCE_PROMOTION_REQUEST_TTL_HOURS", 72.0, "Hours a promotion request stays open before it expires unapproved."
)
GOVERNANCE_CAPITAL_RAMP_INTERVAL = env_float(
    "GOVERNANCE_CAPITAL_RAMP_INTERVAL",
    900.0,
    "Seconds between capital-ramp checks (beat); each NYSE session is evaluated once, after its close.",
)
GOVERNANCE_DRILL_TICK_SECONDS = env_float(
    "GOVERNANCE_DRILL_TICK_SECONDS", 1.0, "Seconds between the rollback drill's own ingest polls and emergency-stop evaluations."
)
GOVERNANCE_EVIDENCE_HMAC_KEY = env_str(
    "GOVERNANCE_EVIDENCE_HMAC_KEY",
    "",
    "Secret (>= 32 chars) that signs the evidence chain (HMAC-SHA256); never stored in the database. Required unless DEBUG.",
)
if not GOVERNANCE_EVIDENCE_HMAC_KEY and (DEBUG or TESTING):
    GOVERNANCE_EVIDENCE_HMAC_KEY = DEV_EVIDENCE_HMAC_KEY
GOVERNANCE_EVIDENCE_HMAC_KEY_ID = env_str(
    "GOVERNANCE_EVIDENCE_HMAC_KEY_ID", "k1", "Name of GOVERNANCE_EVIDENCE_HMAC_KEY, written into each package it signs (key rotation)."
)
GOVERNANCE_EVIDENCE_HMAC_OLD_KEYS = env_list(
    "GOVERNANCE_EVIDENCE_HMAC_OLD_KEYS", [], "Retired evidence keys as id:secret, still accepted by verify_evidence for older packages."
)
GOVERNANCE_EVIDENCE_ANCHOR_REDIS_KEY = env_str(
    "GOVERNANCE_EVIDENCE_ANCHOR_REDIS_KEY",
    "torghut:governance:evidence_head",
    "Redis key holding the signed head (id, mac) of the evidence chain, a copy outside Postgres.",
)
GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS = env_float(
    "GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS", 60.0, "Longest a drill waits for the halt, and again for the recovery, before it fails."
)
GOVERNANCE_DRILL_SIGNAL_LAG_SECONDS = env_float(
    "GOVERNANCE_DRILL_SIGNAL_LAG_SECONDS",
    5.0,
    "Signal-lag limit the lag drill evaluates against (time-compressed from the policy's 600 s).",
)
GOVERNANCE_DRILL_SIMULATOR_URL = env_str(
    "GOVERNANCE_DRILL_SIMULATOR_URL",
    "",
    "Market simulator control endpoint the lag and staleness drills pause (default: http://127.0.0.1:SIMULATOR_PORT/control).",
)
GOVERNANCE_DRILL_VENUE_URL = env_str(
    "GOVERNANCE_DRILL_VENUE_URL",
    "",
    "Local LEAN venue the fallback drill makes fail (default: TRADING_LEAN_URL); it must serve /_venue/switches.",
)
GOVERNANCE_DRILL_RESEARCH_TABLE = env_str(
    "GOVERNANCE_DRILL_RESEARCH_TABLE",
    "torghut_drill_missing_source",
    "ClickHouse table the research-failure drill reads; it must not exist, so each run fails.",
)
