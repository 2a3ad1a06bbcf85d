"""Generate the Python gRPC code from the .proto files: ``python -m proto.generate [OUT]``.

Compiles with ``-I .`` from the repository root, so the modules are
``proto/linkage/v1/*_pb2.py`` and are imported as ``proto.linkage.v1.broker_pb2``: they
never collide with the ``linkage`` library package. Without OUT the files are written next
to the .proto files (the committed copies); a test regenerates into a temporary folder and
fails when the two differ.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
API = Path("proto/linkage/v1")


def proto_files() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / API).glob("*.proto"))


def generate(out: Path = ROOT) -> None:
    include = Path(protoc.__file__).parent / "_proto"
    arguments = [
        "grpc_tools.protoc",
        "-I.",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *proto_files(),
    ]
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        status = protoc.main(arguments)
    finally:
        os.chdir(previous)
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
