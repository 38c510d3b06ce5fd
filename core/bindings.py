"""External-id bindings: which platform record stands for which ERP record.

Most platforms know a product, a category or a SKU by their own ids, and few
can be searched by the ERP's. A plugin that creates a record binds the two ids
here, in the connection's state, so the next write updates instead of creating
again, a read can name the ERP's record, and a restart keeps it all::

    categories = connection.binder("category")
    remote = categories.remote("ERP-12")        # None until bound
    categories.bind("ERP-12", "4031")
    categories.local("4031")                    # "ERP-12"

A binding is one to one per kind: binding either side again replaces the old
pair, so a stale reverse entry cannot survive.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tramo.errors import ValidationError
from tramo.state import ConnectionState

__all__ = ["Binder"]


class Binder:
    """The bindings of one kind of record (``product``, ``category``, ``sku``) on one connection."""

    def __init__(self, state: ConnectionState, kind: str) -> None:
        if not kind or ":" in kind:
            raise ValueError(f"a binding kind is a plain name, not {kind!r}")
        self.state = state
        self.kind = kind
        self._local = f"bind:{kind}:local:"
        self._remote = f"bind:{kind}:remote:"

    def __repr__(self) -> str:
        return f"Binder({self.kind!r}, {self.state!r})"

    def remote(self, local_id: str) -> str | None:
        """The platform's id bound to the ERP's ``local_id``, or None."""
        found = self.state.get(self._local + local_id)
        return None if found is None else str(found)

    def local(self, remote_id: str) -> str | None:
        """The ERP's id bound to the platform's ``remote_id``, or None."""
        found = self.state.get(self._remote + remote_id)
        return None if found is None else str(found)

    def bind(self, local_id: str, remote_id: str) -> None:
        """Bind the pair, replacing any earlier binding of either id (one transaction)."""
        with self.state.atomic():
            old_remote = self.remote(local_id)
            old_local = self.local(remote_id)
            if old_remote is not None:
                self.state.delete(self._remote + old_remote)
            if old_local is not None:
                self.state.delete(self._local + old_local)
            self.state.set(self._local + local_id, remote_id)
            self.state.set(self._remote + remote_id, local_id)

    def require(self, local_ids: Iterable[str], field: str) -> list[str]:
        """The platform's ids bound to ``local_ids`` (in order, repeats once), or a
        ValidationError naming ``field`` and the first one not bound yet (a product whose
        category was never mapped is held, not sent without it)."""
        found: list[str] = []
        for local_id in local_ids:
            remote = self.remote(local_id)
            if remote is None:
                raise ValidationError(field, local_id, f"no {self.kind} on the platform is bound to it "
                                                       f"yet; map it first (map_categories for categories)")
            if remote not in found:
                found.append(remote)
        return found

    def unbind(self, local_id: str) -> None:
        """Forget ``local_id``'s binding (its platform record was deleted, say)."""
        with self.state.atomic():
            remote = self.remote(local_id)
            self.state.delete(self._local + local_id)
            if remote is not None and self.local(remote) == local_id:
                self.state.delete(self._remote + remote)

    def pairs(self) -> Iterator[tuple[str, str]]:
        """Every (local, remote) pair of this kind."""
        for key in self.state.keys(self._local):
            remote = self.state.get(key)
            if remote is not None:
                yield key[len(self._local):], str(remote)
