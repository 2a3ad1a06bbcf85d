"""The linkage configuration the broker links: one fingerprint for every extract.

The fingerprint (``ExtractHeader.fingerprint``: schema, normalisation, token scheme and a
check value of the providers' shared secret) cannot be computed by the broker, which never
holds the secret. It is either set in the configuration (``linkage_fingerprint``), or
pinned by the first extract the broker accepts (trust on first use, recorded in the audit
log). From then on an extract with another fingerprint is refused with FAILED_PRECONDITION.
"""

from __future__ import annotations

import threading

from server.events import Recorder
from server.storage import Store
from server.validation import PRECONDITION, ExtractRejected

_KEY = "linkage_fingerprint"


class LinkageConfiguration:
    def __init__(self, store: Store, recorder: Recorder, configured: str = "") -> None:
        self.store = store
        self.recorder = recorder
        self._lock = threading.Lock()
        pinned = store.meta(_KEY)
        if configured and configured != pinned:
            store.set_meta(_KEY, configured)
            recorder.note("linkage_configuration", fingerprint=configured,
                          reason="set by the broker configuration")

    @property
    def fingerprint(self) -> str:
        """The expected fingerprint; empty while no extract has pinned it."""
        return self.store.meta(_KEY) or ""

    def claim(self, fingerprint: str) -> None:
        """Accept ``fingerprint`` (pinning it if none is set yet) or refuse the extract."""
        with self._lock:
            expected = self.fingerprint
            if not expected:
                self.store.set_meta(_KEY, fingerprint)
                self.recorder.note("linkage_configuration", fingerprint=fingerprint,
                                   reason="pinned by the first accepted extract")
                return
            if fingerprint != expected:
                raise ExtractRejected(
                    PRECONDITION,
                    f"the extract was encoded with linkage configuration {fingerprint[:23]}…, but this "
                    f"broker links {expected[:23]}…: encode again with the agreed schema and secret",
                )
