"""dnsrace: a model checker for the races that break cloud control planes.

Public surface: `check` (a spec file to a `CheckResult`, with any engine), `replay_trace` (a
trace on its spec), `render` (results in any report format), `load_model`, `SpecError`;
the result types are in `dnsrace.results`.
"""

__version__ = "0.1.0"

__all__ = ["check", "check_model", "replay_trace", "render", "load_model", "SpecError",
           "ENGINES", "FORMATS", "__version__"]

_LAZY = {"check": ".api", "check_model": ".api", "replay_trace": ".api",
         "render": ".report.formats", "SpecError": ".diagnostics",
         "load_model": ".frontend.build", "ENGINES": ".engines.registry",
         "FORMATS": ".report.formats"}


def __getattr__(name: str):
    """The public names, imported on first use: `import dnsrace` stays light, so the console
    script can route signals before the engines (numpy, lark, z3) are loaded."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'dnsrace' has no attribute {name!r}")
