"""Command line: ``python -m exchangelib demo`` runs the README example against a bundled local EWS server.

``python -m exchangelib serve`` starts the local EWS server in the foreground;
``python -m exchangelib backup OUTDIR`` and ``restore BACKUPDIR`` back up and restore a mailbox (see
:mod:`exchangelib.backup`); ``--version`` prints the version. Every command names the emulated or
detected Exchange version ``--server-version``. ``backup-org OUTPUT`` and ``restore-org SOURCE`` do it for many mailboxes on a Dask cluster (see
:mod:`exchangelib.org`). Installed, the same commands run as ``exchangelib ...``.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from . import __version__
from .cli import program_name


def demo(args: argparse.Namespace) -> int:
    """Seed example: create ten calendar items, find them by time range and categories, fetch, delete."""
    from .demo import run_demo  # the demo module starts a server; keep `--help` fast

    return run_demo(version=args.server_version, verbose=args.verbose)


def serve(args: argparse.Namespace, rest: List[str]) -> int:
    from .testing.__main__ import main as serve_main

    return serve_main(["serve", *rest], prog=program_name())


def backup(rest: List[str]) -> int:
    from .backup import main_backup  # imported when used: keeps `--help` and the other commands fast

    return main_backup(rest)


def restore(rest: List[str]) -> int:
    from .backup import main_restore

    return main_restore(rest)


def backup_org(rest: List[str]) -> int:
    from .org import main_backup_org  # needs exchangelib[org] (Dask); imported only for this command

    return main_backup_org(rest)


def restore_org(rest: List[str]) -> int:
    from .org import main_restore_org

    return main_restore_org(rest)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog=program_name(),
                                     description=f"exchangelib {__version__}: a client for Exchange Web Services")
    parser.add_argument("--version", action="version", version=f"exchangelib {__version__}",
                        help="print the version of exchangelib and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run the README example against a bundled local EWS server")
    p_demo.add_argument("--server-version", default="2016", help="Exchange version the local server emulates")
    p_demo.add_argument("-v", "--verbose", action="store_true", help="log the SOAP XML going over the wire")
    sub.add_parser("serve", help="run the local EWS server in the foreground", add_help=False)
    sub.add_parser("backup", help="back up a mailbox into a directory (resumable)", add_help=False)
    sub.add_parser("restore", help="restore a backup directory into a mailbox", add_help=False)
    sub.add_parser("backup-org", help="back up many mailboxes on a Dask cluster (resumable; exchangelib[org])",
                   add_help=False)
    sub.add_parser("restore-org", help="restore many mailboxes from a backup-org output on a Dask cluster",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if args.verbose:
            from .log import PrettyXmlHandler

            logging.basicConfig(level=logging.DEBUG, handlers=[PrettyXmlHandler()])
        return demo(args)
    if args.command == "backup":
        return backup(rest)
    if args.command == "restore":
        return restore(rest)
    if args.command == "backup-org":
        return backup_org(rest)
    if args.command == "restore-org":
        return restore_org(rest)
    return serve(args, rest)


if __name__ == "__main__":
    sys.exit(main())
