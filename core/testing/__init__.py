"""Test helpers for tramo plugins and hosts.

:mod:`tramo.testing.strategies` holds hypothesis strategies that build valid
model entities; it needs ``hypothesis`` (the ``test`` extra), so import it
directly rather than through this package.
"""
