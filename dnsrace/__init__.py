"""dnsrace: a model checker for the races that break cloud control planes.

Public surface: `check` (a spec file to a `CheckResult`), `load_model`, `SpecError`.
"""

__version__ = "0.1.0"

from .api import check, check_model  # noqa: E402
from .diagnostics import SpecError  # noqa: E402
from .frontend.build import load_model  # noqa: E402

__all__ = ["check", "check_model", "load_model", "SpecError", "__version__"]
