"""`manage.py nginx_config`: the template filled from the settings, and values that would break
nginx's syntax refused with a clear message (the running config is tested in tests/test_nginx_media.py)."""

import asyncio
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import URLResolver, get_resolver

from streaming.core.delivery import HOLD_TARGET_DURATIONS
from streaming.core.playlist import target_duration_for
from streaming.management.commands.nginx_config import TEMPLATE
from streaming.nginx import PLACEHOLDER, BadValue, Site, render

GOOD = Site(
    hls_root="/srv/hls/", pass_secret="s" * 40, listen="443 ssl", upstreams=("127.0.0.1:8000", "unix:/run/w.sock")
)


def test_every_placeholder_is_filled():
    text = render("cache @CACHE_DIR@; root @HLS_ROOT@; key @HLS_PASS_SECRET@; listen @LISTEN@;\n    @UPSTREAM@\n", GOOD)
    assert text == (f"cache /var/cache/nginx/webcast; root /srv/hls; key {'s' * 40}; listen 443 ssl;\n"
                    "    server 127.0.0.1:8000 max_fails=0;\n"
                    "    server unix:/run/w.sock max_fails=0;\n")


def test_sockets_go_to_their_own_servers_or_else_to_the_page_servers():
    template = "pages @UPSTREAM@\nsockets @SOCKET_UPSTREAM@\nstatic @STATIC_ROOT@"
    apart = render(template, Site(**(GOOD.__dict__ | {"socket_upstreams": ("127.0.0.1:9000",),
                                                      "static_root": "/srv/static/"})))
    # Daphnes are never set aside after a failure (streaming/nginx.py says why); page servers are.
    assert apart.splitlines()[2:] == ["sockets server 127.0.0.1:9000 max_fails=0;", "static /srv/static"]
    assert render(template, GOOD).splitlines()[2] == "sockets server 127.0.0.1:8000 max_fails=0;"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hls_root": "srv/hls"}, "HLS_ROOT 'srv/hls'"),
        ({"hls_root": "/srv/h ls;"}, "HLS_ROOT '/srv/h ls;'"),
        ({"hls_root": "/srv/$hls"}, "HLS_ROOT"),
        ({"pass_secret": "short"}, "HLS_PASS_SECRET does not fit"),
        ({"pass_secret": "s" * 40 + '"; }'}, "HLS_PASS_SECRET does not fit"),
        ({"listen": "80; include /etc/passwd"}, "listen '80; include /etc/passwd'"),
        ({"upstreams": ()}, "name at least one web process"),
        ({"cache_dir": "/var/cache/x; evil"}, "cache folder '/var/cache/x; evil'"),
        ({"upstreams": ("127.0.0.1:8000; evil",)}, "upstream '127.0.0.1:8000; evil'"),
        ({"hls_hold_seconds": 0}, "hold 0 does not fit"),
        ({"socket_upstreams": ("127.0.0.1:9000 down",)}, "upstream '127.0.0.1:9000 down'"),
        ({"static_root": "/srv/static; evil"}, "STATIC_ROOT '/srv/static; evil'"),
    ],
)
def test_a_value_that_does_not_fit_is_refused(change, message):
    with pytest.raises(BadValue, match=message.replace("$", r"\$")):
        render("@HLS_ROOT@", Site(**(GOOD.__dict__ | change)))


def test_the_secret_is_never_in_a_message():
    with pytest.raises(BadValue) as refusal:
        render("", Site(**(GOOD.__dict__ | {"pass_secret": "my-secret;"})))
    assert "my-secret" not in str(refusal.value)


def test_an_unknown_placeholder_is_refused():
    with pytest.raises(BadValue, match="nothing fills: NAME"):
        render("@NAME@", GOOD)


def test_the_command_renders_the_repositorys_template(capsys, settings, tmp_path):
    settings.HLS_ROOT = tmp_path
    call_command(
        "nginx_config", listen="127.0.0.1:8080", upstream=["127.0.0.1:8001"], socket_upstream=["127.0.0.1:8002"]
    )
    text = capsys.readouterr().out
    assert "listen 127.0.0.1:8080;" in text and "server 127.0.0.1:8001 max_fails=0;" in text
    assert "server 127.0.0.1:8002 max_fails=0;" in text
    assert f"alias {settings.STATIC_ROOT.resolve()}/;" in text
    assert f"alias {tmp_path}/$hls_event/$hls_name;" in text
    assert f'secure_link_md5 "$secure_link_expires/hls/$hls_event/ {settings.HLS_PASS_SECRET}";' in text
    # Blocking reloads wait at most three target durations at the origin: nginx's lock outlasts that.
    origin_hold = HOLD_TARGET_DURATIONS * target_duration_for(settings.HLS_SEGMENT_FRAMES * 1024 / 48000)
    lock = re.search(r"proxy_cache_lock_timeout (\d+)s;", text)
    assert lock and origin_hold < int(lock[1]) <= origin_hold + 5
    # A reload waiting behind another's looks for the answer each time the lock's age runs out:
    # well within a part, so a viewer behind the first is not a part late (the default is 5 s).
    age = re.search(r"proxy_cache_lock_age (\d+)ms;", text)
    part_seconds = settings.HLS_PART_FRAMES * 1024 / 48000
    assert age and int(age[1]) / 1000 <= part_seconds / 2
    assert PLACEHOLDER.search(text) is None


def test_the_command_refuses_a_bad_option_clearly():
    with pytest.raises(CommandError, match="listen 'x y z'"):
        call_command("nginx_config", listen="x y z")


def routed_to_daphne(template: str) -> list[re.Pattern]:
    """The regular expressions of the template's locations that proxy to the daphnes."""
    found = re.findall(r'location ~ "([^"]+)" \{\s*proxy_pass http://webcast_sockets;', template)
    return [re.compile(expression) for expression in found]


def every_route(patterns=None, prefix: str = ""):
    """(path with sample values, view) for every URL the project routes."""
    samples = {"int": "1", "slug": "demo", "str": "q1", "path": "x"}
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from every_route(entry.url_patterns, route)
        else:
            yield "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: samples[m.group(1) or "str"], route), entry.callback


def test_every_asynchronous_view_and_the_viewers_votes_are_routed_to_the_daphnes():
    """A page server (WSGI) would run an async view on an event loop that ends with the request:
    nginx must send any to daphne. The viewers' questions, upvotes and poll answers are sync
    views, but go to daphne too: a vote's delayed recount waits on daphne's running loop there
    (stage/tally.py), where a page server would start a thread for it."""
    template = (Path(settings.BASE_DIR) / TEMPLATE).read_text()
    to_daphne = routed_to_daphne(template)
    routes = list(every_route())
    for path, view in routes:
        if asyncio.iscoroutinefunction(view):
            assert any(expression.search(path) for expression in to_daphne), path
    # And nothing else goes there by accident: the media pass, which daphne's front renews on a
    # viewer's ticket before Django (streaming/front.py), and the audience's Q&A.
    assert {path for path, _ in routes if any(e.search(path) for e in to_daphne)} == {
        "/hls/1/pass/",
        "/e/demo/questions/",
        "/e/demo/questions/q1/vote/",
        "/e/demo/polls/q1/vote/",
    }
