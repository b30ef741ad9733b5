"""Recurrence patterns for calendar items and tasks (``from exchangelib.recurrence import Recurrence, ...``)."""
from .properties.recurrence import *  # noqa: F401,F403
from .properties.recurrence import __all__  # noqa: F401
