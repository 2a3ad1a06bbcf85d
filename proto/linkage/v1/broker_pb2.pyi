from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_COMPLETED: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]
    RUN_STATE_INTERRUPTED: _ClassVar[RunState]
    RUN_STATE_DELETED: _ClassVar[RunState]
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_COMPLETED: RunState
RUN_STATE_FAILED: RunState
RUN_STATE_INTERRUPTED: RunState
RUN_STATE_DELETED: RunState

class GetBrokerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BrokerInfo(_message.Message):
    __slots__ = ("organisation", "permissions", "linkage_fingerprint", "clk_bits", "max_chunk_bytes", "max_extract_bytes", "receipt_public_key", "policy_sha256", "version")
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    LINKAGE_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    CLK_BITS_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_EXTRACT_BYTES_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    POLICY_SHA256_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    organisation: str
    permissions: _containers.RepeatedScalarFieldContainer[str]
    linkage_fingerprint: str
    clk_bits: int
    max_chunk_bytes: int
    max_extract_bytes: int
    receipt_public_key: bytes
    policy_sha256: str
    version: str
    def __init__(self, organisation: _Optional[str] = ..., permissions: _Optional[_Iterable[str]] = ..., linkage_fingerprint: _Optional[str] = ..., clk_bits: _Optional[int] = ..., max_chunk_bytes: _Optional[int] = ..., max_extract_bytes: _Optional[int] = ..., receipt_public_key: _Optional[bytes] = ..., policy_sha256: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ExtractManifest(_message.Message):
    __slots__ = ("source", "content_sha256", "size_bytes")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    source: str
    content_sha256: str
    size_bytes: int
    def __init__(self, source: _Optional[str] = ..., content_sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class BeginUploadRequest(_message.Message):
    __slots__ = ("manifest",)
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    manifest: ExtractManifest
    def __init__(self, manifest: _Optional[_Union[ExtractManifest, _Mapping]] = ...) -> None: ...

class BeginUploadResponse(_message.Message):
    __slots__ = ("offset", "receipt", "max_chunk_bytes")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    offset: int
    receipt: UploadReceipt
    max_chunk_bytes: int
    def __init__(self, offset: _Optional[int] = ..., receipt: _Optional[_Union[UploadReceipt, _Mapping]] = ..., max_chunk_bytes: _Optional[int] = ...) -> None: ...

class UploadStart(_message.Message):
    __slots__ = ("manifest", "offset")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    manifest: ExtractManifest
    offset: int
    def __init__(self, manifest: _Optional[_Union[ExtractManifest, _Mapping]] = ..., offset: _Optional[int] = ...) -> None: ...

class UploadChunk(_message.Message):
    __slots__ = ("start", "data")
    START_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    start: UploadStart
    data: bytes
    def __init__(self, start: _Optional[_Union[UploadStart, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadReceipt(_message.Message):
    __slots__ = ("statement", "signature", "extract_id", "source", "record_count", "duplicate")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    EXTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    statement: bytes
    signature: bytes
    extract_id: str
    source: str
    record_count: int
    duplicate: bool
    def __init__(self, statement: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., extract_id: _Optional[str] = ..., source: _Optional[str] = ..., record_count: _Optional[int] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class GetReceiptRequest(_message.Message):
    __slots__ = ("extract_id",)
    EXTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    extract_id: str
    def __init__(self, extract_id: _Optional[str] = ...) -> None: ...

class StartRunRequest(_message.Message):
    __slots__ = ("threshold",)
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    threshold: float
    def __init__(self, threshold: _Optional[float] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[Run]
    def __init__(self, runs: _Optional[_Iterable[_Union[Run, _Mapping]]] = ...) -> None: ...

class RunInput(_message.Message):
    __slots__ = ("source", "extract_id", "record_count")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    source: str
    extract_id: str
    record_count: int
    def __init__(self, source: _Optional[str] = ..., extract_id: _Optional[str] = ..., record_count: _Optional[int] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("run_id", "state", "started_at", "finished_at", "started_by", "inputs", "threshold", "threshold_origin", "entity_count", "parameters_json", "quality_json", "error")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_BY_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ENTITY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_JSON_FIELD_NUMBER: _ClassVar[int]
    QUALITY_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    state: RunState
    started_at: str
    finished_at: str
    started_by: str
    inputs: _containers.RepeatedCompositeFieldContainer[RunInput]
    threshold: float
    threshold_origin: str
    entity_count: int
    parameters_json: str
    quality_json: str
    error: str
    def __init__(self, run_id: _Optional[str] = ..., state: _Optional[_Union[RunState, str]] = ..., started_at: _Optional[str] = ..., finished_at: _Optional[str] = ..., started_by: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[RunInput, _Mapping]]] = ..., threshold: _Optional[float] = ..., threshold_origin: _Optional[str] = ..., entity_count: _Optional[int] = ..., parameters_json: _Optional[str] = ..., quality_json: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class RunProgress(_message.Message):
    __slots__ = ("run_id", "state", "stage", "fraction", "run")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    state: RunState
    stage: str
    fraction: float
    run: Run
    def __init__(self, run_id: _Optional[str] = ..., state: _Optional[_Union[RunState, str]] = ..., stage: _Optional[str] = ..., fraction: _Optional[float] = ..., run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...
