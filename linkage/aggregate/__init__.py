"""Aggregate tables for the statistics service: registry, requests, exact counts, answers.

A request (``request.py``) names registered populations, measures and dimensions
(``registry.py``); ``plan.py`` resolves it once (sources read, resolved dimensions, what
decides each table's cells); ``compute.py`` counts it exactly over the broker's linked data
with DuckDB, in one pass; ``service.py`` passes every table through disclosure control and returns the
answer (``answer.py``), which ``plot.py`` draws. ``truth.py`` computes the same tables from
the synthetic generator's ground truth. See docs/aggregate.md.
"""

from linkage.aggregate.answer import AggregateAnswer, AnswerCell, AnswerDimension, AnswerTable
from linkage.aggregate.compute import LeafTable, LinkedData, LinkedDataError, compute, linked_data_from_clusters
from linkage.aggregate.conditions import RegistryError
from linkage.aggregate.registry import REGISTRY_VERSION
from linkage.aggregate.request import AggregateRequest, RequestError, load_request, parse_request, validate_request
from linkage.aggregate.plan import Plan, plan
from linkage.aggregate.service import answer_request

__all__ = [
    "REGISTRY_VERSION", "AggregateAnswer", "AggregateRequest", "AnswerCell", "AnswerDimension",
    "AnswerTable", "LeafTable", "LinkedData", "LinkedDataError", "Plan", "RegistryError", "RequestError",
    "answer_request", "compute", "linked_data_from_clusters", "load_request", "parse_request",
    "plan", "validate_request",
]
