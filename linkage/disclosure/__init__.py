"""Disclosure control for released tables: primary rules, secondary suppression, an
attacker audit, a release ledger against differencing, and optional cell-key perturbation.

Entry points: ``protect`` (one table, optionally against a ``ReleaseLedger``),
``table_rows`` (render a ``ProtectedTable`` for CSV/JSON), and ``cellkey`` (perturbation).
"""

from linkage.disclosure.errors import (DisclosureError, LedgerError, ProtectionRefused,
                                       TableError, ThresholdError)
from linkage.disclosure.ledger import ReleaseLedger
from linkage.disclosure.protect import DEFAULT_K, protect
from linkage.disclosure.result import AuditSummary, Cell, ProtectedTable, table_rows
from linkage.disclosure.table import TOTAL, Dimension

__all__ = [
    "DEFAULT_K", "TOTAL", "AuditSummary", "Cell", "Dimension", "DisclosureError",
    "LedgerError", "ProtectedTable", "ProtectionRefused", "ReleaseLedger", "TableError",
    "ThresholdError", "protect", "table_rows",
]
