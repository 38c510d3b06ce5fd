"""What a GraphQL request costs the Shopify sandbox, and the leaky bucket that pays for it.

Shopify rate-limits the Admin GraphQL API by calculated query cost, per app
and shop, in a leaky bucket (shopify.md §2). The benchmark measures how well
a plugin paces itself against these numbers, so they follow one published
rule set exactly (simplified as the sandbox's contract says):

* scalar and enum fields cost 0; an object, interface or union field 1 plus
  its selections (for an abstract type, the dearest of its fragments);
* a connection (its type's name ends in ``Connection``) costs
  ``2 + first x element``, the element being what is selected under
  ``edges { node }`` or ``nodes`` (``pageInfo`` and ``cursor`` are free);
  ``first`` is 10 when absent;
* a list of objects costs ``first x element`` (``first`` 1 when absent),
  ``nodes(ids:)`` ``len(ids) x element``;
* a mutation's root field costs 10 and its payload nothing.

The actual cost is the same walk over what was returned, counting the
elements that came back instead of ``first``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLNamedType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values, get_directive_values

__all__ = ["MAX_FIRST", "MUTATION_COST", "LeakyBucket", "actual_cost", "first_over_limit",
           "requested_cost"]

#: The largest page a connection serves.
MAX_FIRST = 250
#: What one root field of a mutation costs.
MUTATION_COST = 10
#: ``first`` when a connection names none.
DEFAULT_FIRST = 10
_MISSING = object()


class _Walk:
    """One cost walk over an operation: requested (``data`` absent) or actual (over ``data``)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Any) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType,
                   data: Any = _MISSING) -> int:
        """The cost of a selection set on ``parent``; fragments on an abstract type take the max."""
        if selection_set is None:
            return 0
        total = 0
        branches: dict[str, int] = {}
        for selection in selection_set.selections:
            if not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, data)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition, sub = fragment.type_condition, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition, sub = selection.type_condition, selection.selection_set
            else:
                continue
            target = self.schema.get_type(condition.name.value) if condition else parent
            if target is None:
                continue
            cost = self.selections(sub, target, data)
            if is_abstract_type(parent) and target is not parent:
                branches[target.name] = max(branches.get(target.name, 0), cost)
            else:
                total += cost
        return total + max(branches.values(), default=0)

    def field(self, node: FieldNode, parent: GraphQLNamedType, data: Any) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        actual = data is not _MISSING
        value = _MISSING
        if actual:
            value = data.get((node.alias or node.name).value, _MISSING) if isinstance(data, Mapping) \
                else None
            if value is _MISSING:
                return 0
        args = get_argument_values(definition, node, self.variables)
        if named.name.endswith("Connection"):
            return self.connection(node, named, args, value)
        if is_list_type(get_nullable_type(definition.type)):
            if not actual:
                count = len(args["ids"]) if name == "nodes" and "ids" in args else (
                    args.get("first") or 1)
                return int(count) * (1 + self.selections(node.selection_set, named))
            return sum(1 + (0 if item is None else self.selections(node.selection_set, named, item))
                       for item in (value or ()))
        if actual and value is None:
            return 1
        return 1 + self.selections(node.selection_set, named, value)

    def connection(self, node: FieldNode, named: Any, args: Mapping[str, Any], value: Any) -> int:
        """``2 + first x element`` requested; ``2 + the returned elements' costs`` actual."""
        element_type = get_named_type(named.fields["nodes"].type)
        edge_type = get_named_type(named.fields["edges"].type)
        inner: list[tuple[str, FieldNode]] = []  # ("nodes" | "edges", node of nodes / edges.node)
        for sub in _fields(node.selection_set, self):
            if sub.name.value == "nodes":
                inner.append(("nodes", sub))
            elif sub.name.value == "edges":
                inner += [("edges", n) for n in _fields(sub.selection_set, self)
                          if n.name.value == "node"]
        if value is _MISSING:
            first = args.get("first")
            element = max((1 + self.selections(n.selection_set, element_type) for _, n in inner),
                          default=0)
            return 2 + int(DEFAULT_FIRST if first is None else first) * element
        if value is None:
            return 0
        per_element: dict[int, int] = {}
        for kind, sub in inner:
            if kind == "nodes":
                items = value.get((sub.alias or sub.name).value) or []
            else:
                items = [edge.get((sub.alias or sub.name).value) if isinstance(edge, Mapping) else None
                         for edge in _edges(node, value, self, edge_type)]
            for index, item in enumerate(items):
                cost = 1 + (0 if item is None else self.selections(sub.selection_set,
                                                                     element_type, item))
                per_element[index] = max(per_element.get(index, 0), cost)
        return 2 + sum(per_element.values())


def _fields(selection_set: SelectionSetNode | None, walk: _Walk) -> list[FieldNode]:
    """The fields of a selection set, inline fragments and spreads flattened."""
    found: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if not walk.included(selection):
            continue
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found += _fields(selection.selection_set, walk)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = walk.fragments.get(selection.name.value)
            if fragment is not None:
                found += _fields(fragment.selection_set, walk)
    return found


def _edges(node: FieldNode, value: Mapping[str, Any], walk: _Walk, edge_type: Any) -> list[Any]:
    """Every returned edge under any alias of ``edges`` in the connection's selection."""
    edges: list[Any] = []
    for sub in _fields(node.selection_set, walk):
        if sub.name.value == "edges":
            edges = list(value.get((sub.alias or sub.name).value) or [])
    return edges


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLNamedType:
    root = schema.mutation_type if operation.operation is OperationType.MUTATION else schema.query_type
    assert root is not None
    return root


def requested_cost(schema: GraphQLSchema, document: DocumentNode,
                   operation: OperationDefinitionNode, variables: Any) -> int:
    """The cost of ``operation`` as asked, before it runs (``variables`` already coerced)."""
    walk = _Walk(schema, document, variables)
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST * len(_fields(operation.selection_set, walk))
    return walk.selections(operation.selection_set, _root(schema, operation))


def actual_cost(schema: GraphQLSchema, document: DocumentNode,
                operation: OperationDefinitionNode, variables: Any, data: Any) -> int:
    """The cost of what ``operation`` returned (``data``): returned elements, not ``first``."""
    walk = _Walk(schema, document, variables)
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST * len(_fields(operation.selection_set, walk))
    if not isinstance(data, Mapping):
        return 0
    return walk.selections(operation.selection_set, _root(schema, operation), data)


def first_over_limit(document: DocumentNode, operation: OperationDefinitionNode,
                     coerced: Mapping[str, Any]) -> FieldNode | None:
    """The first field whose ``first`` argument is over :data:`MAX_FIRST`, if any."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    seen: set[str] = set()

    def visit(selection_set: SelectionSetNode | None) -> FieldNode | None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    if argument.name.value != "first":
                        continue
                    raw = argument.value
                    value = (coerced.get(raw.name.value) if isinstance(raw, VariableNode)
                             else int(raw.value) if isinstance(raw, IntValueNode) else None)
                    if isinstance(value, int) and value > MAX_FIRST:
                        return selection
                found = visit(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                found = visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                found = visit(fragment.selection_set) if fragment else None
            else:
                found = None
            if found is not None:
                return found
        return None

    return visit(operation.selection_set)


class LeakyBucket:
    """Shopify's per-app, per-shop cost bucket: ``size`` points, refilled ``rate`` a real second.

    Thread-safe; starts full. :meth:`take` charges a request's requested cost
    before it runs (or refuses it, charging nothing), :meth:`refund` gives
    back what it did not use.
    """

    def __init__(self, size: float, rate: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.size = float(size)
        self.rate = float(rate)
        self.clock = clock
        self._level = self.size
        self._at = clock()
        self._lock = threading.Lock()

    def _settle(self) -> float:
        now = self.clock()
        self._level = min(self.size, self._level + (now - self._at) * self.rate)
        self._at = now
        return self._level

    def available(self) -> float:
        with self._lock:
            return self._settle()

    def take(self, cost: float) -> bool:
        """Charge ``cost`` if the bucket holds it; False (nothing charged) when it does not."""
        with self._lock:
            if cost > self._settle():
                return False
            self._level -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._settle()
            self._level = min(self.size, self._level + max(points, 0.0))

    def configure(self, *, size: float | None = None, rate: float | None = None) -> None:
        """A new size or rate from now on (what accrued so far is kept, up to the new size)."""
        with self._lock:
            self._settle()
            if size is not None:
                self.size = float(size)
                self._level = min(self._level, self.size)
            if rate is not None:
                self.rate = float(rate)

    def fill(self) -> None:
        with self._lock:
            self._level = self.size
            self._at = self.clock()

    def status(self) -> dict[str, Any]:
        """``throttleStatus`` as Shopify reports it (floats, except the points available now)."""
        return {"maximumAvailable": self.size, "currentlyAvailable": int(self.available()),
                "restoreRate": self.rate}
