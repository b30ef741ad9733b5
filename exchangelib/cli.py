"""What the command-line tools share: the program name as the user typed it."""
from __future__ import annotations

import os
import sys

__all__ = ["program_name"]


def program_name(module: str = "exchangelib") -> str:
    """``exchangelib`` when run as the installed console script, ``python -m exchangelib`` otherwise."""
    invoked = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if invoked in ("", "-c", "__main__.py", "-m") or invoked.endswith(".py"):
        return f"python -m {module}"
    return invoked
