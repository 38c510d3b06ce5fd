"""Every GraphQL operation the shopify plugin sends, by name.

Kept apart from the code that sends them so a test can validate each one
against the sandbox's schema (``schema.graphql``): a field the plugin asks
for that Shopify's schema lacks fails there, not in a merchant's store.
Each document holds one operation; its name keys the cost the client has
learned for it (Shopify reports a query's requested cost on every answer).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["OPERATIONS", "SCHEMA_PATH", "ORDER_FIELDS", "PRODUCT_FIELDS", "bulk_orders", "bulk_products"]

#: the schema every operation is validated against (the sandbox serves it)
SCHEMA_PATH = Path(__file__).with_name("schema.graphql")

MONEY = "shopMoney { amount currencyCode }"

ADDRESS = ("name firstName lastName company address1 address2 city province provinceCode zip "
           "country countryCodeV2 phone")

ORDER_FIELDS = f"""
  id legacyResourceId name createdAt updatedAt processedAt cancelledAt cancelReason closed test
  email phone note tags sourceName currencyCode displayFinancialStatus displayFulfillmentStatus
  fullyPaid edited paymentGatewayNames currentSubtotalLineItemsQuantity
  customAttributes {{ key value }}
  totalPriceSet {{ {MONEY} }}
  currentTotalPriceSet {{ {MONEY} }}
  totalShippingPriceSet {{ {MONEY} }}
  currentTotalDiscountsSet {{ {MONEY} }}
  customer {{ id firstName lastName displayName email phone }}
  billingAddress {{ {ADDRESS} }}
  shippingAddress {{ {ADDRESS} }}
  transactions(first: 5) {{ kind status gateway processedAt amountSet {{ {MONEY} }} }}
  fulfillments(first: 5) {{ id status displayStatus trackingInfo(first: 3) {{ company number url }} }}
  invoiceKey: metafield(namespace: $invoiceNamespace, key: "access_key") {{ value }}
"""

SHIPPING_FIELDS = f"""
  id title code source carrierIdentifier
  originalPriceSet {{ {MONEY} }} discountedPriceSet {{ {MONEY} }}
"""

LINE_FIELDS = f"""
  id name sku quantity currentQuantity
  originalUnitPriceSet {{ {MONEY} }}
  totalDiscountSet {{ {MONEY} }}
"""

PRODUCT_FIELDS = """
  id handle title descriptionHtml vendor productType status tags updatedAt
  code: metafield(namespace: $codeNamespace, key: $codeKey) { value }
"""

VARIANT_FIELDS = """
  id sku barcode price compareAtPrice position
  selectedOptions { name value }
  image { url }
  inventoryItem { id measurement { weight { value unit } } }
"""

MEDIA_FIELDS = "id alt mediaContentType status preview { image { url } }"

SHOP = """
query Shop {
  shop { id name myshopifyDomain currencyCode ianaTimezone plan { displayName shopifyPlus } }
  locations(first: 50) { nodes { id name isActive } }
}
"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String, $invoiceNamespace: String!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {ORDER_FIELDS}
      shippingLines(first: 2) {{ nodes {{ {SHIPPING_FIELDS} }} }}
      lineItems(first: 10) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_FIELDS} }} }}
    }}
  }}
}}
"""

ORDERS_BY_ID = f"""
query OrdersById($ids: [ID!]!, $invoiceNamespace: String!) {{
  nodes(ids: $ids) {{
    ... on Order {{
      {ORDER_FIELDS}
      shippingLines(first: 2) {{ nodes {{ {SHIPPING_FIELDS} }} }}
      lineItems(first: 10) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_FIELDS} }} }}
    }}
  }}
}}
"""

ORDER_LINES = f"""
query OrderLines($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_FIELDS} }} }}
  }}
}}
"""

ORDER_STATE = """
query OrderState($id: ID!, $invoiceNamespace: String!) {
  order(id: $id) {
    id cancelledAt displayFinancialStatus displayFulfillmentStatus
    fulfillmentOrders(first: 5) { nodes { id status } }
    fulfillments(first: 10) {
      id status displayStatus deliveredAt
      trackingInfo(first: 5) { company number url }
    }
    invoice: metafields(first: 20, namespace: $invoiceNamespace) { nodes { key value } }
  }
}
"""

PRODUCTS = f"""
query Products($first: Int!, $after: String, $query: String, $codeNamespace: String!, $codeKey: String!) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {PRODUCT_FIELDS}
      variants(first: 20) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }}
      media(first: 10) {{ nodes {{ {MEDIA_FIELDS} }} }}
    }}
  }}
}}
"""

PRODUCT_VARIANTS = f"""
query ProductVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }}
  }}
}}
"""

VARIANTS_BY_SKU = """
query VariantsBySku($first: Int!, $query: String!) {
  productVariants(first: $first, query: $query) {
    nodes { id sku price compareAtPrice product { id } inventoryItem { id } }
  }
}
"""

INVENTORY_LEVELS = """
query InventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

PRICE_LISTS = """
query PriceLists($after: String) {
  priceLists(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name currency }
  }
}
"""

VARIANT_PRICES = """
query VariantPrices($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ProductVariant { id price compareAtPrice } }
}
"""

PRICE_LIST_PRICES = """
query PriceListPrices($id: ID!, $query: String!) {
  priceList(id: $id) {
    prices(first: 250, query: $query) {
      nodes { variant { id } price { amount currencyCode } compareAtPrice { amount currencyCode } }
    }
  }
}
"""

COLLECTION_BY_HANDLE = """
query CollectionByHandle($handle: String!) {
  collectionByIdentifier(identifier: {handle: $handle}) { id handle title }
}
"""

CODE_DEFINITION = """
query CodeDefinition($namespace: String!, $key: String!) {
  metafieldDefinitions(first: 1, ownerType: PRODUCT, namespace: $namespace, key: $key) {
    nodes { id capabilities { uniqueValues { enabled } } }
  }
}
"""

JOBS = """
query Jobs($ids: [ID!]!) {
  nodes(ids: $ids) { ... on BulkOperation { id status errorCode objectCount url partialDataUrl } }
}
"""

CURRENT_BULK = """
query CurrentBulk {
  currentBulkOperation(type: QUERY) { id status query }
}
"""

JOB = """
query Job($id: ID!) {
  job(id: $id) { id done }
}
"""

PRODUCT_SET = """
mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product {
      id
      variants(first: 250) { nodes { id sku inventoryItem { id } } }
    }
    userErrors { field code message }
  }
}
"""

VARIANTS_BULK_UPDATE = """
mutation VariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price compareAtPrice }
    userErrors { field code message }
  }
}
"""

# From 2026-04 Shopify refuses an inventory mutation without @idempotent; before, the
# directive is optional and compareQuantity is the concurrency check.
INVENTORY_SET = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { reason changes { name delta } }
    userErrors { code field message }
  }
}
"""

# Before 2026-01 the @idempotent directive does not exist: the same mutation without it.
INVENTORY_SET_PLAIN = """
mutation InventorySetPlain($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason changes { name delta } }
    userErrors { code field message }
  }
}
"""

PRICE_LIST_ADD = """
mutation PriceListAdd($priceListId: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $priceListId, prices: $prices) {
    prices { variant { id } price { amount currencyCode } }
    userErrors { field code message }
  }
}
"""

COLLECTION_CREATE = """
mutation CollectionCreate($input: CollectionInput!) {
  collectionCreate(input: $input) {
    collection { id handle title }
    userErrors { field message }
  }
}
"""

METAFIELDS_SET = """
mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { key value }
    userErrors { field code elementIndex message }
  }
}
"""

CODE_DEFINITION_CREATE = """
mutation CodeDefinitionCreate($definition: MetafieldDefinitionInput!) {
  metafieldDefinitionCreate(definition: $definition) {
    createdDefinition { id }
    userErrors { field code message }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""

TRACKING_UPDATE = """
mutation TrackingUpdate($fulfillmentId: ID!, $tracking: FulfillmentTrackingInput!, $notify: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $tracking,
                                notifyCustomer: $notify) {
    fulfillment { id trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""

FULFILLMENT_EVENT = """
mutation FulfillmentEvent($event: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $event) {
    fulfillmentEvent { id status }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!,
                     $refundMethod: OrderCancelRefundMethodInput!, $notifyCustomer: Boolean,
                     $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field code message }
  }
}
"""

MARK_PAID = """
mutation MarkPaid($input: OrderMarkAsPaidInput!) {
  orderMarkAsPaid(input: $input) {
    order { id displayFinancialStatus }
    userErrors { field message }
  }
}
"""

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field code message }
  }
}
"""

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""


def bulk_products(code_namespace: str, code_key: str, query: str = "") -> str:
    """The bulk query of every product with its variants and media (two connections, one level deep).

    A bulk query takes no variables, so the code metafield's names are written in.
    """
    fields = PRODUCT_FIELDS.replace("$codeNamespace", _quoted(code_namespace)).replace(
        "$codeKey", _quoted(code_key))
    filter_ = f"(query: {_quoted(query)})" if query else ""
    return (f"{{ products{filter_} {{ edges {{ node {{ {fields}\n"
            f"  variants {{ edges {{ node {{ {VARIANT_FIELDS} }} }} }}\n"
            f"  media {{ edges {{ node {{ {MEDIA_FIELDS} }} }} }}\n"
            f"}} }} }} }}")


def bulk_orders(invoice_namespace: str, query: str = "") -> str:
    """The bulk query of orders (``query`` filters them) with their lines."""
    fields = ORDER_FIELDS.replace("$invoiceNamespace", _quoted(invoice_namespace))
    filter_ = f"(query: {_quoted(query)})" if query else ""
    return (f"{{ orders{filter_} {{ edges {{ node {{ {fields}\n"
            f"  lineItems {{ edges {{ node {{ {LINE_FIELDS} }} }} }}\n"
            f"  shippingLines {{ edges {{ node {{ {SHIPPING_FIELDS} }} }} }}\n"
            f"}} }} }} }}")


def _quoted(value: str) -> str:
    """A GraphQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: name -> document, for the schema test and the cost the client learns per operation
OPERATIONS: dict[str, str] = {
    name: document for name, document in globals().items()
    if name.isupper() and isinstance(document, str) and document.lstrip().startswith(("query", "mutation"))
}
