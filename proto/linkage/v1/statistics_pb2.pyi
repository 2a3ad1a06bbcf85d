from proto.linkage.v1 import audit_pb2 as _audit_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AggregateRequest(_message.Message):
    __slots__ = ("authorisation", "population", "periods", "measures", "dimensions", "reference_date", "accept_coarser")
    AUTHORISATION_FIELD_NUMBER: _ClassVar[int]
    POPULATION_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_COARSER_FIELD_NUMBER: _ClassVar[int]
    authorisation: str
    population: str
    periods: _containers.RepeatedScalarFieldContainer[int]
    measures: _containers.RepeatedScalarFieldContainer[str]
    dimensions: _containers.RepeatedScalarFieldContainer[str]
    reference_date: str
    accept_coarser: bool
    def __init__(self, authorisation: _Optional[str] = ..., population: _Optional[str] = ..., periods: _Optional[_Iterable[int]] = ..., measures: _Optional[_Iterable[str]] = ..., dimensions: _Optional[_Iterable[str]] = ..., reference_date: _Optional[str] = ..., accept_coarser: _Optional[bool] = ...) -> None: ...

class CellCoordinate(_message.Message):
    __slots__ = ("dimension", "category")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    dimension: str
    category: str
    def __init__(self, dimension: _Optional[str] = ..., category: _Optional[str] = ...) -> None: ...

class Cell(_message.Message):
    __slots__ = ("coordinates", "measure", "value", "numerator", "denominator", "status", "reason")
    COORDINATES_FIELD_NUMBER: _ClassVar[int]
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    coordinates: _containers.RepeatedCompositeFieldContainer[CellCoordinate]
    measure: str
    value: float
    numerator: int
    denominator: int
    status: str
    reason: str
    def __init__(self, coordinates: _Optional[_Iterable[_Union[CellCoordinate, _Mapping]]] = ..., measure: _Optional[str] = ..., value: _Optional[float] = ..., numerator: _Optional[int] = ..., denominator: _Optional[int] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AggregateResponse(_message.Message):
    __slots__ = ("cells", "definitions_version", "registry_version", "rules_version", "authorisation", "min_cell_size", "run_id", "coarsening", "audit_receipt")
    CELLS_FIELD_NUMBER: _ClassVar[int]
    DEFINITIONS_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    RULES_VERSION_FIELD_NUMBER: _ClassVar[int]
    AUTHORISATION_FIELD_NUMBER: _ClassVar[int]
    MIN_CELL_SIZE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    COARSENING_FIELD_NUMBER: _ClassVar[int]
    AUDIT_RECEIPT_FIELD_NUMBER: _ClassVar[int]
    cells: _containers.RepeatedCompositeFieldContainer[Cell]
    definitions_version: str
    registry_version: str
    rules_version: str
    authorisation: str
    min_cell_size: int
    run_id: str
    coarsening: _containers.RepeatedScalarFieldContainer[str]
    audit_receipt: _audit_pb2.AuditReceipt
    def __init__(self, cells: _Optional[_Iterable[_Union[Cell, _Mapping]]] = ..., definitions_version: _Optional[str] = ..., registry_version: _Optional[str] = ..., rules_version: _Optional[str] = ..., authorisation: _Optional[str] = ..., min_cell_size: _Optional[int] = ..., run_id: _Optional[str] = ..., coarsening: _Optional[_Iterable[str]] = ..., audit_receipt: _Optional[_Union[_audit_pb2.AuditReceipt, _Mapping]] = ...) -> None: ...
