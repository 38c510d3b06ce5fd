"""Hypothesis profiles: ``ci`` (default, fast and reproducible) and ``full``.

Pick one with ``TRAMO_HYPOTHESIS_PROFILE=full pytest``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("full", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("TRAMO_HYPOTHESIS_PROFILE", "ci"))
