"""BrokerService: who the caller is and what the broker accepts."""

from __future__ import annotations

from proto.linkage.v1 import broker_pb2, broker_pb2_grpc
from server.config import BrokerConfig
from server.guard import Guard, rpc
from linkage.signing_keys import public_pem
from server.linkage_config import LinkageConfiguration
from server.policy import authorise_info

SERVICE = "info"
VERSION = "1.0"


class BrokerService(broker_pb2_grpc.BrokerServiceServicer):
    SERVICE = SERVICE

    def __init__(self, guard: Guard, config: BrokerConfig, linkage: LinkageConfiguration, receipt_public_key) -> None:
        self.guard = guard
        self.config = config
        self.linkage = linkage
        self.receipt_public_pem = public_pem(receipt_public_key)

    @rpc
    def GetBrokerInfo(self, request, context):
        identity = self.guard.identify(context, SERVICE)
        policy = self.guard.policy
        self.guard.require(authorise_info(policy, identity.organisation), SERVICE, identity)
        return broker_pb2.BrokerInfo(
            organisation=identity.organisation,
            permissions=policy.permissions(identity.organisation),
            linkage_fingerprint=self.linkage.fingerprint,
            clk_bits=self.config.clk_bits,
            max_chunk_bytes=self.config.max_chunk_bytes,
            max_extract_bytes=self.config.max_extract_bytes,
            receipt_public_key=self.receipt_public_pem,
            policy_sha256=policy.sha256,
            version=VERSION,
        )
