"""The committed generated code is exactly what grpcio-tools makes from proto/."""

from __future__ import annotations

import importlib

from proto.generate import API, ROOT, generate


def test_generated_code_matches_the_proto_files(tmp_path):
    generate(tmp_path)
    fresh = sorted(p.name for p in (tmp_path / API).iterdir())
    committed = sorted(p.name for p in (ROOT / API).iterdir() if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")))
    assert fresh == committed, "run: .venv/bin/python -m proto.generate"
    for name in fresh:
        assert (tmp_path / API / name).read_text() == (ROOT / API / name).read_text(), (
            f"{name} differs from proto/: run .venv/bin/python -m proto.generate"
        )


def test_generated_modules_do_not_shadow_the_linkage_library():
    module = importlib.import_module("proto.linkage.v1.broker_pb2")
    assert module.DESCRIPTOR.package == "linkage.v1"
    assert importlib.import_module("linkage").__file__.endswith("linkage/__init__.py")
    assert "proto" not in importlib.import_module("linkage").__file__
