"""Targets: one module per format, each a pure function from a resolved rule to text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from capiche_build.model import ResolvedRule


@dataclass(frozen=True)
class Output:
    """One generated file, relative to the build folder (posix path)."""

    format: str
    path: str
    text: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    name: str
    folder: str
    extension: str
    render: Callable[[ResolvedRule], str]
    notes: Callable[[ResolvedRule, str], tuple[str, ...]] | None = None  # from the rendered text
    filename: Callable[[ResolvedRule], str] | None = None  # default: <name><extension>

    def output(self, rule: ResolvedRule) -> Output:
        text = self.render(rule)
        notes = self.notes(rule, text) if self.notes else ()
        name = self.filename(rule) if self.filename else f"{rule.name}{self.extension}"
        return Output(self.name, f"{self.folder}/{name}", text, notes)


def targets() -> dict[str, Target]:
    from capiche_build.targets import dork, sigma, vtgrep, yara, yaral

    return {
        "yara": Target("yara", "yara", ".yar", yara.render),
        "yaral": Target("yaral", "yaral", ".yaral", yaral.render),
        "sigma": Target("sigma", "sigma", ".yml", sigma.render, filename=sigma.filename),
        "vtgrep": Target("vtgrep", "vtgrep", ".txt", vtgrep.render),
        "dork": Target("dork", "dork", ".txt", dork.render, dork.notes),
    }


def render_rule(rule: ResolvedRule, formats: tuple[str, ...] | None = None) -> list[Output]:
    """Every output of one rule, in the formats it asks for (or those given)."""
    chosen = formats or rule.source.formats
    available = targets()
    return [
        available[f].output(rule) for f in chosen if f in rule.source.formats and f in available
    ]
