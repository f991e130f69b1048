"""Settings, read from the environment only.

Unset variables give the embedded default: SQLite, the in-memory channel layer and mixers as
child processes of the server. DATABASE_URL and REDIS_URL switch to the scaled-out mode.
"""

import hashlib
import hmac
import ipaddress
import re
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from stage.sources.policy import DEFAULT_NETWORKS, DEFAULT_SCHEMES, SourcePolicy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))


def _secret_key() -> str:
    """The configured key, or one generated once per checkout and kept under VAR_DIR."""
    configured = env("SECRET_KEY", default="")
    if configured:
        return configured
    from django.core.management.utils import get_random_secret_key

    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Behind a proxy (nginx, scaled out): `python -m config.serve` passes daphne --proxy-headers, so
# REMOTE_ADDR (what the rate limiter counts) is the client's, not the proxy's; the proxy serves the
# HLS files (HLS_LOW_LATENCY_SEATS); and Django trusts its X-Forwarded-Proto (below).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "events",
    "stage",
    "streaming",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.content_security_policy.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # operator/ holds the console and green-room front end; it is no Python package.
        "DIRS": [BASE_DIR / "operator" / "templates"],
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

# --- database: SQLite file by default, PostgreSQL (psycopg 3 with its pool) by DATABASE_URL
DATABASE_URL = env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'webcast.sqlite3'}")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: concurrent writers wait on the busy timeout instead of failing on lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # Django's backend with a check of pooled connections that costs no round trip and a circuit
    # breaker for outages (config/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # Under ASGI persistent connections pile up; psycopg's pool replaces them.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A pooled connection the server closed (a restart) is replaced before it is handed out.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_MAX", default=8),
        # How long a request waits for a connection before it gets the 503 page (events/views/errors.py).
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
        # psycopg retries a failed connection with a doubling delay for five minutes: after a
        # 10 s outage requests failed for 25 s more. Given up after 2 s, the next request that
        # needs a connection tries again at once.
        "reconnect_timeout": 2.0,
    }
    # A statement run this many times on a connection is prepared there (Django turns preparing off;
    # psycopg's default). Django's cursors bind on the client and are never prepared; the
    # one-statement registration binds on the server (events/registration_insert.py). Connections
    # are the process's own pool's, never a transaction-mode pooler's, which would lose them.
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Threads a web process runs sync views on (config/django_http.py), each with its database
# connection while it serves a request: no more than DATABASE_POOL_MAX scaled out.
WEB_THREADS = env.int("WEB_THREADS", default=4)
if WEB_THREADS < 1:
    raise ImproperlyConfigured("WEB_THREADS must be at least 1.")

# --- channel layer and broker: in-memory by default, Redis by REDIS_URL
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's 5 s socket timeout kills the layer's blocking receives, and its
                # pool raises at 100 connections (channels_redis#422, redis-py#4091).
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 2000}],
                "capacity": 1000,
                "group_expiry": 86400,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- mixers: local = one child process per live event; celery = workers on the mixer queue.
MIXER_RUNNER = env("MIXER_RUNNER", default="local")
MIXER_AUTOSTART = env.bool("MIXER_AUTOSTART", default=True)
# The lease (a fencing token): a mixer renews it every MIXER_RENEW_SECONDS for MIXER_LEASE_SECONDS;
# the watchdog, every MIXER_WATCHDOG_SECONDS, replaces a mixer whose lease lapsed. A new mixer has
# MIXER_START_GRACE_SECONDS to start before it counts as lost.
MIXER_LEASE_SECONDS = env.float("MIXER_LEASE_SECONDS", default=10.0)
MIXER_RENEW_SECONDS = env.float("MIXER_RENEW_SECONDS", default=2.0)
MIXER_WATCHDOG_SECONDS = env.float("MIXER_WATCHDOG_SECONDS", default=5.0)
MIXER_START_GRACE_SECONDS = env.float("MIXER_START_GRACE_SECONDS", default=30.0)
MIXER_QUEUE = env("MIXER_QUEUE", default="mixer")
# Played alone when no on-air line is healthy (any FFmpeg input; empty: a built-in soft chord).
MIXER_FALLBACK_SOURCE = env("MIXER_FALLBACK_SOURCE", default="")
MIXER_FALLBACK_FORMAT = env("MIXER_FALLBACK_FORMAT", default="")
# Optional slow loudness normalisation of the program (LUFS), off when unset.
MIXER_LOUDNESS_TARGET = env.float("MIXER_LOUDNESS_TARGET", default=None)
# The mix loop and the WebRTC loop ask for round-robin real-time scheduling at this priority (1-99,
# as audio servers do; 0: never), where the process may (streaming/core/realtime.py).
MIXER_REALTIME_PRIORITY = env.int("MIXER_REALTIME_PRIORITY", default=10)

# --- the off-air monitor (streaming/off_air.py): one per live event, started and watched with the
# mixers (MIXER_AUTOSTART, the watchdog), reading the published stream as a viewer does from
# OFF_AIR_BASE_URL (the site itself, or the nginx in front: the public path, with a media pass).
OFF_AIR_ENABLED = env.bool("OFF_AIR_ENABLED", default=True)
OFF_AIR_BASE_URL = (env("OFF_AIR_BASE_URL", default="") or SITE_URL).rstrip("/")
OFF_AIR_QUEUE = env("OFF_AIR_QUEUE", default="monitor")
OFF_AIR_POLL_SECONDS = env.float("OFF_AIR_POLL_SECONDS", default=0.5)
# Its lease, as the mixer's: renewed every OFF_AIR_RENEW_SECONDS; lapsed, the watchdog raises
# "off-air monitor down" and starts another.
OFF_AIR_LEASE_SECONDS = env.float("OFF_AIR_LEASE_SECONDS", default=10.0)
OFF_AIR_RENEW_SECONDS = env.float("OFF_AIR_RENEW_SECONDS", default=2.0)
# What it alarms on: silence (below OFF_AIR_SILENCE_DB) for OFF_AIR_DEAD_AIR_SECONDS while on air;
# short-term loudness over the target by the tolerance; segments later than OFF_AIR_LATENCY_MAX_SECONDS
# after they were mixed, or none new for OFF_AIR_STALL_SECONDS (unset: three target durations).
OFF_AIR_DEAD_AIR_SECONDS = env.float("OFF_AIR_DEAD_AIR_SECONDS", default=5.0)
OFF_AIR_SILENCE_DB = env.float("OFF_AIR_SILENCE_DB", default=-55.0)
OFF_AIR_LOUDNESS_TARGET = env.float(
    "OFF_AIR_LOUDNESS_TARGET", default=MIXER_LOUDNESS_TARGET if MIXER_LOUDNESS_TARGET is not None else -16.0
)
OFF_AIR_LOUDNESS_TOLERANCE = env.float("OFF_AIR_LOUDNESS_TOLERANCE", default=4.0)
OFF_AIR_LATENCY_MAX_SECONDS = env.float("OFF_AIR_LATENCY_MAX_SECONDS", default=None)
OFF_AIR_STALL_SECONDS = env.float("OFF_AIR_STALL_SECONDS", default=None)


CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# Mixers run for hours: acknowledged early, because the Redis broker redelivers an unacknowledged
# task after its visibility timeout; the lease, not the broker, restarts a lost mixer. Mail tasks
# are idempotent and ask for late acknowledgement themselves (events/tasks.py).
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_ROUTES = {
    "streaming.tasks.run_mixer": {"queue": MIXER_QUEUE},
    "streaming.tasks.run_off_air_monitor": {"queue": OFF_AIR_QUEUE},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# An early-acknowledged running task no longer counts against the prefetch limit, so a busy mixer
# worker would still reserve the next mixer (which then waits behind a show that runs for hours).
CELERY_WORKER_DISABLE_PREFETCH = True
# A warm shutdown waits for running tasks and a mixer never finishes: after this long the worker's
# cold shutdown sends its children SIGTERM, which ends the segment and releases the lease.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=5.0)
CELERY_BEAT_SCHEDULE = {
    "watch-mixers": {"task": "streaming.tasks.watch_mixers", "schedule": MIXER_WATCHDOG_SECONDS},
    # The outbox's safety net: mails that the process which committed them did not relay.
    "relay-outbox": {"task": "events.tasks.relay_outbox", "schedule": env.float("OUTBOX_RELAY_SECONDS", default=10.0)},
    # Presence beats wait in Redis until their minute closes; reminders go out once each.
    "flush-attendance": {"task": "events.tasks.flush_attendance", "schedule": 30.0},
    "send-reminders": {"task": "events.tasks.send_due_reminders", "schedule": 300.0},
}

# --- registration: each process keeps an event's form (the event and its questions) this long;
# a change saved in another process is seen within it (events/form_cache.py).
EVENT_FORM_CACHE_SECONDS = env.float("EVENT_FORM_CACHE_SECONDS", default=5.0)

# --- the stage: a cue a presenter has not acknowledged within this many seconds is flagged on the console
STAGE_CUE_ACK_SECONDS = env.float("STAGE_CUE_ACK_SECONDS", default=10.0)
# A presenter whose last green-room socket closed counts as gone (off air) only after this long:
# a reload or a network blip reconnects within it and keeps their place.
STAGE_PRESENCE_GRACE_SECONDS = env.float("STAGE_PRESENCE_GRACE_SECONDS", default=5.0)
# Then, scaled out, the presenter's sockets in the other server processes have this long to say
# they are there (a reload that landed on another process keeps them on air).
STAGE_PRESENCE_PROBE_SECONDS = env.float("STAGE_PRESENCE_PROBE_SECONDS", default=1.0)
# Every stage socket hears a heartbeat this often while the server's way to it works (through the
# channel layer); a page that hears nothing for 2.5 of them reconnects (Redis restarting, a dead
# server process, a cut connection) and resyncs.
STAGE_HEARTBEAT_SECONDS = env.float("STAGE_HEARTBEAT_SECONDS", default=3.0)
if STAGE_HEARTBEAT_SECONDS < 0.1:
    raise ImproperlyConfigured("STAGE_HEARTBEAT_SECONDS must be at least 0.1.")
# Viewers' votes reach the consoles as one recount of an event's votes at most this often (0: a
# recount after every vote); see stage/tally.py.
STAGE_VOTE_TALLY_SECONDS = env.float("STAGE_VOTE_TALLY_SECONDS", default=0.5)

# --- media
HLS_ROOT = Path(env("HLS_ROOT", default=str(VAR_DIR / "hls")))
HLS_URL = "/hls/"
HLS_BITRATE = env.int("HLS_BITRATE", default=128000)
# AAC frames of 1024 samples per segment: 47 = 1.0027 s at 48 kHz (target duration 1). A player
# without low-latency support starts three target durations behind the live edge (HOLD-BACK,
# RFC 8216bis 4.4.3.8), so the segment length sets its latency: 3 s here, 6 s with 2 s segments.
HLS_SEGMENT_FRAMES = env.int("HLS_SEGMENT_FRAMES", default=47)
# Low-latency HLS: parts of about this many AAC frames (12 = 0.256 s: four to a segment), adjusted
# to split a segment evenly (streaming/core/encoder.py part_frames_for); 0 turns parts off (a plain
# live playlist).
HLS_PART_FRAMES = env.int("HLS_PART_FRAMES", default=12)
HLS_WINDOW = env.int("HLS_WINDOW", default=6)
# The media pass (streaming/passes.py): a cookie that admits a viewer, producer or presenter to one
# event's HLS files for this long, renewed by the page every third of it; so a revoked join link
# stops playing within it. Its secret is shared with nginx at scale (config/nginx/); unset, it is
# derived from SECRET_KEY, so the embedded default needs nothing.
HLS_PASS_SECONDS = env.int("HLS_PASS_SECONDS", default=60)
HLS_PASS_SECRET = env("HLS_PASS_SECRET", default="") or hmac.new(
    SECRET_KEY.encode(), b"streaming.media_pass", hashlib.sha256
).hexdigest()
# Low-latency seats (streaming/core/seats.py): how many viewers one web process lets play
# low-latency HLS at once (about 8 requests a second each to the process serving the files, where
# whole segments take about 2.3); the rest play whole segments. Sized for the embedded default's one
# daphne; 0 is unlimited, the default behind a proxy, whose nginx serves the files and caches the
# blocking reloads. Producers and presenters always play low latency and take no seat.
_seats = env("HLS_LOW_LATENCY_SEATS", default="0" if BEHIND_PROXY else "100")
if not re.fullmatch(r"[0-9]{1,9}", _seats):
    raise ImproperlyConfigured(f"HLS_LOW_LATENCY_SEATS must be a whole number of viewers (0: unlimited): {_seats!r}")
HLS_LOW_LATENCY_SEATS = int(_seats)
if not 0 <= HLS_PART_FRAMES <= HLS_SEGMENT_FRAMES:
    raise ImproperlyConfigured("HLS_PART_FRAMES must be 0 (no parts) to HLS_SEGMENT_FRAMES.")
if HLS_PASS_SECONDS < 3:
    raise ImproperlyConfigured("HLS_PASS_SECONDS must be at least 3 (the page renews every third of it).")
# It is written into nginx's configuration: letters, digits, "-" and "_" only, and long enough.
if not re.fullmatch(r"[A-Za-z0-9_-]{32,}", HLS_PASS_SECRET):
    raise ImproperlyConfigured("HLS_PASS_SECRET must be 32 or more letters, digits, '-' or '_'.")

# --- slides (stage/decks.py): uploaded PDF decks and their rendered pages, served under
# /hls/<event>/slides/ with the media pass. Uploads past these limits are refused whole.
SLIDES_ROOT = Path(env("SLIDES_ROOT", default=str(VAR_DIR / "slides")))
SLIDES_MAX_UPLOAD_BYTES = env.int("SLIDES_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
SLIDES_MAX_PAGES = env.int("SLIDES_MAX_PAGES", default=300)
# A page whose high-resolution image would have more pixels than this is refused (a PDF can
# declare a page of kilometres: a decompression bomb).
SLIDES_MAX_PAGE_PIXELS = env.int("SLIDES_MAX_PAGE_PIXELS", default=12_000_000)

# --- line sources: what a producer's encoder or dial-in line may reach (checked when the source is
# given and again, names resolved, whenever the mixer opens it). Networks: CIDR networks or
# addresses, and "public" for any public unicast address; loopback, private, link-local and
# multicast only when listed. Files only under LINE_SOURCE_MEDIA_ROOT (unset: no files), and never
# under HLS_ROOT.
try:
    LINE_SOURCE_POLICY = SourcePolicy.from_config(
        schemes=env.list("LINE_SOURCE_SCHEMES", default=sorted(DEFAULT_SCHEMES)),
        networks=env.list("LINE_SOURCE_NETWORKS", default=list(DEFAULT_NETWORKS)),
        media_root=env("LINE_SOURCE_MEDIA_ROOT", default="") or None,
        private_roots=[HLS_ROOT],
    )
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from None

# --- the two-way bridge (WebRTC between browsers and the mixer, streaming/core/rtc.py). ICE
# servers are JSON lists of {"urls", "username"?, "credential"?}: the mixer's, and the ones the
# pages get (default: the same). Empty means none at all, never aiortc's public default. The
# mixer offers RTC_HOST_ADDRESSES (empty: every interface address but loopback, aioice's own
# choice), tries only remote candidates in RTC_CANDIDATE_NETWORKS (CIDRs; empty: any; TCP ones
# never while it is set) and binds UDP ports from RTC_PORT_MIN to RTC_PORT_MAX (0: any).
RTC_ENABLED = env.bool("RTC_ENABLED", default=True)
RTC_ICE_SERVERS = env.json("RTC_ICE_SERVERS", default=[])
RTC_BROWSER_ICE_SERVERS = env.json("RTC_BROWSER_ICE_SERVERS", default=RTC_ICE_SERVERS)
# The secret a coturn with `use-auth-secret` shares: pages then get short-lived TURN credentials
# (stage/ice.py) instead of a fixed password. "relay" makes browsers send only through TURN.
RTC_TURN_SECRET = env("RTC_TURN_SECRET", default="")
RTC_BROWSER_ICE_TRANSPORT_POLICY = env("RTC_BROWSER_ICE_TRANSPORT_POLICY", default="all")
RTC_HOST_ADDRESSES = env.list("RTC_HOST_ADDRESSES", default=[])
RTC_CANDIDATE_NETWORKS = env.list("RTC_CANDIDATE_NETWORKS", default=[])
RTC_PORT_MIN = env.int("RTC_PORT_MIN", default=0)
RTC_PORT_MAX = env.int("RTC_PORT_MAX", default=0)
try:
    for _network in RTC_CANDIDATE_NETWORKS:
        ipaddress.ip_network(_network, strict=False)
except ValueError as error:
    raise ImproperlyConfigured(f"RTC_CANDIDATE_NETWORKS: {error}") from None
if (RTC_PORT_MIN or RTC_PORT_MAX) and not 0 < RTC_PORT_MIN <= RTC_PORT_MAX < 65536:
    raise ImproperlyConfigured("RTC_PORT_MIN and RTC_PORT_MAX: both 0 (any port), or 1 to 65535, low to high")
for _servers in (RTC_ICE_SERVERS, RTC_BROWSER_ICE_SERVERS):
    if not isinstance(_servers, list) or not all(isinstance(server, dict) and "urls" in server for server in _servers):
        raise ImproperlyConfigured('RTC ICE servers are a JSON list of {"urls", "username"?, "credential"?}')
if RTC_BROWSER_ICE_TRANSPORT_POLICY not in ("all", "relay"):
    raise ImproperlyConfigured('RTC_BROWSER_ICE_TRANSPORT_POLICY is "all" or "relay"')

# --- email: the console backend unless EMAIL_URL says otherwise
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="webcast@localhost")
# Seconds an SMTP connection may wait on the server (connect, each reply). Django's default is
# none: a mail server that stops answering would hold a worker forever.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=15.0)
if EMAIL_TIMEOUT <= 0:
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be a positive number of seconds.")
# The outbox (events/outbox.py): a mail handed to a worker and not sent within OUTBOX_CLAIM_SECONDS
# is handed out again; one that failed OUTBOX_MAX_ATTEMPTS times (30 s, doubling, up to 1 h apart)
# is given up; sent ones are forgotten after OUTBOX_KEEP_DAYS.
OUTBOX_CLAIM_SECONDS = env.float("OUTBOX_CLAIM_SECONDS", default=120.0)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_KEEP_DAYS = env.float("OUTBOX_KEEP_DAYS", default=7.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "operator" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- HTTPS hardening. With DEBUG off, session and CSRF cookies are Secure and HSTS is sent
# whether daphne or a proxy terminates TLS. PLAIN_HTTP is the one opt-out, for plain http on
# loopback (`make run`, the live-server tests); a system check refuses it with other hosts.
PLAIN_HTTP = env.bool("PLAIN_HTTP", default=False)
HTTPS_ONLY = not DEBUG and not PLAIN_HTTP
# The redirect starts with production (a SECRET_KEY given); behind a proxy it goes by the
# proxy's X-Forwarded-Proto, so it redirects only what reached the proxy over http.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS_ONLY and bool(env("SECRET_KEY", default="")))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# Behind a proxy (BEHIND_PROXY, above): Django trusts its X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp): every script and style is a file of ours, so no inline
# code runs even if a stored text ever reached a page unescaped.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # hls.js plays through MediaSource, whose URL is blob:, as is the green room's test recording.
        "media-src": [SELF, "blob:"],
        # Status polls, HLS and the WebSockets: CSP's 'self' covers ws: and wss: on the same host.
        "connect-src": [SELF],
        # hls.js runs with enableWorker: false, so no blob: worker is needed (see webcast.js).
        "worker-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
    },
}

# --- operations: /metrics answers a request bearing this token (Authorization: Bearer …) or a
# signed-in staff member; unset, staff only. LOG_FORMAT=json prints one JSON object a line with
# the event, line and mixer generation bound where known (events/logs.py).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
LOG_FORMAT = env("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured('LOG_FORMAT is "text" or "json"')

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # These loggers print request paths, and personal links carry their key in the path: any
    # key-shaped segment of a join, green-room, private HLS or socket path is printed as "…".
    "filters": {"redact_keys": {"()": "events.access.RedactKeys"}},
    "formatters": {"json": {"()": "events.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", **({"formatter": "json"} if LOG_FORMAT == "json" else {})}
    },
    "loggers": {
        name: {"filters": ["redact_keys"]}
        for name in ("django.request", "django.security.csrf", "django.server", "django.channels.server")
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
