"""``linkage pki``: development certificates and the broker's keys.

    linkage pki init DIR [--org NAME ...] [--host HOST ...] [--force]
    linkage pki issue DIR NAME
    linkage pki revoke DIR NAME
    linkage pki crl DIR

``init`` writes a development CA, the broker's and each organisation's certificate and key,
the audit-log key pair (``log.key``/``log.pub``), the receipt-signing key pair
(``receipt.key``/``receipt.pub``), the at-rest data key (``data.key``) and an example
``policy.toml``. Existing keys and policy are kept (replacing the data key would make the
stored data unreadable; replacing the log key would break the auditors' trust).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from linkage.auditlog import generate_log_keypair
from server import pki
from server.keys import generate_data_key
from linkage.signing_keys import generate_keypair
from server.policy import example_policy


def _init(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    organisations = tuple(args.org or pki.DEFAULT_ORGANISATIONS)
    hosts = tuple(args.host or pki.BROKER_HOSTS)
    pki.init_pki(directory, organisations, hosts, force=args.force)
    made = ["ca.crt", "broker.crt", *(f"{name}.crt" for name in organisations)]
    if not (directory / "log.key").exists():
        generate_log_keypair(directory)
        made.append("log.key")
    if not (directory / "receipt.key").exists():
        generate_keypair(directory, "receipt")
        made.append("receipt.key")
    if not (directory / "data.key").exists():
        generate_data_key(directory / "data.key")
        made.append("data.key")
    if not (directory / "policy.toml").exists():
        (directory / "policy.toml").write_text(example_policy(organisations))
        made.append("policy.toml")
    print(f"wrote in {directory}: {', '.join(made)} (private keys mode 0600)")
    print("development certificates only: see docs/broker.md for certificates from a real CA")
    return 0


def _issue(args: argparse.Namespace) -> int:
    written = pki.issue(args.dir, args.name)
    print(f"wrote {written[0]} and {written[1]}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    target = Path(args.name)
    certificate = target if target.suffix == ".crt" else Path(args.dir) / f"{args.name}.crt"
    crl = pki.revoke(args.dir, certificate)
    print(f"revoked {certificate.name}; the broker reads {crl} within seconds")
    return 0


def _crl(args: argparse.Namespace) -> int:
    crl = pki.renew_crl(args.dir)
    print(f"renewed {crl}, valid for {pki.CRL_DAYS} days; the broker reads it within seconds")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("pki", help="development certificates and broker keys")
    commands = parser.add_subparsers(dest="pki_command", metavar="ACTION")
    commands.required = True

    init = commands.add_parser("init", help="make a development CA, certificates, keys and a policy")
    init.add_argument("dir", help="folder to write into (created if needed)")
    init.add_argument("--org", action="append", metavar="NAME",
                      help=f"an organisation to certify (repeatable; default: {', '.join(pki.DEFAULT_ORGANISATIONS)})")
    init.add_argument("--host", action="append", metavar="HOST",
                      help=f"a name or address of the broker (repeatable; default: {', '.join(pki.BROKER_HOSTS)})")
    init.add_argument("--force", action="store_true",
                      help="replace an existing CA and all certificates (keys and policy are kept)")
    init.set_defaults(func=_init)

    issue = commands.add_parser("issue", help="certify one more organisation with the CA in DIR")
    issue.add_argument("dir", help="the folder made by 'pki init' (holds the CA)")
    issue.add_argument("name", help="organisation name; writes NAME.crt and NAME.key")
    issue.set_defaults(func=_issue)

    revoke = commands.add_parser("revoke", help="revoke a certificate (adds it to DIR/crl.pem)")
    revoke.add_argument("dir", help="the folder made by 'pki init' (holds the CA and crl.pem)")
    revoke.add_argument("name", help="organisation name, or the path of its .crt")
    revoke.set_defaults(func=_revoke)

    crl = commands.add_parser("crl", help=f"sign DIR/crl.pem again, valid for {pki.CRL_DAYS} days")
    crl.add_argument("dir", help="the folder made by 'pki init' (holds the CA and crl.pem)")
    crl.set_defaults(func=_crl)
