"""Settings for every RollerAI process, read from the environment (see .env.example)."""

import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_bool(name: str, *, default: bool) -> bool:
    """Only true/false/1/0, in any case: django-environ reads any other word (a typo such as
    "ture") as false, which would quietly switch off what the variable was meant to switch on."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in ("true", "1"):
        return True
    if raw.strip().lower() in ("false", "0"):
        return False
    raise ImproperlyConfigured(f"{name} must be true, false, 1 or 0 (in any case), not {raw!r}.")


DEBUG = env_bool("DJANGO_DEBUG", default=False)
# A fixed key is only acceptable for a local, DEBUG instance; production must set its own.
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="insecure-local-only" if DEBUG else environ.Env.NOTSET
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_rq",
    "csp",
    # The API docs page's own copy of Swagger UI (no CDN).
    "ninja",
    "accounts",
    "generation",
    "gallery",
    "billing",
    "worker",
    "discordbot",
    "compat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "rollerai.static_files.StaticFilesMiddleware",
    # Before anything (sessions, CSRF, views) reads request data and hands it to the database.
    "rollerai.middleware.RequestBodyLimitMiddleware",
    "rollerai.middleware.RequestTextMiddleware",
    # Early, so that its 503 for an outage gets every later middleware's headers (CSP, frames).
    "rollerai.outage.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "rollerai.urls"
ASGI_APPLICATION = "rollerai.asgi.application"
WSGI_APPLICATION = "rollerai.wsgi.application"

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
                "accounts.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rollerai.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker is another process: wait for the writer instead of failing with "locked",
    # and give tests a file (not an in-memory database) that the worker can open too.
    VAR_DIR.mkdir(exist_ok=True)
    # IMMEDIATE transactions take the write lock up front; otherwise two transactions that both
    # read and then write deadlock and one fails at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool per process: a new PostgreSQL connection costs about 4 ms, and opening one per
    # request was most of the server's CPU at 100 requests a second. With health checks, each
    # connection is checked as it is handed out, so one that a restart of the server broke is
    # replaced, not used; while the server is down, a request waits at most
    # DATABASE_POOL_TIMEOUT_SECONDS for one.
    # With many processes, keep processes x DATABASE_POOL_MAX_SIZE below max_connections (or
    # put PgBouncer in front; README).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        # gunicorn's sync workers use one; daphne and threaded callers one per busy thread.
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=16),
        "timeout": env.float("DATABASE_POOL_TIMEOUT_SECONDS", default=2.0),
        # psycopg_pool retries a failed connection 1, 2, 4, 8 ... s apart for up to 5 minutes:
        # after a long outage the next try could come many seconds after the server is back,
        # and requests meanwhile time out. Giving up a series after a few seconds lets the next
        # request start a new one at once.
        "reconnect_timeout": env.float("DATABASE_POOL_RECONNECT_SECONDS", default=3.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production sets STATIC_ROOT and runs `collectstatic`; otherwise files are served straight from
# their source folders.
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None

# Images are private: they are written under MEDIA_ROOT and served only through views that check
# who is asking, so MEDIA_ROOT is never exposed under a public URL.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# With a bucket configured, images go to S3 (or any S3-compatible store) instead: private
# objects, handed out only as short-lived presigned URLs after the view has checked who is asking.
# Credentials come from the usual AWS variables or the machine's role.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = env.int("IMAGE_URL_EXPIRY_SECONDS", default=300)
AWS_DEFAULT_ACL = "private"
# Objects never change once written (a generation's keys are its own), so browsers may keep them.
AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "private, max-age=86400, immutable"}
AWS_S3_FILE_OVERWRITE = False
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}

# Request bodies beyond this are refused with 413 before any parsing
# (rollerai.middleware.RequestBodyLimitMiddleware)...
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=64 * 1024)
# ...except a submission's (POST /api/v1/generations), which may carry an init image as a data
# URL: 4 MB of image is about 5.6 MB of base64, plus the rest of the JSON.
MAX_SUBMIT_BODY_BYTES = env.int("MAX_SUBMIT_BODY_BYTES", default=6 * 1024 * 1024)
# Django's own limit is the largest body any request may send; the middleware holds each path
# to its own limit before Django reads a byte.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_REQUEST_BODY_BYTES, MAX_SUBMIT_BODY_BYTES)

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL}}
# The asyncio connection pools (the channel layer's and the live event log's) close connections
# unused for this many seconds, so that a burst of sockets leaves none behind.
REDIS_IDLE_CONNECTION_SECONDS = env.float("REDIS_IDLE_CONNECTION_SECONDS", default=30.0)
# The channel layer carries live events to open sockets. It may drop a message (past `capacity`
# or `expiry` below); what must not be lost (a generation's end, a balance change, lost access)
# is also kept in a per-user Redis stream, from which each socket fills any gap (rollerai/
# live_log.py). So these bound how stale progress may get, not whether a client learns the end.
# channels-redis applies capacity and group_expiry where a message is SENT (a worker, the web
# tier), so every process must be given the same values.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "rollerai.channel_layer.BoundedRedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    # Per event loop: a web process's sockets share these, so the number of
                    # Redis connections stays put however many sockets come and go
                    # (rollerai/channel_layer.py says why channels-redis's own pool does not).
                    "max_connections": env.int("CHANNEL_LAYER_CONNECTIONS", default=20),
                    # Seconds a command waits for a free connection before it fails, so an
                    # overloaded Redis shows up as errors in the log rather than hung sockets.
                    "timeout": 10,
                    "idle_seconds": REDIS_IDLE_CONNECTION_SECONDS,
                }
            ],
            # All the sockets of one web process share ONE inbound queue in Redis, and this
            # bounds it (and each socket's buffer inside the process); past it, channels-redis
            # drops new messages. Its default of 100 is a small fraction of a second of what one
            # process drains (several hundred to a couple of thousand messages a second here),
            # so a burst for many users lost messages. A bigger queue is not better: everything
            # in it waits its turn, so 1,000 means at most a second or two of delay, and
            # progress older than that is better dropped than shown (a later step follows, and
            # what must arrive is recovered from the log).
            "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=1000),
            # Seconds a message may wait in Redis before it is discarded (default 60): a
            # progress step or preview that old is wrong by now, and kept events are recovered
            # from the log anyway. It is also how long a dead web process's queue lingers.
            "expiry": env.int("CHANNEL_LAYER_EXPIRY_SECONDS", default=10),
            # Seconds a socket stays in its user's group after joining. It only cleans up after
            # web processes that died without leaving; open sockets join again well before it
            # ends (rollerai/live_log.py), so a socket open for days keeps hearing its events.
            "group_expiry": env.int("CHANNEL_LAYER_GROUP_EXPIRY_SECONDS", default=24 * 3600),
        },
    },
}
# Kept events per user and how long the log keeps them (seconds): a socket that missed one
# catches up within LIVE_EVENTS_CHECK_SECONDS, so these only need to outlast a slow catch-up.
# Submissions are rate-limited per user, so a user rarely has more than a few kept events a minute.
LIVE_EVENTS_KEPT = env.int("LIVE_EVENTS_KEPT", default=1000)
LIVE_EVENTS_KEPT_SECONDS = env.int("LIVE_EVENTS_KEPT_SECONDS", default=600)
# How often every open socket checks its user's log for kept events whose channel-layer message
# was dropped (seconds); all sockets of a process check together, in one Redis command.
LIVE_EVENTS_CHECK_SECONDS = env.float("LIVE_EVENTS_CHECK_SECONDS", default=2.0)

# Where create_tiny_model and locally downloaded weights live; relative model sources resolve here.
MODELS_DIR = env.path("MODELS_DIR", default=VAR_DIR / "models")
# How many loaded pipelines one worker keeps in memory (least recently used is dropped first).
WORKER_PIPELINE_CACHE_SIZE = env.int("WORKER_PIPELINE_CACHE_SIZE", default=2)
# Upper bound for one generation on a worker; RQ kills the job after this many seconds.
GENERATION_JOB_TIMEOUT = env.int("GENERATION_JOB_TIMEOUT", default=30 * 60)
# Progress events per second per generation; the first and last step are always sent.
PROGRESS_EVENTS_PER_SECOND = env.float("PROGRESS_EVENTS_PER_SECOND", default=10.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # channels-redis logs every message it drops for a full queue at INFO: under load that
        # is thousands of lines a second, for progress that may be thinned by design (what
        # may not be lost is kept, rollerai/live_log.py).
        "channels_redis": {"level": "WARNING"},
    },
}

# Credits every new account starts with.
SIGNUP_CREDITS = env.int("SIGNUP_CREDITS", default=10)
# Per-user submission limits (enforced in Redis, so they hold across web processes) and the
# most generations one user may have queued or running at once.
SUBMISSIONS_PER_MINUTE = env.int("SUBMISSIONS_PER_MINUTE", default=20)
MAX_ACTIVE_GENERATIONS = env.int("MAX_ACTIVE_GENERATIONS", default=8)
# Sign-in attempts per client IP address per minute (password and Firebase).
SIGN_INS_PER_MINUTE = env.int("SIGN_INS_PER_MINUTE", default=10)
# Failed password sign-ins per account name, however many addresses they come from. The window
# is short so that nobody can lock a user out for long by failing on purpose.
SIGN_IN_FAILURES_PER_ACCOUNT = env.int("SIGN_IN_FAILURES_PER_ACCOUNT", default=10)
SIGN_IN_FAILURE_WINDOW_SECONDS = env.int("SIGN_IN_FAILURE_WINDOW_SECONDS", default=15 * 60)

# Firebase sign-in is offered only when a project is configured. The web config is public by
# design (it identifies the project to the browser SDK); FIREBASE_CREDENTIALS, a service account
# file, is only needed to check whether tokens have been revoked.
FIREBASE_PROJECT_ID = env.str("FIREBASE_PROJECT_ID", default="")
FIREBASE_WEB_API_KEY = env.str("FIREBASE_WEB_API_KEY", default="")
FIREBASE_AUTH_DOMAIN = env.str("FIREBASE_AUTH_DOMAIN", default="")
FIREBASE_APP_ID = env.str("FIREBASE_APP_ID", default="")
FIREBASE_CREDENTIALS = env.str("FIREBASE_CREDENTIALS", default="")
# Where the sign-in page loads the Firebase web SDK's firebase-app.js and firebase-auth.js from:
# by default the site's own copy (static/vendor/firebase/, made by `make firebase-sdk`); a folder
# URL such as https://www.gstatic.com/firebasejs/12.19.0/ loads Google's instead.
FIREBASE_JS_SDK_URL = env.str("FIREBASE_JS_SDK_URL", default="")
# host:port of a Firebase Auth emulator (firebase-tools) that both firebase-admin and the page's
# SDK then use instead of Firebase; for tests and local trials, never in production.
FIREBASE_AUTH_EMULATOR_HOST = env.str("FIREBASE_AUTH_EMULATOR_HOST", default="")

# Only our own scripts run (no inline ones): pages load scripts from static/, Firebase's SDK
# included unless FIREBASE_JS_SDK_URL names another origin, and Google's sign-in popup helper
# from apis.google.com with its frame from the auth domain. Inline styles stay allowed
# for the style attributes cards use. Stripe Checkout is a redirect, not a script, so it needs
# nothing here; images may come from the S3 endpoint, previews are data: URLs.
_firebase = bool(FIREBASE_PROJECT_ID and FIREBASE_WEB_API_KEY)
_firebase_auth_domain = FIREBASE_AUTH_DOMAIN or f"{FIREBASE_PROJECT_ID}.firebaseapp.com"
# "https://host/path/" -> "https://host"; a path on this site needs no extra origin.
_firebase_sdk_origins = (
    ["/".join(FIREBASE_JS_SDK_URL.split("/")[:3])]
    if _firebase and FIREBASE_JS_SDK_URL.startswith(("https://", "http://"))
    else []
)
_firebase_emulator_origins = (
    [f"http://{FIREBASE_AUTH_EMULATOR_HOST}"] if _firebase and FIREBASE_AUTH_EMULATOR_HOST else []
)
# Where pages open their live-events websocket. Empty: on the page's own host, at
# /ws/generations/ (a proxy sends /ws/ to the `live` process); `make run`, which has no proxy,
# points it at the live process's own port.
LIVE_EVENTS_URL = env.str("LIVE_EVENTS_URL", default="")
_live_origins = [LIVE_EVENTS_URL.split("/ws/", 1)[0]] if LIVE_EVENTS_URL else []
_image_origins = (
    [AWS_S3_ENDPOINT_URL or "https://*.amazonaws.com"] if AWS_STORAGE_BUCKET_NAME else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, *_firebase_sdk_origins]
        + (["https://apis.google.com"] if _firebase else []),
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:", *_image_origins],
        "connect-src": [SELF, *_live_origins, *_firebase_emulator_origins]
        + (
            [
                "https://identitytoolkit.googleapis.com",
                "https://securetoken.googleapis.com",
                "https://www.googleapis.com",
            ]
            if _firebase
            else []
        ),
        "frame-src": [f"https://{_firebase_auth_domain}"] if _firebase else [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Stripe Checkout for credit packs switches on only when STRIPE_SECRET_KEY is set; the webhook
# additionally needs its endpoint's signing secret. STRIPE_API_BASE points the SDK at a loopback
# stand-in in tests and is never set in production.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Signed webhook deliveries older than this many seconds are refused (replay protection).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
# The Discord bot (/imagine in a server) switches on when DISCORD_APPLICATION_ID and
# DISCORD_PUBLIC_KEY are set: the public key checks that interactions come from Discord. The
# bot token is needed to register the commands and to post results that finish after an
# interaction's 15 minutes. DISCORD_API_BASE points the client at a loopback stand-in in tests.
DISCORD_APPLICATION_ID = env.str("DISCORD_APPLICATION_ID", default="")
DISCORD_PUBLIC_KEY = env.str("DISCORD_PUBLIC_KEY", default="")
DISCORD_BOT_TOKEN = env.str("DISCORD_BOT_TOKEN", default="")
DISCORD_API_BASE = env.str("DISCORD_API_BASE", default="https://discord.com/api/v10")
# Discord rate-limits message edits: progress is edited into a message at most this often.
DISCORD_EDIT_SECONDS = env.float("DISCORD_EDIT_SECONDS", default=3.0)
# The first wait before sending to Discord again after a 5xx or a network error; it doubles
# with each try, and a message is given up (and logged) after DISCORD_SEND_ATTEMPTS tries.
DISCORD_RETRY_SECONDS = env.float("DISCORD_RETRY_SECONDS", default=2.0)
DISCORD_SEND_ATTEMPTS = env.int("DISCORD_SEND_ATTEMPTS", default=3)
# How long a code from the account page links a Discord identity to that account.
DISCORD_LINK_CODE_MINUTES = env.int("DISCORD_LINK_CODE_MINUTES", default=10)
# The OpenAI Images API (/v1/) and AUTOMATIC1111's (/sdapi/v1/) answer once the images are
# done, waiting on the live server's event loop; a request still waiting after this many
# seconds is answered with a timeout error, and its generation goes on (it lands in the gallery).
COMPAT_WAIT_SECONDS = env.int("COMPAT_WAIT_SECONDS", default=300)
# How long the image links that the OpenAI API hands out (response_format "url") keep working.
IMAGE_LINK_SECONDS = env.int("IMAGE_LINK_SECONDS", default=3600)
# The site's public address (e.g. https://images.example.com), for links in Discord messages;
# empty: the address Discord sent the interaction to.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")

# Jobs of users who have bought credits wait in a high-priority queue that workers drain first.
PRIORITY_FOR_PAYING_USERS = env_bool("PRIORITY_FOR_PAYING_USERS", default=True)
# Most images one worker makes in a single pipeline call when compatible jobs are waiting.
WORKER_BATCH_SIZE = env.int("WORKER_BATCH_SIZE", default=4)
# Threads torch uses in each GPU worker for CPU work. 0 chooses: on the CPU, the cores the worker
# may run on (its affinity, capped by a container's CPU quota) divided by WORKERS_PER_MACHINE;
# on CUDA, torch's own default. Workers sharing cores with torch's default threads each fight
# for them and run several times slower.
WORKER_TORCH_THREADS = env.int("WORKER_TORCH_THREADS", default=0)
# How many GPU worker processes run side by side on one machine, sharing its cores.
WORKERS_PER_MACHINE = env.int("WORKERS_PER_MACHINE", default=1)
# Seconds between live preview images of a running generation.
PREVIEW_INTERVAL_SECONDS = env.float("PREVIEW_INTERVAL_SECONDS", default=0.5)
# Queued generations older than this that are missing from Redis are put back on their queue.
RECONCILE_AFTER_SECONDS = env.int("RECONCILE_AFTER_SECONDS", default=10)
# A running generation's lease lasts this long between its worker's renewals (every 2 s, so a
# live worker renews it three times over); once it has been missing for this long too, the
# worker is taken for dead. A dead worker's job runs again about 15 s after it died.
GENERATION_LEASE_SECONDS = env.int("GENERATION_LEASE_SECONDS", default=6)
# Waiting users hear about their new place in line at most this often (seconds).
STANDINGS_INTERVAL_SECONDS = env.float("STANDINGS_INTERVAL_SECONDS", default=1.0)

# The autoscaler (`manage.py autoscale`). A site with no worker pool in the admin gets one pool
# serving every enabled model, from these.
AUTOSCALER_BACKEND = env.str("AUTOSCALER_BACKEND", default="local")
AUTOSCALER_MIN_WORKERS = env.int("AUTOSCALER_MIN_WORKERS", default=0)
# On this machine, one worker by default: two CPU workers only share the same cores.
AUTOSCALER_MAX_WORKERS = env.int(
    "AUTOSCALER_MAX_WORKERS", default=1 if AUTOSCALER_BACKEND == "local" else 4
)
AUTOSCALER_IDLE_SECONDS = env.float("AUTOSCALER_IDLE_SECONDS", default=300.0)
# That pool's backend settings, as JSON (e.g. {"namespace": "rollerai"} on Kubernetes).
AUTOSCALER_BACKEND_SETTINGS = env.json("AUTOSCALER_BACKEND_SETTINGS", default={})
# Until measured: seconds from asking for a worker to its first heartbeat, and per image.
AUTOSCALER_COLD_START_SECONDS = env.float("AUTOSCALER_COLD_START_SECONDS", default=60.0)
AUTOSCALER_SECONDS_PER_IMAGE = env.float("AUTOSCALER_SECONDS_PER_IMAGE", default=10.0)
# The wait before a job starts that pools aim for once a worker is up.
AUTOSCALER_TARGET_WAIT_SECONDS = env.float("AUTOSCALER_TARGET_WAIT_SECONDS", default=30.0)
# At zero workers, how much longer than a cold start the first job may wait for others to share
# its cold start (0: a worker starts on the first job).
AUTOSCALER_GATHER_SECONDS = env.float("AUTOSCALER_GATHER_SECONDS", default=0.0)
# How long the backlog must stay low before an extra worker is let go.
AUTOSCALER_HOLD_SECONDS = env.float("AUTOSCALER_HOLD_SECONDS", default=60.0)
# Where the local backend's workers write their logs (the controller copies them to its output).
AUTOSCALER_LOCAL_LOG_DIR = env.str(
    "AUTOSCALER_LOCAL_LOG_DIR", default=str(BASE_DIR / "var" / "log" / "workers")
)
# Seconds between the controller's rounds.
AUTOSCALER_ROUND_SECONDS = env.float("AUTOSCALER_ROUND_SECONDS", default=1.5)

# Production serves only HTTPS (behind a proxy that sets X-Forwarded-Proto); local runs and tests
# use plain HTTP on loopback.
HTTPS = env_bool("DJANGO_HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Health checks come over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    # Subdomains and the browsers' preload list too, as `check --deploy` asks; a site that
    # shares its domain with plain-HTTP subdomains must turn these off.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
# Lets a Prometheus server scrape /metrics without a staff session.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
