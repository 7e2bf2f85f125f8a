"""The exception tree. Every exception Jiuzhu raises on purpose derives from JiuzhuError.

    JiuzhuError                    root; carries diagnostics a front end can print
    ├── ValidationFailed           tables have errors; raised by check/build/publish
    ├── InputError                 household data, a date or an argument is unusable
    ├── EvaluationError            the tables' contract broke on real data (UNIQUE, ANY)
    └── RegistryError              a publish was refused or the version chain is broken

Front ends (CLI, service, console) catch JiuzhuError and show its diagnostics; anything
else is a bug and is reported as such, without a traceback for the user.
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, render_text


class JiuzhuError(Exception):
    """Root of the tree; holds the diagnostics that explain the failure."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__(render_text(self.diagnostics, limit=20))


class ValidationFailed(JiuzhuError):
    """Raised when a workbook has errors and the operation needs valid tables."""


class InputError(JiuzhuError):
    """Raised when household data, a date or an argument cannot be used."""


class EvaluationError(JiuzhuError):
    """Raised when a table's hit policy contract breaks on a household (UNIQUE, ANY)."""


class RegistryError(JiuzhuError):
    """Raised when publishing is refused or the registry's chain does not verify."""
