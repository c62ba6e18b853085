"""dnsrace: a model checker for the races that break cloud control planes.

Public surface: `check` (a spec file to a `CheckResult`), `load_model`, `SpecError`.
"""

__version__ = "0.1.0"

__all__ = ["check", "check_model", "load_model", "SpecError", "__version__"]

_LAZY = {"check": ".api", "check_model": ".api", "SpecError": ".diagnostics",
         "load_model": ".frontend.build"}


def __getattr__(name: str):
    """The public names, imported on first use: `import dnsrace` stays light, so the console
    script can route signals before the engines (numpy, lark, z3) are loaded."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'dnsrace' has no attribute {name!r}")
