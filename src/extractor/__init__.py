"""extractor as a library: the names README's "Library" section documents, and only those.

    from extractor import scan_url, scan_source, parse, render, check, Scan

Every name is imported on first use (PEP 562), so `import extractor` stays cheap: the pipeline pulls in the
fetcher and the model client, which a script that only parses pages never needs.

`parse`, `render` and `check` are also the names of submodules. Python's import system sets a submodule as an
attribute of its package once anything imports it (`from extractor.parse import parse` does), which would
replace the function by the module; the package's module class refuses that for the public names, so
`extractor.parse` stays the function whatever was imported before.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from extractor.check import check_text as check
    from extractor.models import Scan
    from extractor.parse import parse
    from extractor.pipeline import scan_source, scan_url
    from extractor.render import render

#: Public name -> (module, attribute).
_PUBLIC: dict[str, tuple[str, str]] = {
    "Scan": ("extractor.models", "Scan"),
    "check": ("extractor.check", "check_text"),
    "parse": ("extractor.parse", "parse"),
    "render": ("extractor.render", "render"),
    "scan_source": ("extractor.pipeline", "scan_source"),
    "scan_url": ("extractor.pipeline", "scan_url"),
}

__all__ = ["Scan", "check", "parse", "render", "scan_source", "scan_url"]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'extractor' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(import_module(module), attribute)
    ModuleType.__setattr__(sys.modules[__name__], name, value)  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PUBLIC and isinstance(value, ModuleType):
            return  # the import system binding the submodule `extractor.parse` (etc.): keep the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
