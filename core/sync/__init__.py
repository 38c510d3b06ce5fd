"""The sync engine: flows between a host ERP and its connections, with their memory.

:class:`Tramo` is the facade a host uses; :mod:`tramo.sync.flows` holds the
flows, :mod:`tramo.sync.ledger` what they remember, :mod:`tramo.sync.report`
what a run tells.
"""

from tramo.sync.engine import FLOW_NAMES, Tramo
from tramo.sync.ledger import Busy, Ledger
from tramo.sync.report import FlowReport, RunReport

__all__ = ["FLOW_NAMES", "Busy", "FlowReport", "Ledger", "RunReport", "Tramo"]
