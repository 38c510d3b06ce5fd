"""tramo: connect ERPs with e-commerce platforms and marketplace hubs through plugins.

The public API is what this module exports. Plugin authors need
:data:`hookimpl`, :class:`PluginInfo`, :class:`Setting`, the model and the
errors; hosts need :func:`discover`, :class:`Connection` and :class:`Store`.
"""

from tramo.capabilities import CAPABILITIES, PLUMBING
from tramo.connection import DEFAULT_TIMEZONE, Connection
from tramo.errors import (
    AuthenticationError,
    CapabilityNotSupported,
    ConfigurationError,
    IncompatiblePluginError,
    MappingError,
    PlatformError,
    PluginContractError,
    PluginLoadError,
    RateLimitedError,
    TramoError,
    TransientError,
    ValidationError,
)
from tramo.mapping import Mappings
from tramo.model import (
    Address,
    Attribute,
    Brand,
    Cancellation,
    Category,
    ConnectionReport,
    Contact,
    Customer,
    CustomerKind,
    Delivery,
    Dimensions,
    Held,
    Invoice,
    InvoiceKind,
    ItemChange,
    Order,
    OrderEdit,
    OrderItem,
    OrderStatus,
    Outcome,
    Payment,
    PlatformOption,
    Price,
    Product,
    SalesChannel,
    Shipping,
    StatusUpdate,
    StockLevel,
    StockReservation,
    Tracking,
    Variant,
    WebhookEvent,
    WriteResult,
)
from tramo.plugin import PLUGIN_API_VERSION, PluginInfo, Setting, hookimpl, hookspec
from tramo.registry import ENTRY_POINT_GROUP, PluginRecord, Registry, discover
from tramo.secrets import Secret
from tramo.state import ConnectionState, StateStore
from tramo.store import Store

__version__ = "0.1.0"

__all__ = [
    "CAPABILITIES", "DEFAULT_TIMEZONE", "ENTRY_POINT_GROUP", "PLUGIN_API_VERSION", "PLUMBING",
    "Address", "Attribute", "AuthenticationError", "Brand", "Cancellation",
    "CapabilityNotSupported", "Category", "ConfigurationError", "Connection",
    "ConnectionReport", "ConnectionState", "Contact", "Customer", "CustomerKind", "Delivery",
    "Dimensions", "Held", "IncompatiblePluginError", "Invoice", "InvoiceKind", "ItemChange",
    "MappingError", "Mappings", "Order", "OrderEdit", "OrderItem", "OrderStatus", "Outcome",
    "Payment", "PlatformError", "PlatformOption", "PluginContractError", "PluginInfo",
    "PluginLoadError", "PluginRecord", "Price", "Product", "RateLimitedError", "Registry",
    "SalesChannel", "Secret", "Setting", "Shipping", "StateStore", "StatusUpdate",
    "StockLevel", "StockReservation", "Store", "Tracking", "TramoError", "TransientError",
    "ValidationError", "Variant", "WebhookEvent", "WriteResult", "__version__", "discover",
    "hookimpl", "hookspec",
]
