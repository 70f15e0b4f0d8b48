"""The order feed: import with a per-row validation report, and a customer-scoped lookup.

The lookup is the only way drafting reads orders, and it is scoped by construction: every
read takes the customer id, and an order number quoted in a message is returned only when it
belongs to that customer. Another customer's order is reported as "foreign" by the number as
quoted, never with its contents.

``model``: the Order, its customer, the feed's fields; ``feed``: reading a feed file;
``validation``: its records checked; ``references``: order numbers as customers quote them;
``tables``: the SQL tables and their migrations; ``book``: the :class:`OrderBook` over them;
``itemvectors``: the vectors of the item names, kept for order resolution.
"""

from knowledge.orders.book import SHAPES_TTL_S, OrderBook
from knowledge.orders.feed import read_feed
from knowledge.orders.itemvectors import ItemVectors
from knowledge.orders.model import (
    CLOSED_STATUSES,
    FIELDS,
    OPTIONAL_FIELDS,
    REQUIRED,
    STATUSES,
    Customer,
    ImportReport,
    Item,
    Order,
    QuoteLookup,
    RowProblem,
    order_key,
)
from knowledge.orders.references import (
    MIN_CUED_DIGITS,
    MIN_SUFFIX_DIGITS,
    Reference,
    ReferenceShape,
)
from knowledge.orders.tables import (
    MIGRATIONS,
    add_missing_columns,
    customers_table,
    metadata,
    orders_table,
)
from knowledge.orders.validation import MAX_AMOUNT, validate_record, validate_rows

__all__ = [
    "CLOSED_STATUSES",
    "FIELDS",
    "MAX_AMOUNT",
    "MIGRATIONS",
    "MIN_CUED_DIGITS",
    "MIN_SUFFIX_DIGITS",
    "OPTIONAL_FIELDS",
    "REQUIRED",
    "SHAPES_TTL_S",
    "STATUSES",
    "Customer",
    "ImportReport",
    "Item",
    "ItemVectors",
    "Order",
    "OrderBook",
    "QuoteLookup",
    "Reference",
    "ReferenceShape",
    "RowProblem",
    "add_missing_columns",
    "customers_table",
    "metadata",
    "order_key",
    "orders_table",
    "read_feed",
    "validate_record",
    "validate_rows",
]
