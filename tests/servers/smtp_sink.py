"""A real SMTP server (aiosmtpd) used as the sink of the end-to-end tests.

Every accepted message is written to OUT_DIR as <n>.eml (the bytes received,
after DATA) with <n>.json beside it (envelope sender and recipients), the JSON
written last so a reader never sees half a message. Recipients whose local
part starts with "reject" get a permanent 550, "tempfail" a transient 451.
Prints READY <port> once listening.

With INTROSPECT_URL, the sink offers AUTH XOAUTH2 (no TLS: loopback only),
checks each token against that OAuth 2 introspection endpoint (RFC 7662:
POST token=…, {"active": true, "username": …}) and refuses mail from a
client that has not authenticated; the JSON then names the user.

usage: smtp_sink.py OUT_DIR [PORT [INTROSPECT_URL]]   (PORT 0 picks a free one)
"""
import asyncio
import base64
import itertools
import json
import os
import signal
import socket
import sys
import urllib.parse
import urllib.request

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def introspect(url, token):
    data = urllib.parse.urlencode({"token": token}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as r:
        return json.load(r)


class Sink:
    def __init__(self, out_dir, introspect_url=None):
        self.out_dir = out_dir
        self.counter = itertools.count(1)
        self.introspect_url = introspect_url

    async def auth_XOAUTH2(self, server, args):
        """RFC-less but documented by Google and Microsoft: base64 of
        user=<user>^Aauth=Bearer <token>^A^A, as the AUTH line's argument
        or after an empty challenge."""
        if self.introspect_url is None:
            return AuthResult(success=False, handled=False)
        # args: the AUTH line's words after the verb (mechanism, initial response).
        if len(args) > 1:
            blob = args[1]
        else:
            blob = await server.challenge_auth("", encode_to_b64=False)
            if blob is None:
                return AuthResult(success=False, handled=False)
        try:
            text = base64.b64decode(blob).decode()
            fields = dict(p.split("=", 1) for p in text.split("\x01") if "=" in p)
            user = fields.get("user", "")
            token = fields.get("auth", "").removeprefix("Bearer ")
        except Exception:
            return AuthResult(success=False, handled=False)
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(None, introspect, self.introspect_url, token)
        if answer.get("active") is True and answer.get("username") == user:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.introspect_url is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("tempfail"):
            return "451 4.3.0 <%s>: Temporary failure, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.out_dir, "%06d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "auth": session.auth_data if session.authenticated else None}, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    out_dir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    introspect_url = sys.argv[3] if len(sys.argv) > 3 else None
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    os.makedirs(out_dir, exist_ok=True)
    options = {}
    if introspect_url is not None:
        # Loopback only: AUTH without TLS, and no password mechanisms.
        options = {"auth_require_tls": False, "auth_exclude_mechanism": ["LOGIN", "PLAIN"]}
    controller = Controller(Sink(out_dir, introspect_url), hostname="127.0.0.1", port=port,
                            decode_data=False, **options)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        # The controller serves from its own thread; this one only waits to be stopped.
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
