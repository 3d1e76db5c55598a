"""The console commands: a thin Click layer over `gapmend.core`.

Every command loads the settings the same way (``--env-file`` or ``--laravel``), turns
core's `GapmendError` into one line on stderr and exit code 2, and logs to a file only
its owner can read (`context`). The commands live by the runbook's stages:
`inspecting` (steps 1-2 and the operator's decisions), `restoring` (step 11, undo),
`runbook` (the other steps), `session` (the wizard and the demo).
"""

from . import inspecting, restoring, runbook, session  # noqa: F401  (each adds its commands to `cli`)
from .context import Context
from .group import cli
from .session import main, wizard_app

__all__ = ["Context", "cli", "main", "wizard_app"]
