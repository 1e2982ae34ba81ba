"""API keys: `Authorization: Bearer <key>` on the routes that need one (/v1/*, write routes).

API_KEYS (Settings.api_keys) holds, comma-separated, any of: a key as it is; `sha256:<hex>`,
the SHA-256 digest of a key; the path of a file (`/…`, `./…`, `../…`, `~/…`) of digests, one a
line in hex (`printf %s "$KEY" | sha256sum >> keys` writes one; text after the digest and lines
starting with # are ignored). Only digests are kept: a presented key is hashed and compared
with every digest in constant time (hmac.compare_digest), and no key is ever logged. No keys:
/v1/* is open, and the service warns at start-up when it listens beyond loopback; the write
routes (POST/PUT/DELETE /documents) are disabled (403) unless ALLOW_OPEN_WRITES=true.

A route takes the check as a dependency: `dependencies=[RequireKey]` (see routes/chat.py), or
`dependencies=[RequireWriteKey]` for a write (routes/documents_write.py).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, ClassVar

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from indexer.errors import ReportQAError
from service.settings import Settings

log = logging.getLogger("service.api")

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_PATH_PREFIXES = ("/", "./", "../", "~/")


class KeyConfigError(ReportQAError):
    """API_KEYS names a file that cannot be read or holds something that is not a digest."""

    code = "bad_api_keys"


class Unauthorized(ReportQAError):
    """A request to a protected route without a valid key (HTTP 401)."""

    code = "invalid_api_key"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


class MissingKey(Unauthorized):
    code = "missing_api_key"


class WritesDisabled(ReportQAError):
    """A write route while no API_KEYS are set and ALLOW_OPEN_WRITES is off (HTTP 403)."""

    code = "writes_disabled"


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The SHA-256 digests of the accepted keys; empty: every request is let in."""

    digests: tuple[bytes, ...] = ()

    def __repr__(self) -> str:
        return f"KeyRing({len(self.digests)} keys)"

    @property
    def open(self) -> bool:
        return not self.digests

    def accepts(self, key: str) -> bool:
        """Whether a presented key is one of the ring's, in time that does not depend on which
        digest (if any) it matches."""
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        found = False
        for known in self.digests:
            found |= hmac.compare_digest(known, digest)
        return found


def _digest_of(text: str, where: str) -> bytes:
    if not _HEX_DIGEST.fullmatch(text):
        raise KeyConfigError(
            f"{where} is not a SHA-256 digest (64 hex digits): write the digest of each key, "
            'e.g. printf %s "$KEY" | sha256sum'
        )
    return bytes.fromhex(text)


def _read_file(path: Path) -> list[bytes]:
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyConfigError(
            f"API_KEYS names the key file {path}, which cannot be read ({exc}): fix the path "
            "or list the keys themselves, comma-separated"
        ) from exc
    out = []
    for n, line in enumerate(lines, 1):
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            out.append(_digest_of(fields[0], f"line {n} of the key file {path}"))
    if not out:
        raise KeyConfigError(
            f"the key file {path} (API_KEYS) holds no digest: add one per line, or unset "
            "API_KEYS to leave the API open"
        )
    return out


def load_keys(entries: Iterable[SecretStr | str]) -> KeyRing:
    """The key ring API_KEYS describes (see the module docstring).

    Raises:
        KeyConfigError: a key file that cannot be read, or a malformed digest.
    """
    digests: list[bytes] = []
    for entry in entries:
        value = entry.get_secret_value() if isinstance(entry, SecretStr) else entry
        if value.startswith(_PATH_PREFIXES):
            digests += _read_file(Path(value))
        elif value.lower().startswith("sha256:"):
            digests.append(_digest_of(value[len("sha256:") :], "an API_KEYS sha256: entry"))
        else:
            digests.append(hashlib.sha256(value.encode("utf-8")).digest())
    return KeyRing(tuple(dict.fromkeys(digests)))


def loopback(host: str) -> bool:
    """Whether a bind address is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def install(app: FastAPI, settings: Settings) -> KeyRing:
    """Load the keys onto the app (app.state.api_keys); warn when open beyond loopback."""
    keys = load_keys(settings.api_keys)
    app.state.api_keys = keys
    if keys.open and not loopback(settings.host):
        log.warning(
            "API_KEYS is not set and the service listens on %s: /v1/* is open to anyone who "
            "can reach it; set API_KEYS to require Authorization: Bearer <key>",
            settings.host,
        )
    elif not keys.open:
        log.info("API keys: %d accepted on /v1/*", len(keys.digests))
    return keys


_bearer = HTTPBearer(
    auto_error=False,
    description="A key from API_KEYS; not needed when the service has none configured.",
)


async def require_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The route's dependency: 401 without a valid key, when keys are configured."""
    keys: KeyRing = request.app.state.api_keys
    if keys.open:
        return
    if credentials is None:
        raise MissingKey(
            "this route needs an API key: send the header Authorization: Bearer <key> (a key "
            "from the service's API_KEYS)"
        )
    if not keys.accepts(credentials.credentials):
        raise Unauthorized(
            "the API key is not valid: send Authorization: Bearer <key> with a key from the "
            "service's API_KEYS"
        )


RequireKey = Depends(require_key)


async def require_write_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """A write route's dependency: a valid key when keys are set; without keys, 403 unless
    ALLOW_OPEN_WRITES=true."""
    keys: KeyRing = request.app.state.api_keys
    if keys.open:
        if request.app.state.api.settings.allow_open_writes:
            return
        raise WritesDisabled(
            "writes are disabled: set API_KEYS and send Authorization: Bearer <key>, or set "
            "ALLOW_OPEN_WRITES=true to allow them without a key"
        )
    await require_key(request, credentials)


RequireWriteKey = Depends(require_write_key)
