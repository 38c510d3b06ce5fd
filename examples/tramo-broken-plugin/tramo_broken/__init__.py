"""A plugin whose import fails, as a plugin with a missing dependency would.

tramo lists it as unavailable with this error and loads every other plugin.
"""

import tramo_dependency_that_is_not_installed  # noqa: F401
