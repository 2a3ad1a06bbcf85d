"""Disclosure control for released tables: primary rules, secondary suppression, an
attacker audit, and a release ledger against differencing.

Entry points: ``release_tables`` (the broker: the tables of one request over persons,
audited jointly with every earlier release in a ``PersonLedger``), ``protect`` (one table,
optionally against a name-keyed ``ReleaseLedger``, for ``linkage protect``),
``table_rows`` (render a ``ProtectedTable`` for CSV/JSON), and ``cellkey`` (the perturbation
table weighed, not adopted).
"""

from linkage.disclosure.errors import (AuditUnfinished, DisclosureError, LedgerError,
                                       ProtectionRefused, TableError, ThresholdError)
from linkage.disclosure.ledger import ReleaseLedger
from linkage.disclosure.person_ledger import AeadSealer, PersonLedger, Sealer
from linkage.disclosure.protect import DEFAULT_K, protect
from linkage.disclosure.reads import Reads
from linkage.disclosure.release import (ReleasedTable, TableInput, release_alone,
                                        release_tables)
from linkage.disclosure.result import (RULES_VERSION, AuditSummary, Cell, ProtectedTable,
                                       table_rows)
from linkage.disclosure.table import TOTAL, Dimension

__all__ = [
    "DEFAULT_K", "RULES_VERSION", "TOTAL", "AeadSealer", "AuditSummary", "AuditUnfinished", "Cell", "Dimension",
    "DisclosureError", "LedgerError", "PersonLedger", "ProtectedTable", "ProtectionRefused",
    "Reads", "ReleaseLedger", "ReleasedTable", "Sealer", "TableError", "TableInput", "ThresholdError",
    "protect", "release_alone", "release_tables", "table_rows",
]
