"""`load_adapter("module:Class")`: the adapter a user names on the command line.

The module is imported from the import path, then from the current folder (added last, so
that a file there never shadows an installed module), the class looked up in it and made
with no arguments.  Every problem is an
AdapterError with a DR8xx code and a message that says what to do.
"""

from __future__ import annotations

import importlib
import os
import re
import sys

from ..diagnostics import Diagnostic, did_you_mean

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
REQUIRED = ("reset", "step", "observe")


class AdapterError(Exception):
    """An adapter that cannot be loaded, or that failed while it drove the system."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, self.message, None, None, self.hint)


def split_spec(text: str) -> tuple[str, str]:
    """`package.module:Class` -> ("package.module", "Class"); AdapterError (DR801) if it is
    not of that form."""
    module, sep, name = text.partition(":")
    if not sep or not _NAME.fullmatch(module) or not _NAME.fullmatch(name) or "." in name:
        raise AdapterError("DR801", f"--adapter {text!r} is not MODULE:CLASS",
                           "for example --adapter examples.lease_service.adapter:LeaseAdapter")
    return module, name


def import_module(module: str):
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)   # the user's modules, where they run dnsrace (last: a file
                               # there never shadows an installed module)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise AdapterError("DR802", f"no module named {module!r} (from the current folder "
                               f"{cwd} or the import path)",
                               "run from the folder that holds it, or add it to PYTHONPATH"
                               ) from None
        raise AdapterError("DR802", f"module {module!r} cannot be imported: {exc}",
                           f"install {exc.name!r}" if exc.name else None) from None
    except Exception as exc:   # the user's module raised while it was imported
        raise AdapterError("DR802", f"module {module!r} raised {describe(exc)} while it was "
                           "imported", "fix the module: `python -c 'import "
                           f"{module}'` shows the traceback") from None


def load_adapter(text: str):
    """The adapter named by `text` (`module:Class`), made with no arguments."""
    module_name, class_name = split_spec(text)
    module = import_module(module_name)
    cls = getattr(module, class_name, None)
    if cls is None:
        names = [n for n, v in vars(module).items() if _is_adapter_class(v)]
        raise AdapterError("DR803", f"module {module_name!r} has no class {class_name!r}",
                           did_you_mean(class_name, names, "its adapters"))
    missing = [m for m in REQUIRED if not callable(getattr(cls, m, None))
               or _inherited_stub(cls, m)]
    if not isinstance(cls, type) or missing:
        why = "it is not a class" if not isinstance(cls, type) else \
            "it has no method " + ", ".join(missing)
        raise AdapterError("DR804", f"{text} is not an adapter: {why}",
                           "an adapter is a class with reset(constants), step(action) and "
                           "observe() (see dnsrace.adapters.Adapter)")
    try:
        return cls()
    except Exception as exc:
        raise AdapterError("DR804", f"{text}() raised {describe(exc)}",
                           "an adapter is made with no arguments") from None


def _inherited_stub(cls, method: str) -> bool:
    """The base class's `method` (which only raises NotImplementedError), not overridden."""
    from . import Adapter

    return isinstance(cls, type) and getattr(cls, method, None) is getattr(Adapter, method)


def _is_adapter_class(v) -> bool:
    from . import Adapter

    return isinstance(v, type) and v is not Adapter and \
        all(callable(getattr(v, m, None)) and not _inherited_stub(v, m) for m in REQUIRED)


def describe(exc: BaseException) -> str:
    """An exception as one line: `ConnectionRefusedError: [Errno 111] ...`."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return type(exc).__name__ + (f": {text}" if text else "")
