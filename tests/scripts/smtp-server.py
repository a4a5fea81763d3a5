"""An SMTP server for the email plugin's system test (aiosmtpd).

    smtp-server.py --host 127.0.0.1 --port 0 --mode starttls|implicit|plain
                   [--cert PEM --key PEM] [--user U --password P]
                   [--exclude-auth LOGIN] [--client-ca PEM]

Prints `listening <port>` once it accepts connections, then one JSON line
per delivered message: the envelope, the mechanism and login the client
authenticated with, the common name of the client certificate (with
--client-ca, which makes one required), and the message as Python's email package parses it
(headers decoded, each part's content type, transfer encoding and decoded
body) plus the raw data. Runs until killed. Installed by
install-aiosmtpd.sh; started by tests/tests/email_plugin.rs.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse(data: bytes) -> dict:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = []
    for part in msg.iter_parts() if msg.is_multipart() else []:
        parts.append(
            {
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding"),
                "body": part.get_content(),
            }
        )
    return {
        "headers": [[k, str(v)] for k, v in msg.items()],
        "content_type": msg.get_content_type(),
        "parts": parts,
        "defects": [str(d) for d in msg.defects],
    }


def client_cn(server, session):
    cert = (session.ssl or {}).get("peercert") or server.transport.get_extra_info(
        "peercert"
    )
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


class Handler:
    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # aiosmtpd sets session.ssl after STARTTLS only.
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "auth_mechanism": getattr(session, "pharos_mechanism", None),
            "auth_login": getattr(session, "pharos_login", None),
            "client_cn": client_cn(server, session),
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        record.update(parse(envelope.original_content))
        print(json.dumps(record), flush=True)
        return "250 2.0.0 OK queued"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["starttls", "implicit", "plain"], required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--exclude-auth", action="append", default=[])
    p.add_argument("--client-ca")
    args = p.parse_args()

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = login == args.user and auth_data.password.decode() == args.password
        if ok:
            session.pharos_mechanism = mechanism
            session.pharos_login = login
        return AuthResult(success=ok, handled=False)

    def factory():
        kwargs = {"hostname": "mx.pharos.test", "ident": "pharos-test-smtp"}
        if args.user:
            kwargs.update(
                authenticator=authenticator,
                # With implicit TLS aiosmtpd does not know the connection
                # is encrypted: it would never offer AUTH.
                auth_require_tls=args.mode == "starttls",
                auth_exclude_mechanism=args.exclude_auth,
            )
        if args.mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        return SMTP(Handler(), **kwargs)

    # Failed handshakes are part of the test (a client refusing the
    # certificate): one line each, not aiosmtpd's tracebacks.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)

    def quiet(loop, context):
        error = context.get("exception") or context.get("message")
        print(f"smtp-server: {type(error).__name__}: {error}", file=sys.stderr)

    async def serve():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(quiet)
        server = await loop.create_server(
            factory,
            host=args.host,
            port=args.port,
            ssl=context if args.mode == "implicit" else None,
        )
        port = server.sockets[0].getsockname()[1]
        print(f"listening {port}", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
