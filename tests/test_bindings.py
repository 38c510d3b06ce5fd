"""External-id bindings: one to one per kind, kept in the connection's state."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.bindings import Binder
from tramo.errors import ValidationError
from tramo.state import StateStore

IDS = st.text("abc123-", min_size=1, max_size=4)


def binder(kind: str = "product") -> Binder:
    return Binder(StateStore().for_connection("loja"), kind)


def test_a_binding_is_found_from_either_side() -> None:
    products = binder()
    assert products.remote("P1") is None
    products.bind("P1", "8")
    assert products.remote("P1") == "8" and products.local("8") == "P1"


def test_kinds_do_not_see_each_other() -> None:
    state = StateStore().for_connection("loja")
    Binder(state, "product").bind("X", "1")
    assert Binder(state, "category").remote("X") is None


def test_binding_survives_a_new_binder_on_the_same_file(tmp_path) -> None:
    Binder(StateStore(tmp_path / "s.db").for_connection("loja"), "sku").bind("SKU-1", "variant/9")
    again = Binder(StateStore(tmp_path / "s.db").for_connection("loja"), "sku")
    assert again.remote("SKU-1") == "variant/9"


@given(pairs=st.lists(st.tuples(IDS, IDS), max_size=12), forget=st.lists(IDS, max_size=4))
def test_bindings_stay_one_to_one_whatever_is_bound_and_unbound(
        pairs: list[tuple[str, str]], forget: list[str]) -> None:
    products = binder()
    model: dict[str, str] = {}
    for local, remote in pairs:
        products.bind(local, remote)
        model = {k: v for k, v in model.items() if k != local and v != remote}
        model[local] = remote
    for local in forget:
        products.unbind(local)
        model.pop(local, None)
    assert dict(products.pairs()) == model
    for local, remote in model.items():
        assert products.local(remote) == local
    remotes = [remote for _, remote in pairs]
    for remote in remotes:
        if remote not in model.values():
            assert products.local(remote) is None


def test_a_kind_with_a_colon_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError):
        binder("a:b")


def test_require_gives_the_bound_ids_or_names_the_first_unbound_one() -> None:
    binder = Binder(StateStore().for_connection("c"), "category")
    binder.bind("10", "gid://shopify/Collection/1")
    binder.bind("11", "gid://shopify/Collection/2")
    assert binder.require(["11", "10", "11"], "Product.categories") == [
        "gid://shopify/Collection/2", "gid://shopify/Collection/1"]
    with pytest.raises(ValidationError) as caught:
        binder.require(["10", "99"], "Product.categories")
    assert (caught.value.field, caught.value.value) == ("Product.categories", "99")
