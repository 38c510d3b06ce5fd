"""The host ERP: the interface tramo's sync engine drives, and a reference ERP on SQLite."""

from tramo.erp.interface import Erp
from tramo.erp.reference import ReferenceErp

__all__ = ["Erp", "ReferenceErp"]
