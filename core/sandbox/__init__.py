"""Sandboxes: real servers on loopback that speak a platform's wire protocol.

They ship with tramo (not a test extra) because hosts and plugin authors use
them offline. :class:`Sandbox` is what every one shares (lifecycle, knobs,
faults, time scale, calls seen); :class:`HttpSandbox` serves HTTP APIs.
"""

from tramo.sandbox.base import Call, Fault, Knobs, RateLimiter, Sandbox
from tramo.sandbox.http import HttpSandbox, Request, Response, json_response, retry_after_header

__all__ = ["Call", "Fault", "HttpSandbox", "Knobs", "RateLimiter", "Request", "Response",
           "Sandbox", "json_response", "retry_after_header"]
