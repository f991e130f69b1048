"""A small SMTP server on loopback for tests: it records each message it accepts, and can hold
the first one unanswered after its data (as a mail server that stalls) until the client goes."""

import socketserver
import threading
from contextlib import contextmanager


class MailSink:
    def __init__(self, *, hold_first: bool = False) -> None:
        self.delivered: list[bytes] = []
        self.hold_first = hold_first
        self.holding = threading.Event()  # the held message's data is in; no answer given
        self.abandoned = threading.Event()  # its client went away without an answer


class _Session(socketserver.StreamRequestHandler):
    sink: MailSink

    def handle(self) -> None:
        self.reply(b"220 sink ready")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply(b"250 sink")
            elif verb == b"DATA":
                self.reply(b"354 go on")
                data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                if self.sink.hold_first and not self.sink.holding.is_set():
                    self.sink.holding.set()
                    self.rfile.read()  # until the client is gone
                    self.sink.abandoned.set()
                    return
                self.sink.delivered.append(data)
                self.reply(b"250 accepted")
            elif verb == b"QUIT":
                self.reply(b"221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply(b"250 ok")

    def reply(self, text: bytes) -> None:
        self.wfile.write(text + b"\r\n")
        self.wfile.flush()


@contextmanager
def mail_sink(*, hold_first: bool = False):
    """Yield (sink, port) of a server on 127.0.0.1 serving until the block ends."""
    sink = MailSink(hold_first=hold_first)
    handler = type("Session", (_Session,), {"sink": sink})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="mail-sink", daemon=True).start()
    try:
        yield sink, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()

