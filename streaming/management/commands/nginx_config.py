import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stage.deck_views import ENVELOPE_BYTES
from streaming.core import SAMPLE_RATE
from streaming.core.delivery import HOLD_TARGET_DURATIONS
from streaming.core.encoder import AAC_FRAME_SAMPLES
from streaming.core.playlist import target_duration_for
from streaming.nginx import BadValue, Site, render

TEMPLATE = "config/nginx/webcast.conf.template"


class Command(BaseCommand):
    help = (
        "nginx's configuration for the scaled-out setup (include it in the http block): the webcast's "
        "HLS files served from HLS_ROOT to holders of a media pass, static files from STATIC_ROOT, WebSockets "
        "proxied to daphne and pages to the page servers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--listen", default="80", help="what nginx listens on: '80', '127.0.0.1:8080', '443 ssl'")
        parser.add_argument(
            "--upstream", action="append", help="a web process, host:port or unix:/path; repeat for several "
            "(default 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--socket-upstream", action="append",
            help="a daphne for the WebSockets and the viewers' Q&A; repeat for several (default: the "
            "--upstream ones, which are then daphnes)",
        )
        parser.add_argument(
            "--cache-dir", default=Site.cache_dir,
            help=f"where nginx caches the public status and Q&A JSON (default {Site.cache_dir}; nginx makes it)",
        )
        parser.add_argument("--output", help="write the configuration here (mode 600: it holds the pass secret)")

    def handle(self, *args, **options):
        segment_seconds = settings.HLS_SEGMENT_FRAMES * AAC_FRAME_SAMPLES / SAMPLE_RATE
        site = Site(
            hls_root=str(settings.HLS_ROOT.resolve()),
            pass_secret=settings.HLS_PASS_SECRET,
            listen=options["listen"],
            upstreams=tuple(options["upstream"] or ["127.0.0.1:8000"]),
            socket_upstreams=tuple(options["socket_upstream"] or ()),
            static_root=str(settings.STATIC_ROOT.resolve()),
            slides_root=str(settings.SLIDES_ROOT.resolve()),
            slides_upload_bytes=settings.SLIDES_MAX_UPLOAD_BYTES + ENVELOPE_BYTES,
            cache_dir=options["cache_dir"],
            hls_hold_seconds=HOLD_TARGET_DURATIONS * target_duration_for(segment_seconds) + 2,
        )
        try:
            text = render((settings.BASE_DIR / TEMPLATE).read_text(), site)
        except BadValue as error:
            raise CommandError(str(error)) from None
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        descriptor = os.open(options["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # also when it replaces a file that was readable
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
