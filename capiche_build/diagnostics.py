"""One shape for every problem any stage reports: schema, selectors, engines, tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A located problem. `hint` says what to do about it."""

    file: str = ""
    line: int | None = None
    column: int | None = None
    message: str = ""
    engine: str = ""
    severity: Severity = "error"
    hint: str = ""

    def format(self) -> str:
        where = self.file
        if self.file and self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        tag = f"[{self.engine}] " if self.engine else ""
        text = f"{where + ': ' if where else ''}{self.severity}: {tag}{self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class CapicheError(Exception):
    """Bad input from the user: carries diagnostics and maps to exit status 2."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(message=diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))
