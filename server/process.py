"""The broker as a child process (``linkage serve``), for tests, benchmarks and demos.

``BrokerProcess`` starts ``linkage serve --listen 127.0.0.1:0`` and reads the bound port
from the broker's structured log, which it keeps in a file next to the data directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class BrokerProcess:
    """``linkage serve`` as a child process; ``address`` is where it listens."""

    def __init__(self, pki: Path, policy: Path, data_dir: Path, *extra: str) -> None:
        self.log_path = data_dir.parent / f"broker-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clients.cli", "serve", "--listen", "127.0.0.1:0", "--tls-dir", str(pki),
             "--policy", str(policy), "--data-dir", str(data_dir), *extra],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=self._log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.port = self.wait_for("broker.listening")["port"]
        self.address = f"127.0.0.1:{self.port}"

    def events(self) -> list[dict]:
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_for(self, event: str, timeout: float = 30.0) -> dict:
        """The first log event named ``event``, waiting for it to appear."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.events():
                if item.get("event") == event:
                    return item
            if self.process.poll() is not None:
                raise RuntimeError(f"broker exited with {self.process.returncode}: {self.log_path.read_text()}")
            time.sleep(0.05)
        raise TimeoutError(f"no {event} from the broker within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: the broker gets no chance to clean up (crash tests)."""
        self.process.kill()
        self.process.wait(10)
        self._log.close()

    def terminate(self, timeout: float = 30.0) -> int:
        self.process.terminate()
        code = self.process.wait(timeout)
        self._log.close()
        return code
