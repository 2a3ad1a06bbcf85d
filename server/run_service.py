"""RunService: start linkage runs and read their parameters, progress and quality."""

from __future__ import annotations

import json

import grpc

from proto.linkage.v1 import broker_pb2, broker_pb2_grpc
from server.guard import Guard, Refused, rpc
from server.policy import authorise_run, authorise_run_read
from server.runs import RunError, RunManager
from server.storage import RunRecord, Store

SERVICE = "runs"
_STATES = {
    "running": broker_pb2.RUN_STATE_RUNNING,
    "completed": broker_pb2.RUN_STATE_COMPLETED,
    "failed": broker_pb2.RUN_STATE_FAILED,
    "interrupted": broker_pb2.RUN_STATE_INTERRUPTED,
    "deleted": broker_pb2.RUN_STATE_DELETED,
}


def run_message(run: RunRecord) -> broker_pb2.Run:
    return broker_pb2.Run(
        run_id=run.run_id,
        state=_STATES[run.state],
        started_at=run.started_at,
        finished_at=run.finished_at or "",
        started_by=run.started_by,
        inputs=[broker_pb2.RunInput(**item) for item in run.inputs],
        threshold=run.threshold or 0.0,
        threshold_origin=run.threshold_origin or run.parameters.get("threshold_origin", ""),
        entity_count=run.entity_count or 0,
        parameters_json=json.dumps(run.parameters, sort_keys=True),
        quality_json=json.dumps(run.quality, sort_keys=True),
        error=run.error or "",
    )


class RunService(broker_pb2_grpc.RunServiceServicer):
    SERVICE = SERVICE

    def __init__(self, guard: Guard, store: Store, runs: RunManager) -> None:
        self.guard = guard
        self.store = store
        self.runs = runs

    def _reader(self, context) -> None:
        identity = self.guard.identify(context, SERVICE)
        self.guard.require(authorise_run_read(self.guard.policy, identity.organisation), SERVICE, identity)

    def _find(self, run_id: str) -> RunRecord:
        if not run_id:
            latest = self.store.runs(limit=1)
            if not latest:
                raise Refused(grpc.StatusCode.NOT_FOUND, "no linkage run yet; start one with 'linkage run'")
            return latest[0]
        run = self.store.run(run_id)
        if run is None:
            raise Refused(grpc.StatusCode.NOT_FOUND, "no run with this id; 'linkage runs' lists them")
        return run

    @rpc
    def StartRun(self, request, context):
        identity = self.guard.identify(context, SERVICE)
        self.guard.require(authorise_run(self.guard.policy, identity.organisation), SERVICE, identity)
        threshold = request.threshold if request.HasField("threshold") else None
        if threshold is not None and not 0 < threshold <= 1:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, f"threshold must lie in (0, 1], not {threshold}")
        try:
            run, _ = self.runs.start(identity.organisation, threshold)
        except RunError as exc:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, str(exc)) from None
        return run_message(run)

    @rpc
    def GetRun(self, request, context):
        self._reader(context)
        return run_message(self._find(request.run_id))

    @rpc
    def ListRuns(self, request, context):
        self._reader(context)
        limit = min(request.limit or 20, 1000)
        return broker_pb2.ListRunsResponse(runs=[run_message(run) for run in self.store.runs(limit=limit)])

    @rpc
    def WatchRun(self, request, context):
        self._reader(context)
        run = self._find(request.run_id)
        for progress in self.runs.watch(run.run_id):
            if not context.is_active():
                return
            if not progress.done:
                yield broker_pb2.RunProgress(run_id=run.run_id, state=broker_pb2.RUN_STATE_RUNNING,
                                             stage=progress.stage, fraction=progress.fraction)
        final = self.store.run(run.run_id)
        yield broker_pb2.RunProgress(run_id=final.run_id, state=_STATES[final.state], stage=final.state,
                                     fraction=1.0, run=run_message(final))
