"""Where the broker is and who you are: flags, then environment variables, then a profile file.

Every command that talks to the broker takes ``--broker``, ``--tls-dir`` and ``--org``. Typing
them for every call is what a profile is for::

    # ~/.config/linkage/profile.toml (or the file named by LINKAGE_PROFILE)
    broker = "broker.example.be:50051"
    tls_dir = "/home/me/linkage-tls"
    org = "statistics"

    [profiles.test]            # picked with LINKAGE_PROFILE_NAME=test
    broker = "127.0.0.1:50051"

A flag wins over ``LINKAGE_BROKER`` / ``LINKAGE_TLS_DIR`` / ``LINKAGE_ORG``, which win over the
profile. The profile holds no secret: the private key stays in the TLS folder it points at.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path

from linkage.errors import LinkageError

SETTINGS: dict[str, tuple[str, str, str]] = {
    # attribute: (flag, environment variable, help)
    "broker": ("--broker", "LINKAGE_BROKER", "the broker's address, HOST:PORT"),
    "tls_dir": ("--tls-dir", "LINKAGE_TLS_DIR", "folder holding ca.crt, ORG.crt and ORG.key"),
    "org": ("--org", "LINKAGE_ORG", "your organisation (names ORG.crt and ORG.key)"),
}


class ConnectionSettingsError(LinkageError):
    """A connection setting is missing, or the profile file cannot be used."""


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """The three connection options, each with its environment variable in its help."""
    group = parser.add_argument_group(
        "connection", "each also from its environment variable or the profile file "
        "(LINKAGE_PROFILE, default ~/.config/linkage/profile.toml)")
    for attribute, (flag, variable, text) in SETTINGS.items():
        group.add_argument(flag, dest=attribute, metavar=attribute.upper().replace("_", "-"),
                           default=None, help=f"{text} [env {variable}]")
    parser.set_defaults(needs_connection=True)


def profile_path() -> Path:
    """The profile file: LINKAGE_PROFILE, else the user's configuration folder."""
    named = os.environ.get("LINKAGE_PROFILE")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "linkage" / "profile.toml"


def read_profile(path: Path, name: str | None) -> dict[str, str]:
    """The settings of one profile (the top level, overlaid by ``[profiles.NAME]``)."""
    if not path.exists():
        if name or os.environ.get("LINKAGE_PROFILE"):
            raise ConnectionSettingsError(f"profile file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConnectionSettingsError(f"cannot read the profile file {path}: {exc}") from None
    unknown = sorted(set(data) - set(SETTINGS) - {"profiles"})
    if unknown:
        raise ConnectionSettingsError(
            f"profile file {path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(SETTINGS)}, [profiles.NAME]")
    settings = {key: str(value) for key, value in data.items() if key in SETTINGS}
    if name:
        profiles = data.get("profiles", {})
        if name not in profiles:
            raise ConnectionSettingsError(
                f"profile file {path} has no [profiles.{name}] (it has: {', '.join(sorted(profiles)) or 'none'})")
        settings.update({key: str(value) for key, value in profiles[name].items() if key in SETTINGS})
    return settings


def fill_connection(args: argparse.Namespace) -> None:
    """Complete ``args.broker``, ``args.tls_dir`` and ``args.org`` or say which one is missing and how to give it."""
    if not getattr(args, "needs_connection", False):
        return
    profile: dict[str, str] | None = None
    missing = []
    for attribute, (flag, variable, _) in SETTINGS.items():
        if getattr(args, attribute, None):
            continue
        value = os.environ.get(variable)
        if not value:
            if profile is None:
                profile = read_profile(profile_path(), os.environ.get("LINKAGE_PROFILE_NAME"))
            value = profile.get(attribute)
        if value:
            setattr(args, attribute, value)
        else:
            missing.append(f"{flag} (or {variable}, or {attribute} in {profile_path()})")
    if missing:
        raise ConnectionSettingsError("missing connection setting(s): " + "; ".join(missing))
