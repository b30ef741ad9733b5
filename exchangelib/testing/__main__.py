"""``python -m exchangelib.testing serve``: run the local EWS server in the foreground.

::

    python -m exchangelib.testing serve --port 8443 --tls --version 2019 \\
        --user john@example.com:secret --admin svc@example.com:secret2

Prints the endpoint, the token URL, the CA file (with ``--tls``) and every account with its
password; Ctrl-C stops the server. Without ``--user``/``--admin`` the default accounts are used.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import List, Optional, TextIO, Tuple

from ..cli import program_name
from .auth import SCHEMES
from .directory import DistributionList, RoomList
from .server import EWSServer
from .soap import SERVER_VERSIONS
from .users import ALL, User, default_oauth_clients, default_users


def _parse_user(spec: str, admin: bool) -> User:
    address, sep, password = spec.partition(":")
    if not sep or "@" not in address or not password:
        raise argparse.ArgumentTypeError(f"expected ADDRESS:PASSWORD like john@example.com:secret, got {spec!r}")
    username = address.split("@", 1)[0]
    return User(username, password, address, can_impersonate=ALL if admin else ())


def _parse_group(spec: str, what: str) -> Tuple[str, str, List[str]]:
    address, _, rest = spec.partition(":")
    name, _, members = rest.partition(":")
    if "@" not in address or not name:
        raise argparse.ArgumentTypeError(f"expected ADDRESS:NAME:MEMBER,MEMBER for {what}, got {spec!r}")
    return address, name, [m.strip() for m in members.split(",") if m.strip()]


def build_parser(prog: str = "python -m exchangelib.testing") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog,
                                     description="A local Exchange Web Services server for testing.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the local EWS server in the foreground (Ctrl-C stops it)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (its file is printed)")
    p.add_argument("--server-version", default="2016", dest="server_version",
                   help=f"Exchange version to emulate: {', '.join(SERVER_VERSIONS)} (default 2016)")
    p.add_argument("--version", dest="server_version", help=argparse.SUPPRESS)  # the old name
    p.add_argument("--user", action="append", default=[], metavar="ADDRESS:PASSWORD",
                   help="add an account (repeatable); the user name is the address' local part")
    p.add_argument("--admin", action="append", default=[], metavar="ADDRESS:PASSWORD",
                   help="add an account that may impersonate every mailbox (repeatable)")
    p.add_argument("--room-list", action="append", default=[], metavar="ADDRESS:NAME:ROOM,ROOM",
                   help="add a room list (repeatable); rooms that are no account get a mailbox without a login "
                        "(default with the default accounts: rooms@example.com holding room1@example.com)")
    p.add_argument("--distribution-list", action="append", default=[], metavar="ADDRESS:NAME:MEMBER,MEMBER",
                   help="add a distribution list (repeatable); members are addresses of mailboxes, lists or "
                        "external recipients")
    p.add_argument("--auth", default="ntlm,basic,bearer",
                   help=f"comma-separated auth schemes from {','.join(SCHEMES)} (default ntlm,basic,bearer)")
    strict = p.add_mutually_exclusive_group()
    strict.add_argument("--strict", dest="strict", action="store_true", default=None,
                        help="validate requests against the EWS XSDs (the default)")
    strict.add_argument("--no-strict", dest="strict", action="store_false", help="skip schema validation")
    p.add_argument("--latency-ms", type=float, default=0, help="delay every request by this many milliseconds")
    p.add_argument("--generate", type=int, default=0, metavar="N",
                   help="add N generated mailboxes user0001@example.com ... (no login: open them as an admin "
                        "who may impersonate, or with the OAuth app)")
    p.add_argument("--generate-items", type=int, default=20, metavar="M", help="items per generated mailbox (20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated content (same seed, same content)")
    p.add_argument("--max-concurrency", type=int, default=None,
                   help="concurrent requests allowed per mailbox (more get ErrorServerBusy)")
    p.add_argument("--max-app-concurrency", type=int, default=None,
                   help="concurrent requests allowed per user or OAuth app (more get ErrorServerBusy)")
    p.add_argument("--token-lifetime", type=float, default=3600, help="OAuth access token lifetime in seconds")
    p.add_argument("-v", "--verbose", action="store_true", help="log requests")
    p.add_argument("--kerberos-keytab", metavar="PATH",
                   help="accept Kerberos in Negotiate with the keys of HTTP/<host> in this keytab (adds 'negotiate')")
    p.add_argument("--client-certificates", choices=("optional", "required"),
                   help="with --tls: log in users by TLS client certificates (Certificate Based Authentication)")
    return parser


def describe(server: EWSServer, out: TextIO) -> None:
    """Print how to connect."""
    sv = server.server_version
    out.write(f"Local EWS server emulating Exchange {sv.name} (build {'.'.join(map(str, sv.build))})\n")
    out.write(f"  EWS endpoint : {server.url}\n")
    out.write(f"  Token URL    : {server.token_url}\n")
    if server.ca_path:
        out.write(f"  CA file      : {server.ca_path}   (pass verify=<this file>)\n")
    out.write(f"  Auth         : {', '.join(server.authenticator.schemes)}\n")
    out.write(f"  Schema check : {'strict' if server.strict else 'off'}\n")
    out.write("  Accounts (logon name / SMTP address / password):\n")
    users = list(server.users)
    generated = [u for u in users if u.password is None and u.username.startswith("user")]
    if len(generated) > 5:  # hundreds of generated mailboxes: summarise them
        users = [u for u in users if u not in generated]
        out.write(f"    {len(generated)} generated mailboxes without a login: {generated[0].primary_smtp_address} "
                  f"... {generated[-1].primary_smtp_address}\n")
    for u in users:
        extra = " [may impersonate all]" if u.can_impersonate == ALL else ""
        pw = u.password if u.password is not None else "(no login)"
        out.write(f"    {u.logon_name:<20} {u.primary_smtp_address:<28} {pw}{extra}\n")
    directory = server.directory
    for rl in directory.room_lists.values():
        out.write(f"  Room list    : {rl.address} ({rl.name}): {', '.join(rl.rooms)}\n")
    for dl in directory.distribution_lists.values():
        out.write(f"  Group        : {dl.address} ({dl.name}): {', '.join(dl.members)}\n")
    clients = server.authenticator.clients
    if clients:
        out.write("  OAuth apps (client_id / client_secret / roles):\n")
        for c in clients:
            secret = c.client_secret if c.client_secret is not None else (
                "(certificate)" if c.certificate is not None else "(public client)")
            out.write(f"    {c.client_id:<20} {secret:<28} {', '.join(c.roles)}\n")
    out.write("Press Ctrl-C to stop.\n")
    out.flush()


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout, stop: Optional[threading.Event] = None,
         prog: Optional[str] = None) -> int:
    """Entry point. ``stop`` (an Event) ends the server without Ctrl-C (used by tests); ``prog`` is the
    program name shown in help and errors."""
    parser = build_parser(prog or program_name("exchangelib.testing"))
    args = parser.parse_args(argv)
    try:
        users = [_parse_user(s, False) for s in args.user] + [_parse_user(s, True) for s in args.admin]
        room_lists = [_parse_group(s, "--room-list") for s in args.room_list]
        groups = [_parse_group(s, "--distribution-list") for s in args.distribution_list]
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    auth = [a.strip() for a in args.auth.split(",") if a.strip()]
    if args.kerberos_keytab and "negotiate" not in auth:
        auth.insert(0, "negotiate")
    try:
        server = EWSServer(users or default_users(), version=args.server_version, strict=args.strict, tls=args.tls,
                           auth=auth, oauth_clients=default_oauth_clients(), host=args.host, port=args.port,
                           latency_ms=args.latency_ms, token_lifetime=args.token_lifetime,
                           kerberos_keytab=args.kerberos_keytab, client_certificates=args.client_certificates,
                           max_concurrency=args.max_concurrency, max_app_concurrency=args.max_app_concurrency)
        if args.generate:
            server.generate_mailboxes(args.generate, items=args.generate_items, seed=args.seed)
        if not users and not room_lists:
            room_lists = [("rooms@example.com", "All rooms", ["room1@example.com"])]
        known = {u.smtp_address for u in server.users}
        for address, name, rooms in room_lists:
            for room in rooms:
                if room.lower() not in known:
                    server.add_user(User(room.split("@", 1)[0], None, room, room.split("@", 1)[0].capitalize()))
                    known.add(room.lower())
            server.directory.add_room_list(RoomList(address, name, rooms))
        for address, name, members in groups:
            server.directory.add_distribution_list(DistributionList(address, name, members))
    except (TypeError, ValueError) as e:
        parser.error(str(e))
    stop = stop or threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM stops cleanly too (the TLS files are removed), like Ctrl-C.
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with server:
            describe(server, out)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            out.write("Stopping.\n")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
