"""Django's pages under a WSGI server, beside daphne for the WebSockets: `python -m config.pages -b
127.0.0.1 -p 8100`.

Why: under daphne every synchronous view runs on one thread behind an ASGI hop, and `manage.py
bench_pages` measured Django's pages cheaper and faster under a plain WSGI server (README,
Performance). The server is Twisted's WSGI container, which daphne already brings: nothing new to
install. Like `config.serve`:
- no access log at all (keyed paths carry personal keys);
- BEHIND_PROXY=true takes the client's address from X-Forwarded-For (the proxy replaces that
  header), so the rate limiter counts clients, not the proxy; bind it where only the proxy reaches it;
- it does not start while a system check reports an error.
Its threads are as many as the database pool's connections (DATABASE_POOL_MAX): a request never
waits for a connection another thread of this process holds.
"""

import argparse
import os
import sys

import django


def from_proxy(application):
    """The WSGI application with REMOTE_ADDR taken from the proxy's X-Forwarded-For (its first
    address, as daphne's --proxy-headers does)."""

    def forwarded(environ, start_response):
        addresses = environ.get("HTTP_X_FORWARDED_FOR", "")
        first = addresses.split(",")[0].strip()
        if first:
            environ["REMOTE_ADDR"] = first
        return application(environ, start_response)

    return forwarded


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m config.pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("-b", "--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=8100, help="port to listen on (default 8100)")
    arguments = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Loading the apps imports daphne.server, which installs the asyncio reactor: before Twisted's own.
    django.setup()
    from django.conf import settings
    from django.core import checks
    from django.core.wsgi import get_wsgi_application
    from twisted.internet import reactor
    from twisted.web.server import Site
    from twisted.web.wsgi import WSGIResource

    class QuietSite(Site):
        """Twisted's site without its access log."""

        def log(self, request) -> None:
            pass

    errors = [message for message in checks.run_checks() if message.is_serious()]
    if errors:
        sys.exit("System check errors; not serving:\n" + "\n".join(str(error) for error in errors))
    application = get_wsgi_application()
    if settings.BEHIND_PROXY:
        application = from_proxy(application)
    threads = settings.DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size", 8)
    reactor.suggestThreadPoolSize(threads)
    site = QuietSite(WSGIResource(reactor, reactor.getThreadPool(), application))
    site.displayTracebacks = False
    reactor.listenTCP(arguments.port, site, interface=arguments.bind)
    print(f"Django's pages (WSGI) on http://{arguments.bind}:{arguments.port}/, {threads} threads", flush=True)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
