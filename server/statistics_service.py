"""StatisticsService: aggregate tables under an authorisation (placeholder).

The aggregate step (``linkage.aggregate``) implements ``Aggregate``. Until then a call is
authenticated like any other and answered with UNIMPLEMENTED.
"""

from __future__ import annotations

import grpc

from proto.linkage.v1 import statistics_pb2_grpc
from server.guard import Guard, Refused, rpc

SERVICE = "statistics"


class StatisticsService(statistics_pb2_grpc.StatisticsServiceServicer):
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    @rpc
    def Aggregate(self, request, context):
        self.guard.identify(context, SERVICE)
        raise Refused(
            grpc.StatusCode.UNIMPLEMENTED,
            "aggregate tables are not served by this broker version yet; compute them offline "
            "with 'linkage aggregate' on the broker host",
        )
