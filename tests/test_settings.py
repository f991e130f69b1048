"""Settings come from the environment; unset, they give the embedded default. Each test builds
the environment it checks (both modes among them), so the scaled-out pass alone runs them."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

# The settings alone, without django.setup(): config/settings.py reads and checks every variable
# (each ImproperlyConfigured below is raised there), and importing every app as well would take
# most of each fresh interpreter's time.
PROBE = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "options": db.get("OPTIONS", {}), "conn_max_age": db.get("CONN_MAX_AGE"),
    "layer": settings.CHANNEL_LAYERS["default"], "runner": settings.MIXER_RUNNER,
    "email": settings.EMAIL_BACKEND, "debug": settings.DEBUG, "hls_root": str(settings.HLS_ROOT),
    "secret_key": settings.SECRET_KEY, "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "line_sources": {
        "schemes": sorted(settings.LINE_SOURCE_POLICY.schemes),
        "networks": [str(n) for n in settings.LINE_SOURCE_POLICY.networks],
        "public": settings.LINE_SOURCE_POLICY.public,
        "media_root": settings.LINE_SOURCE_POLICY.media_root and str(settings.LINE_SOURCE_POLICY.media_root),
        "private_roots": [str(p) for p in settings.LINE_SOURCE_POLICY.private_roots],
    },
    "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "hsts": settings.SECURE_HSTS_SECONDS, "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "proxy_ssl_header": settings.SECURE_PROXY_SSL_HEADER,
    "hls_pass": [settings.HLS_PASS_SECONDS, settings.HLS_PASS_SECRET],
    "low_latency_seats": settings.HLS_LOW_LATENCY_SEATS,
}))
"""
SERVICE_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "HLS_ROOT", "EMAIL_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE", "LINE_SOURCE_SCHEMES", "LINE_SOURCE_NETWORKS", "LINE_SOURCE_MEDIA_ROOT",
    "PLAIN_HTTP", "BEHIND_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "HLS_PASS_SECONDS", "HLS_PASS_SECRET",
    "EMAIL_TIMEOUT", "LOG_FORMAT", "METRICS_TOKEN", "HLS_LOW_LATENCY_SEATS",
)


def settings_with(tmp_path, **variables: str) -> dict:
    """Load the settings in a fresh interpreter with exactly these variables set."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"} | variables
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_unset_environment_gives_the_embedded_default(tmp_path):
    loaded = settings_with(tmp_path)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in loaded["options"]["init_command"]
    assert loaded["layer"] == {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    assert loaded["runner"] == "local"
    assert loaded["email"] == "django.core.mail.backends.console.EmailBackend"
    assert loaded["debug"] is False
    assert loaded["eager"] is True
    assert loaded["hls_root"] == str(tmp_path / "var" / "hls")
    # Lines reach public unicast addresses over every known scheme, and no files.
    assert loaded["line_sources"] == {
        "schemes": ["file", "http", "https", "rtmp", "rtmps", "rtp", "srt", "udp"],
        "networks": [],
        "public": True,
        "media_root": None,
        "private_roots": [str(tmp_path / "var" / "hls")],
    }


def test_the_line_source_policy_comes_from_the_environment(tmp_path):
    loaded = settings_with(
        tmp_path,
        LINE_SOURCE_SCHEMES="srt,rtp",
        LINE_SOURCE_NETWORKS="10.20.0.0/16,239.69.0.0/16,192.0.2.7",
        LINE_SOURCE_MEDIA_ROOT=str(tmp_path / "media"),
        HLS_ROOT=str(tmp_path / "media" / "hls"),
    )
    assert loaded["line_sources"] == {
        "schemes": ["rtp", "srt"],
        "networks": ["10.20.0.0/16", "239.69.0.0/16", "192.0.2.7/32"],
        "public": False,
        "media_root": str(tmp_path / "media"),
        "private_roots": [str(tmp_path / "media" / "hls")],
    }
    assert settings_with(tmp_path, LINE_SOURCE_NETWORKS="")["line_sources"]["public"] is False


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LINE_SOURCE_NETWORKS", "public,encoder.example", "LINE_SOURCE_NETWORKS: 'encoder.example' is not a network"),
        ("LINE_SOURCE_SCHEMES", "http,gopher", "LINE_SOURCE_SCHEMES: unknown gopher"),
    ],
)
def test_a_line_source_policy_the_server_cannot_use_stops_it_from_starting(tmp_path, variable, value, message):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings", variable: value}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_the_media_pass_secret_is_derived_from_the_secret_key_unless_given(tmp_path):
    key = secrets.token_urlsafe(50)
    seconds, derived = settings_with(tmp_path, SECRET_KEY=key)["hls_pass"]
    assert seconds == 60 and len(derived) == 64 and key not in derived
    assert settings_with(tmp_path, SECRET_KEY=key)["hls_pass"][1] == derived  # every web process agrees
    assert settings_with(tmp_path, SECRET_KEY=key + "x")["hls_pass"][1] != derived
    given = secrets.token_urlsafe(32)
    assert settings_with(tmp_path, SECRET_KEY=key, HLS_PASS_SECRET=given, HLS_PASS_SECONDS="30")["hls_pass"] == [
        30, given
    ]


def test_low_latency_seats_are_sized_for_one_daphne_and_unlimited_behind_a_proxy(tmp_path):
    assert settings_with(tmp_path)["low_latency_seats"] == 100
    assert settings_with(tmp_path, BEHIND_PROXY="true")["low_latency_seats"] == 0
    assert settings_with(tmp_path, HLS_LOW_LATENCY_SEATS="250")["low_latency_seats"] == 250
    assert settings_with(tmp_path, BEHIND_PROXY="true", HLS_LOW_LATENCY_SEATS="40")["low_latency_seats"] == 40
    assert settings_with(tmp_path, HLS_LOW_LATENCY_SEATS="0")["low_latency_seats"] == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HLS_LOW_LATENCY_SEATS", "-1", "HLS_LOW_LATENCY_SEATS must be a whole number of viewers (0: unlimited)"),
        ("HLS_LOW_LATENCY_SEATS", "many", "HLS_LOW_LATENCY_SEATS must be a whole number of viewers"),
        ("HLS_LOW_LATENCY_SEATS", "1.5", "HLS_LOW_LATENCY_SEATS must be a whole number of viewers"),
        ("HLS_LOW_LATENCY_SEATS", "", "HLS_LOW_LATENCY_SEATS must be a whole number of viewers"),
        ("HLS_PASS_SECRET", "too-short", "HLS_PASS_SECRET must be 32 or more letters"),
        ("HLS_PASS_SECRET", "x" * 40 + '";', "HLS_PASS_SECRET must be 32 or more letters"),
        ("HLS_PASS_SECONDS", "2", "HLS_PASS_SECONDS must be at least 3"),
        ("HLS_PART_FRAMES", "-1", "HLS_PART_FRAMES must be 0 (no parts) to HLS_SEGMENT_FRAMES"),
        ("HLS_PART_FRAMES", "95", "HLS_PART_FRAMES must be 0 (no parts) to HLS_SEGMENT_FRAMES"),
    ],
)
def test_a_media_setting_nginx_the_pages_or_the_mixer_cannot_use_stops_the_server(tmp_path, variable, value, message):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings", variable: value}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr
    assert value not in result.stderr or variable != "HLS_PASS_SECRET"  # a secret is never printed


def test_embedded_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = settings_with(tmp_path)["secret_key"]
    second = settings_with(tmp_path)["secret_key"]
    key_file = tmp_path / "var" / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_database_and_redis_urls_switch_to_the_scaled_out_mode(tmp_path):
    loaded = settings_with(
        tmp_path, DATABASE_URL="postgres://webcast@db.internal:5432/webcast", REDIS_URL="redis://cache.internal:6379/2"
    )
    assert loaded["engine"] == "config.postgresql"
    assert loaded["conn_max_age"] == 0
    assert loaded["options"]["pool"]["max_size"] == 8
    assert loaded["layer"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    host = loaded["layer"]["CONFIG"]["hosts"][0]
    assert host == {"address": "redis://cache.internal:6379/2", "socket_timeout": None, "max_connections": 2000}
    assert loaded["eager"] is False


def manage(tmp_path, *command: str, **variables: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh interpreter with exactly these variables set."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"VAR_DIR": str(tmp_path / "var")} | variables
    return subprocess.run(
        [sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )


# The production settings the README documents: TLS at daphne, or at a proxy in front of it.
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "webcast.example.com"}
TLS_AT_PROXY = PRODUCTION | {"BEHIND_PROXY": "true", "CSRF_TRUSTED_ORIGINS": "https://webcast.example.com"}


@pytest.mark.parametrize("variables", [PRODUCTION, TLS_AT_PROXY], ids=["tls-at-daphne", "tls-at-proxy"])
def test_check_deploy_reports_no_issues_in_the_documented_production_settings(tmp_path, variables):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **variables)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "variables",
    [{}, {"BEHIND_PROXY": "true"}, {"BEHIND_PROXY": "true", "SECURE_SSL_REDIRECT": "false"}, PRODUCTION],
    ids=["embedded-default", "behind-proxy", "proxy-redirects", "production"],
)
def test_with_debug_off_cookies_are_secure_and_hsts_is_sent_wherever_tls_ends(tmp_path, variables):
    loaded = settings_with(tmp_path, **variables)
    assert loaded["cookies_secure"] == [True, True]
    assert loaded["hsts"] == 31536000


def test_behind_a_proxy_its_forwarded_scheme_is_trusted(tmp_path):
    assert settings_with(tmp_path, BEHIND_PROXY="true")["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert settings_with(tmp_path)["proxy_ssl_header"] is None


def test_plain_http_is_an_explicit_opt_out_for_loopback(tmp_path):
    loaded = settings_with(tmp_path, PLAIN_HTTP="true", SECRET_KEY=secrets.token_urlsafe(50))
    assert loaded["cookies_secure"] == [False, False]
    assert (loaded["hsts"], loaded["ssl_redirect"]) == (0, False)
    assert manage(tmp_path, "check", PLAIN_HTTP="true").returncode == 0
    assert manage(tmp_path, "check", PLAIN_HTTP="true", ALLOWED_HOSTS="localhost,[::1],127.0.0.2").returncode == 0


@pytest.mark.parametrize("hosts", ["webcast.example.com", "127.0.0.1,webcast.example.com", "*", "10.0.0.5"])
def test_plain_http_with_a_public_host_is_a_system_check_error(tmp_path, hosts):
    result = manage(tmp_path, "check", PLAIN_HTTP="true", ALLOWED_HOSTS=hosts)
    assert result.returncode != 0
    assert "events.E001" in result.stderr


def test_the_server_refuses_to_start_with_plain_http_on_a_public_host(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"VAR_DIR": str(tmp_path / "var"), "PLAIN_HTTP": "true", "ALLOWED_HOSTS": "webcast.example.com"}
    result = subprocess.run(
        [sys.executable, "-m", "config.serve", "-b", "127.0.0.1", "-p", "0", "config.asgi:application"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "events.E001" in result.stderr


def test_check_deploy_fails_when_debug_is_on(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"VAR_DIR": str(tmp_path / "var"), "DEBUG": "1", "SECRET_KEY": secrets.token_urlsafe(50)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EMAIL_TIMEOUT", "0", "EMAIL_TIMEOUT must be a positive number of seconds."),
        ("LOG_FORMAT", "xml", 'LOG_FORMAT is "text" or "json"'),
    ],
)
def test_an_operations_setting_the_server_cannot_use_stops_it(tmp_path, variable, value, message):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings", variable: value}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr
