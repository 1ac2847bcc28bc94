"""capiche-build: detection-as-code for cloud API hunting.

The original CAPICHE functions (load_api_data, search_api_name, transform_api_list, ...) are
importable from here; they load on first use so `import capiche_build` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "define_associations",
    "define_events",
    "generate_google_dork_syntax",
    "generate_sigma_rule",
    "generate_vtgrep_content",
    "generate_yara_l_rule",
    "generate_yara_rule",
    "generate_yara_string",
    "load_api_data",
    "search_api_description",
    "search_api_name",
    "transform_api_list",
]
_LEGACY = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _LEGACY:
        from capiche_build import legacy

        value = getattr(legacy, name)
        globals()[name] = value  # later look-ups skip this hook
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LEGACY})
