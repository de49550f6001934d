"""Configuration: one class per environment, secure by default.

``BaseConfig`` holds the values production runs with. ``DevelopmentConfig`` and
``TestingConfig`` relax a few of them, and every relaxation says why. Secrets and
addresses never live here: ``load_config`` reads them from the environment (or a
``.env`` file) when the app is created, never at import time.
"""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import ClassVar, NamedTuple
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from dotenv import load_dotenv


class InsecureConfigError(RuntimeError):
    """Raised when production is asked to start with a setting that would be unsafe."""


class BaseConfig:
    """The production values. Anything weaker must be an explicit, commented override."""

    SECRET_KEY = None  # FLASK_SECRET_KEY; production refuses to start without a strong one
    REDIS_URL = None  # REDIS_URL; sessions and rate-limit counters live there
    SQLALCHEMY_DATABASE_URI = None  # DATABASE_URL; a SQLite file in instance/ if unset

    # Server-side sessions. The cookie carries nothing but a random 256-bit id.
    SESSION_TYPE = "redis"
    SESSION_KEY_PREFIX = "session:"
    SESSION_PERMANENT = True
    # Absolute lifetime of a sign-in without remember-me (REMEMBER_COOKIE_DURATION
    # is the one with it), and how long a session may sit unused before it ends.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    IDLE_TIMEOUT = timedelta(minutes=30)
    # "Last seen" is written at most this often: the store and the database are
    # touched once a minute per active session, not on every request.
    LAST_SEEN_RESOLUTION = timedelta(minutes=1)
    # Changing the password, revoking sessions or deleting the account needs a
    # password entry within this window ("sudo mode").
    REAUTH_WINDOW = timedelta(minutes=10)
    # A visitor's session (a CSRF secret, a flash message) is a signed cookie, never a
    # store entry (app/sessions.py), and it expires quickly. It matches the CSRF token
    # lifetime: a form older than that is stale anyway.
    ANONYMOUS_SESSION_LIFETIME = timedelta(hours=1)
    # At most this many flashed messages wait in a session (each one once): a client
    # that never follows redirects must not grow its session without end.
    FLASHED_MESSAGES_LIMIT = 5
    # Flask-Session's switch, which app/sessions.py does not read: a stored session is
    # written only when it changes (at most once a minute for the last-seen time), and
    # only while it still exists. False says the same to anyone reading the config.
    SESSION_REFRESH_EACH_REQUEST = False

    # "__Host-" makes the browser refuse the cookie unless it is Secure, has Path=/ and
    # no Domain, so neither a sibling subdomain nor plain HTTP can plant or read it.
    SESSION_COOKIE_NAME = "__Host-session"
    # A visitor's session, signed; the flags are the session cookie's.
    VISITOR_COOKIE_NAME = "__Host-visitor"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    REMEMBER_COOKIE_NAME = "__Host-remember"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_REFRESH_EACH_REQUEST = False
    # Each restore from a remember cookie replaces its token (app/sign_ins.py). Tabs
    # that restore at once all carry the replaced one: within this grace they are
    # served (safe methods only); after it, the replaced token means a copy of the
    # cookie, and the sign-in ends.
    REMEMBER_TOKEN_REUSE_GRACE = timedelta(seconds=15)
    # A signed-in browser's session id replaced a moment ago (re-authentication,
    # password change...): a second click already on its way with the old id gets the
    # 409 "changed at the same moment" page for this long, and keeps its cookies,
    # instead of being treated as signed out (app/sessions.py).
    MOVED_SESSION_GRACE = timedelta(seconds=15)

    # CSRF on every POST. A token is valid for an hour; SSL_STRICT also checks the
    # Referer on HTTPS, which stops a man-in-the-middle on a sibling HTTP origin.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 3600
    WTF_CSRF_SSL_STRICT = True

    # The largest form here is a few hundred bytes; refuse bigger bodies early (413).
    MAX_CONTENT_LENGTH = 16 * 1024

    # Flask-Limiter. Every RATELIMIT_* value is set here on purpose: init_app keeps
    # the first app's value for some settings that a config leaves out.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = None  # set from RATE_LIMIT_REDIS_URL or REDIS_URL by load_config
    # Counters belong in a Redis that never evicts keys (its own server, or REDIS_URL's
    # if that one has no memory cap): a session store with LRU eviction under a flood
    # of visitors would drop an account's failed-sign-in counter and reset its limit.
    RATE_LIMIT_REDIS_URL = None  # RATE_LIMIT_REDIS_URL; REDIS_URL if unset
    RATELIMIT_STORAGE_OPTIONS: ClassVar[dict] = {}  # filled by the factory when Redis is used
    RATELIMIT_STRATEGY = "moving-window"  # exact; fixed windows allow 2x at the edge
    # The 429 page sets its own Retry-After, from the limit that refused (app/errors.py).
    # Flask-Limiter's would be the later of that and its smallest limit's reset, even when
    # that limit refused nothing; its X-RateLimit-* headers would tell a guesser how many
    # tries are left.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: count per process
    RATELIMIT_SWALLOW_ERRORS = True  # a broken limiter must never turn into a 500
    RATELIMIT_KEY_PREFIX = "ratelimit"
    LOGIN_RATE_LIMIT = "5/minute;20/hour"  # failed sign-ins per client IP (IPv6: per /64)
    # The same failures counted per wider IPv6 network: a /48 holds 65,536 /64s.
    LOGIN_RATE_LIMIT_PER_IPV6_48 = "20/minute;100/hour"
    LOGIN_RATE_LIMIT_PER_IPV6_32 = "60/minute;300/hour"
    REGISTER_RATE_LIMIT = "10/hour"  # sign-ups per client IP (IPv6: per /64)
    REGISTER_RATE_LIMIT_PER_IPV6_48 = "30/hour"
    REGISTER_RATE_LIMIT_PER_IPV6_32 = "100/hour"
    REAUTH_RATE_LIMIT = "5/minute;20/hour"  # wrong passwords per sign-in (its own budget)
    REAUTH_ACCOUNT_RATE_LIMIT = "60/hour"  # wrong passwords per account, all sign-ins together
    ACCOUNT_LOGIN_RATE_LIMIT = "10/15 minutes"  # attempts per account (or known device)
    # Successful sign-ins too: each costs a hash, a sign-in row and a session.
    SUCCESSFUL_LOGIN_RATE_LIMIT = "10/minute;60/hour"  # per client address
    ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT = "10/minute;60/hour"  # per account
    # Marks a browser that has signed in to an account before, so that an attack on
    # the account cannot lock its owner out (see app/account_throttle.py).
    DEVICE_COOKIE_NAME = "__Host-device"
    DEVICE_COOKIE_DURATION = timedelta(days=180)
    # Set only when a visitor picks a language with the switch in the footer.
    LANGUAGE_COOKIE_NAME = "__Host-lang"
    LANGUAGE_COOKIE_DURATION = timedelta(days=365)
    # Holds only "1" while a sign-in without remember-me may be live, so that the sign-in
    # page can say a session ended: the session cookie itself expires with the idle timeout.
    SIGNED_IN_COOKIE_NAME = "__Host-signed-in"

    # Privacy: how long personal data outlives its use (``flask retention purge``).
    # Addresses and browsers of sign-ins, and the security events of an account.
    SESSION_METADATA_RETENTION = timedelta(days=30)
    # Stored security events per account; past it the oldest minor ones go first.
    SECURITY_EVENTS_PER_ACCOUNT = 1000
    # Live sign-ins per account; a new one past it ends the least recently used.
    MAX_SIGN_INS_PER_ACCOUNT = 20
    SECURITY_EVENT_RETENTION = timedelta(days=90)

    # Argon2id parameters: argon2-cffi's defaults, RFC 9106's low-memory profile.
    # Hashes made with other values are upgraded at the next successful sign-in.
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_COST = 64 * 1024  # KiB
    PASSWORD_HASH_PARALLELISM = 4

    # Redis: fail fast instead of hanging. One quick retry absorbs a stale pooled
    # connection; a stopped server answers with a 503 page at once, a frozen or
    # unreachable one after two timeouts: about a second.
    REDIS_CONNECT_TIMEOUT = 0.5
    REDIS_SOCKET_TIMEOUT = 0.5
    REDIS_RETRIES = 1

    SECURITY_LOG_NAME = "security"

    # How many reverse proxies in front of the app set X-Forwarded-*; 0 ignores them.
    TRUSTED_PROXIES = 0
    # Host names this site answers to (FLASK_TRUSTED_HOSTS='["example.org"]');
    # any other Host header gets a 400, so links in emails and redirects cannot
    # be pointed at an attacker's host. None accepts any host (development only).
    TRUSTED_HOSTS = None

    # Two years, subdomains included. Add "; preload" only once the domain is
    # submitted to the browsers' preload list.
    STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

    # Email (app/mail/, app/recovery/). Every link in a message is built from
    # PUBLIC_BASE_URL, never from the request's Host header, which a client writes:
    # a forged Host cannot send a password-reset link to another site.
    PUBLIC_BASE_URL = None  # FLASK_PUBLIC_BASE_URL, e.g. "https://example.org"
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 587
    MAIL_USE_TLS = True  # STARTTLS; MAIL_USE_SSL=True for implicit TLS on port 465
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None  # FLASK_MAIL_PASSWORD or MAIL_PASSWORD_FILE
    MAIL_DEFAULT_SENDER = None  # e.g. "Example <no-reply@example.org>"; nothing is sent without it
    # A mail server that hangs holds up the sender thread, never a request.
    MAIL_TIMEOUT = 10
    # Messages waiting in one process; past it new ones are dropped and logged.
    MAIL_QUEUE_SIZE = 1000
    EMAIL_CONFIRMATION_LIFETIME = timedelta(hours=24)
    PASSWORD_RESET_LIFETIME = timedelta(minutes=30)
    # How long the previous address can undo a change of address.
    ADDRESS_CHANGE_UNDO_LIFETIME = timedelta(days=7)
    # Reset requests per client IP (IPv6: per /64), and reset messages per account.
    PASSWORD_RESET_RATE_LIMIT = "5/15 minutes;20/day"  # noqa: S105 - a limit, not a password
    PASSWORD_RESET_ACCOUNT_RATE_LIMIT = "3/hour;10/day"  # noqa: S105 - a limit, not a password
    ADDRESS_CHANGE_RATE_LIMIT = "5/hour;20/day"  # confirmation messages per account (to new addresses)
    EMAIL_LINK_RATE_LIMIT = "20/minute;100/hour"  # dead or unknown email links per client IP

    # Second factors (app/second_factors/). The half-signed-in state between a right
    # password and the code: how long it lasts and how many wrong codes end it.
    SECOND_FACTOR_PENDING_LIFETIME = timedelta(minutes=5)
    SECOND_FACTOR_MAX_ATTEMPTS = 5
    # The name authenticator apps and passkey managers show for this site.
    SITE_NAME = "Flask Secure Sessions"
    # Passkeys: the relying-party id (the site's host name) and the origin the browser
    # must report. Unset: both come from PUBLIC_BASE_URL, never from a request;
    # without either, passkeys are switched off.
    WEBAUTHN_RP_ID = None
    WEBAUTHN_ORIGIN = None


class DevelopmentConfig(BaseConfig):
    """For ``make run`` on a laptop: no services needed, plain HTTP on 127.0.0.1."""

    # The dev server speaks plain HTTP, where browsers drop Secure cookies and reject
    # "__Host-" names. Production keeps both; the start-up check enforces it.
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "session"
    VISITOR_COOKIE_NAME = "visitor"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_NAME = "remember_token"
    DEVICE_COOKIE_NAME = "device"
    LANGUAGE_COOKIE_NAME = "lang"
    SIGNED_IN_COOKIE_NAME = "signed_in"
    # HSTS on http://127.0.0.1 would make the browser insist on HTTPS for every
    # local project on that host for two years.
    STRICT_TRANSPORT_SECURITY = None
    # Without REDIS_URL, sessions go to files in instance/ and limits to memory,
    # so a fresh clone runs with no server at all.
    EMBEDDED_STORE_ALLOWED = True
    # Working through the tutorial means creating many accounts from 127.0.0.1 within
    # the hour; production's 10 an hour would lock the learner out of their own copy.
    REGISTER_RATE_LIMIT = "100/hour"
    # No mail server needed: each message is a file in instance/outbox/ and its link is
    # printed (app/mail/outbox.py). `make run` sets PUBLIC_BASE_URL to its own port.
    MAIL_BACKEND = "app.mail.outbox"
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    MAIL_DEFAULT_SENDER = "Flask Secure Sessions <no-reply@localhost>"


class TestingConfig(BaseConfig):
    """For the test suite: production cookies and CSRF stay on; hashing is cheap."""

    TESTING = True
    # Argon2id at 64 MiB per hash would make the suite crawl; the tests that check
    # re-hashing set their own values.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_COST = 8 * 1024
    PASSWORD_HASH_PARALLELISM = 1
    EMBEDDED_STORE_ALLOWED = True
    # Messages are kept in a list in memory; tests that need SMTP start a real server.
    MAIL_BACKEND = "locmem"
    PUBLIC_BASE_URL = "https://sessions.example"
    MAIL_DEFAULT_SENDER = "Flask Secure Sessions <no-reply@sessions.example>"


class ProductionConfig(BaseConfig):
    """What ``docker compose up`` and every real deployment run."""

    EMBEDDED_STORE_ALLOWED = False


CONFIG_BY_NAME = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

# Values that ship in examples and tutorials; a key that contains one is public.
PLACEHOLDER_KEY_MARKERS = ("change", "replace", "example", "placeholder", "secret-key")
MIN_SECRET_KEY_BYTES = 32
DURATION_SETTINGS = (
    "PERMANENT_SESSION_LIFETIME",
    "ANONYMOUS_SESSION_LIFETIME",
    "REMEMBER_COOKIE_DURATION",
    "REMEMBER_TOKEN_REUSE_GRACE",
    "MOVED_SESSION_GRACE",
    "IDLE_TIMEOUT",
    "LAST_SEEN_RESOLUTION",
    "REAUTH_WINDOW",
    "DEVICE_COOKIE_DURATION",
    "LANGUAGE_COOKIE_DURATION",
    "SESSION_METADATA_RETENTION",
    "SECURITY_EVENT_RETENTION",
    "EMAIL_CONFIRMATION_LIFETIME",
    "PASSWORD_RESET_LIFETIME",
    "ADDRESS_CHANGE_UNDO_LIFETIME",
    "SECOND_FACTOR_PENDING_LIFETIME",
)


def _derive_webauthn_settings(config):
    """The passkeys' relying-party id and origin from PUBLIC_BASE_URL, where not set.

    A relying-party id must be a host name: for an address (``make run``'s 127.0.0.1)
    passkeys stay off unless both settings are given.
    """
    if not config["PUBLIC_BASE_URL"]:
        return
    public = urlsplit(config["PUBLIC_BASE_URL"])
    try:
        ipaddress.ip_address(public.hostname)
        return
    except ValueError:
        pass
    config["WEBAUTHN_RP_ID"] = config["WEBAUTHN_RP_ID"] or public.hostname
    config["WEBAUTHN_ORIGIN"] = config["WEBAUTHN_ORIGIN"] or f"{public.scheme}://{public.netloc}"


def load_config(app, overrides=None):
    """Fill ``app.config`` for the environment named by ``APP_ENV`` (default: production).

    Order, later wins: the environment's class, ``FLASK_*`` variables, the named
    variables (``NAMED_VARIABLES``), secrets from files (``SECRET_FILES``), then
    ``overrides`` (used by tests).
    """
    load_dotenv()
    overrides = dict(overrides or {})
    env_name = overrides.pop("APP_ENV", None) or os.environ.get("APP_ENV", "production")
    if env_name not in CONFIG_BY_NAME:
        raise InsecureConfigError(f"APP_ENV={env_name!r} is not one of {', '.join(sorted(CONFIG_BY_NAME))}")
    app.config["APP_ENV"] = env_name
    app.config.from_object(CONFIG_BY_NAME[env_name])
    app.config.from_prefixed_env("FLASK")
    for name, setting in NAMED_VARIABLES.items():
        if os.environ.get(name):
            app.config[setting] = os.environ[name]
    _load_secret_files(app.config)
    app.config.update(overrides)

    config = app.config
    for name in DURATION_SETTINGS:
        # FLASK_* variables arrive as numbers of seconds.
        if isinstance(config[name], int | float):
            config[name] = timedelta(seconds=config[name])
    config["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(
        config["SQLALCHEMY_DATABASE_URI"] or f"sqlite:///{Path(app.instance_path) / 'app.db'}"
    )
    for setting in ("REDIS_URL", "RATE_LIMIT_REDIS_URL"):
        problem = config[setting] and redis_url_problem(config[setting])
        if problem:
            raise InsecureConfigError(f"{setting} {problem}")
    if config["REDIS_URL"]:
        config["SESSION_TYPE"] = "redis"
        config["RATELIMIT_STORAGE_URI"] = config["RATE_LIMIT_REDIS_URL"] or config["REDIS_URL"]
    elif config["EMBEDDED_STORE_ALLOWED"]:
        config["SESSION_TYPE"] = "cachelib"
        config["RATELIMIT_STORAGE_URI"] = "memory://"
    if not config["SECRET_KEY"] and env_name == "development":
        config["SECRET_KEY"] = _development_secret_key(app)

    _check_public_base_url(config["PUBLIC_BASE_URL"])
    _derive_webauthn_settings(config)

    if env_name == "production":
        problems = fatal_problems(config)
        if problems:
            raise InsecureConfigError("; ".join(problems))


# Variables without the FLASK_ prefix, and the setting each one fills.
NAMED_VARIABLES = {
    "REDIS_URL": "REDIS_URL",
    "RATE_LIMIT_REDIS_URL": "RATE_LIMIT_REDIS_URL",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
}

# Secrets that may be read from a file named by a variable instead (Docker's "*_FILE"
# convention). A file never shows in `docker inspect`, in a process's environment or
# in a crash report's dump of it, and docker compose makes these files on first start
# (deploy/make-secrets.sh). Variable -> the settings it completes: the secret key
# itself, or the password of every URL in the list that is set (at least one must be).
SECRET_FILES = {
    "FLASK_SECRET_KEY_FILE": ("SECRET_KEY",),
    # One old key per line, newest first; an empty file means none (no rotation going on).
    "FLASK_SECRET_KEY_FALLBACKS_FILE": ("SECRET_KEY_FALLBACKS",),
    "REDIS_PASSWORD_FILE": ("REDIS_URL", "RATE_LIMIT_REDIS_URL"),
    "DATABASE_PASSWORD_FILE": ("SQLALCHEMY_DATABASE_URI",),
    "MAIL_PASSWORD_FILE": ("MAIL_PASSWORD",),
}


# Every variable the app reads besides the FLASK_* ones.
OTHER_VARIABLES = ("APP_ENV", *NAMED_VARIABLES, *SECRET_FILES)


def _load_secret_files(config):
    url_variables = {setting: name for name, setting in NAMED_VARIABLES.items()}
    for variable, settings in SECRET_FILES.items():
        # from_prefixed_env copied FLASK_*_FILE variables in as settings; they are none.
        config.pop(variable.removeprefix("FLASK_"), None)
        path = os.environ.get(variable)
        if not path:
            continue
        if variable.startswith("FLASK_"):
            plain_variable = variable.removesuffix("_FILE")
            if os.environ.get(plain_variable):
                raise InsecureConfigError(f"set {plain_variable} or {variable}, not both")
        if settings == ("SECRET_KEY_FALLBACKS",):
            keys = _read_secret_file(variable, path, may_be_empty=True).splitlines()
            config["SECRET_KEY_FALLBACKS"] = [key for key in keys if key]
            continue
        secret = _read_secret_file(variable, path)
        if settings in (("SECRET_KEY",), ("MAIL_PASSWORD",)):
            config[settings[0]] = secret
            continue
        urls = [setting for setting in settings if config.get(setting)]
        if not urls:
            raise InsecureConfigError(f"{variable} is set but {url_variables[settings[0]]} is not")
        for setting in urls:
            config[setting] = _url_with_password(config[setting], secret, url_variables[setting], variable)


def _read_secret_file(variable, path, may_be_empty=False):
    try:
        # Only the line ending an editor or `echo` adds is dropped, as the PostgreSQL
        # image does with its *_FILE variables: a password may start or end with a space.
        secret = Path(path).read_text().rstrip("\r\n")
    except OSError as error:
        raise InsecureConfigError(f"cannot read {variable} ({path}): {error.strerror}") from None
    if not secret and not may_be_empty:
        raise InsecureConfigError(f"{variable} ({path}) is empty")
    return secret


def _url_with_password(url, password, url_variable, variable):
    """``url`` with ``password`` in it, quoted: any character is safe in the file."""
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, existing = credentials.partition(":")
    if existing:
        raise InsecureConfigError(f"{url_variable} holds a password already; set it there or in {variable}, not both")
    netloc = f"{username}:{quote(password, safe='')}@{hosts}"
    return urlunsplit(parts._replace(netloc=netloc))


def _check_public_base_url(url):
    """Refuse a base URL that links could not be built from, or that carries more than a site."""
    if url is None:
        return
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InsecureConfigError(f"PUBLIC_BASE_URL={url!r} is not an http(s) address like https://example.org")


SENTINEL_SCHEME = "redis+sentinel"
CLUSTER_SCHEME = "redis+cluster"
# The forms of REDIS_URL and RATE_LIMIT_REDIS_URL that app/redis_connection.py knows.
REDIS_SCHEMES = ("redis", "rediss", "unix", SENTINEL_SCHEME, CLUSTER_SCHEME)


class NodeListUrl(NamedTuple):
    """A ``redis+sentinel://`` or ``redis+cluster://`` URL taken apart."""

    nodes: list  # (host, port) of every node named
    auth: dict  # "username" and "password" if given, percent-decoded
    name: str  # the path: Sentinel's service name, empty for a cluster


def parse_node_list_url(url):
    """``scheme://[user:password@]host:port[,host:port...][/name]`` -> ``NodeListUrl``.

    Raises ValueError that says what is wrong without quoting the URL, which may
    hold a password: the message ends up in logs and on the terminal.
    """
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    auth = {}
    if credentials:
        username, _, password = credentials.partition(":")
        if username:
            auth["username"] = unquote(username)
        if password:
            auth["password"] = unquote(password)
    nodes = []
    addresses = hosts.split(",")
    for number, host_port in enumerate(addresses, 1):
        host, _, port = host_port.strip().rpartition(":")
        host = host.strip("[]")  # an IPv6 address in brackets
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            # By position only: a password with an unquoted "/" or "@" spills into this part.
            raise ValueError(f"needs host:port for every node (node {number} of {len(addresses)} lacks it)")
        nodes.append((host, int(port)))
    if parts.query or parts.fragment:
        raise ValueError("takes no options after the addresses")
    return NodeListUrl(nodes, auth, parts.path.strip("/"))


def redis_url_problem(url):
    """What is wrong with a Redis URL, as the end of a sentence, or None.

    Checked when the app is made, so that a typo stops it with one clear line
    instead of a traceback from deep inside a Redis client on the first request.
    """
    try:
        scheme = urlsplit(url).scheme
        if scheme not in REDIS_SCHEMES:
            return "must start with " + ", ".join(f"{known}://" for known in REDIS_SCHEMES)
        if scheme not in (SENTINEL_SCHEME, CLUSTER_SCHEME):
            return None
        parsed = parse_node_list_url(url)
    except ValueError as error:
        return str(error)
    if scheme == SENTINEL_SCHEME and not parsed.name:
        return "needs the service name as its path: redis+sentinel://host:port[,host:port...]/service"
    if scheme == CLUSTER_SCHEME and parsed.name:
        return "names no database: a cluster has only one (redis+cluster://host:port[,host:port...])"
    return None


def fatal_problems(config):
    """List the settings that make a deployment unsafe to serve, in plain words."""
    problems = []
    key = config.get("SECRET_KEY") or ""
    key_bytes = key.encode() if isinstance(key, str) else bytes(key)
    if not key:
        problems.append("FLASK_SECRET_KEY is not set")
    elif len(key_bytes) < MIN_SECRET_KEY_BYTES:
        problems.append(f"FLASK_SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes")
    elif any(marker in key_bytes.decode(errors="ignore").lower() for marker in PLACEHOLDER_KEY_MARKERS):
        problems.append("FLASK_SECRET_KEY is a placeholder from an example")
    elif len(set(key_bytes)) < 10:
        problems.append("FLASK_SECRET_KEY is too repetitive to be random")
    if not config.get("REDIS_URL"):
        problems.append("REDIS_URL is not set")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off")
    if not config.get("REMEMBER_COOKIE_SECURE"):
        problems.append("REMEMBER_COOKIE_SECURE is off")
    return problems


def insecure_settings(config):
    """Everything unsafe about ``config`` for a public deployment (``flask security-check``).

    The first entries are the fatal ones, which production refuses to start with.
    """
    problems = fatal_problems(config)
    if config.get("DEBUG"):
        problems.append("DEBUG is on: the debugger runs code for anyone who can reach it")
    for prefix in ("SESSION", "REMEMBER"):
        if not config.get(f"{prefix}_COOKIE_HTTPONLY"):
            problems.append(f"{prefix}_COOKIE_HTTPONLY is off: scripts can read the cookie")
    if not config.get("STRICT_TRANSPORT_SECURITY"):
        problems.append("STRICT_TRANSPORT_SECURITY is off: browsers may try plain HTTP")
    if not config.get("TRUSTED_HOSTS"):
        problems.append("TRUSTED_HOSTS is not set: any Host header is accepted")
    problems.extend(_mail_problems(config))
    if str(config.get("RATELIMIT_STORAGE_URI") or "").startswith("memory://"):
        problems.append("rate-limit counters are in memory: each process counts on its own")
    problems.extend(_redis_transport_problems(config.get("REDIS_URL")))
    if config.get("RATE_LIMIT_REDIS_URL"):
        problems.extend(_redis_transport_problems(config["RATE_LIMIT_REDIS_URL"]))
    return problems


def _mail_problems(config):
    base_url = config.get("PUBLIC_BASE_URL")
    if not base_url:
        return ["PUBLIC_BASE_URL is not set: no email with a link can be sent"]
    problems = []
    if not str(base_url).startswith("https://"):
        problems.append("PUBLIC_BASE_URL is not https: links in emails would use plain HTTP")
    if not config.get("MAIL_DEFAULT_SENDER"):
        problems.append("MAIL_DEFAULT_SENDER is not set: no email can be sent")
    if config.get("MAIL_BACKEND") == "app.mail.outbox":
        problems.append("emails are written to instance/outbox/ (live links on disk), not sent")
    encrypted = config.get("MAIL_USE_TLS") or config.get("MAIL_USE_SSL")
    if config.get("MAIL_BACKEND") == "smtp" and not encrypted and not _is_loopback(str(config.get("MAIL_SERVER"))):
        problems.append("the mail server is reached without TLS over the network")
    return problems


def _redis_transport_problems(url):
    if not url:
        return []
    parts = urlsplit(url)
    hosts = [host_port.rpartition(":")[0] or host_port for host_port in parts.netloc.rpartition("@")[2].split(",")]
    if parts.scheme == "unix" or all(_is_loopback(host) for host in hosts):
        return []
    problems = []
    if not parts.password:
        problems.append("Redis has no password and is not on this machine")
    if parts.scheme != "rediss":
        problems.append("Redis is reached without TLS over the network")
    return problems


def _is_loopback(host):
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sqlalchemy_url(url):
    # "postgresql://" would pick psycopg2; this project ships psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _development_secret_key(app):
    """Make a random key once and keep it in instance/, so sign-ins survive restarts."""
    key_file = Path(app.instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    app.logger.warning("No FLASK_SECRET_KEY set: generated a development key in %s", key_file)
    return key
