"""Health probe for the container and for monitoring: is the broker SERVING?

    python deploy/healthcheck.py --broker 127.0.0.1:50051 --tls-dir /etc/linkage/tls --org probe

Calls the standard ``grpc.health.v1.Health/Check`` over mutual TLS with the certificate
``TLS_DIR/ORG.crt`` / ``ORG.key`` (a certificate of its own, ``linkage pki issue DIR probe``,
so that revoking it never locks out an organisation). Exit 0: serving; 1: not serving or not
reachable, with the reason on one line.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from clients.broker_cmds import connect
from linkage.errors import LinkageError


def probe(broker: str, tls_dir: str, org: str, timeout: float) -> str | None:
    """``None`` when the broker answers SERVING, else why not."""
    try:
        with connect(broker, tls_dir, org) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
    except grpc.RpcError as exc:
        return f"{exc.code().name}: {exc.details()}"
    except LinkageError as exc:
        return str(exc)
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 when the broker's health service answers SERVING.")
    parser.add_argument("--broker", default="127.0.0.1:50051", metavar="HOST:PORT")
    parser.add_argument("--tls-dir", required=True, metavar="DIR", help="holds ca.crt, ORG.crt and ORG.key")
    parser.add_argument("--org", default="probe", metavar="NAME", help="the probe certificate's name (default probe)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    problem = probe(args.broker, args.tls_dir, args.org, args.timeout)
    print(f"broker {args.broker}: {problem or 'SERVING'}", file=sys.stderr if problem else sys.stdout)
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
