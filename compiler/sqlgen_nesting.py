"""How deep the compiled query nests, and the CTE that keeps independent values flat.

DuckDB binds a CTE that reads another inside it, one level per CTE, and refuses a
query nested more than ``max_expression_depth`` (1000) levels in English ("Max
expression depth limit of 1000 exceeded"). One CTE per derived value made a county
with 1000 derived values that read none of each other fail at evaluation (E605 with
DuckDB's text), and 600 took 13 s to bind; raising the setting let 3000 crash the
process (helper-84). So derived values that need no join and read none of the values
being computed beside them share one CTE (``Values``), and ``Nesting`` measures how
deep each CTE is, for ``chains.check_query_depth`` to refuse what is still too deep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from compiler.sqlgen_expr import comment, quote

# A quoted identifier of the generated SQL (CTE, table and column names alike)
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')


@dataclass
class Values:
    """A CTE of values of one level (derived values and the operands they divide),
    each a column read from the CTE before it; rendered when the level's CTEs are
    written out (rendering it again at each value added would be quadratic)."""

    name: str
    head: str
    from_clause: str
    inputs: frozenset[str]  # the columns it reads, as it was made
    columns: list[str] = field(default_factory=list)  # "<sql> AS <quoted id>"
    notes: list[str] = field(default_factory=list)
    computed: set[str] = field(default_factory=set)

    def add(self, ident: str, sql: str, note: str) -> None:
        self.columns.append(f"{sql} AS {quote(ident)}")
        if note:
            self.notes.append(note)
        self.computed.add(ident)

    def __str__(self) -> str:
        header = "".join(f"{comment(note)}\n" for note in self.notes)
        select = ",\n  ".join(self.columns)
        return f"{header}{quote(self.name)} AS (\nSELECT {self.head}, {select}\n{self.from_clause}\n)"


def earliest(chain: list[Values], reads: set[str]) -> Values | None:
    """The first CTE of ``chain`` (a level's CTEs of values, each reading the one
    before, through any CTEs between them) that has every column of ``reads``: its
    own inputs and what the CTEs before it compute pass on; None when none has."""
    computed: set[str] = set()
    for values in chain:
        if reads - computed <= values.inputs:
            return values
        computed |= values.computed
    return None


def read_names(sql: str) -> set[str]:
    """The quoted names of ``sql``: every column it reads is among them (``quote``)."""
    return {n.replace('""', '"') for n in _QUOTED.findall(sql)}


@dataclass
class Nesting:
    """How many CTEs deep each CTE of a program is, and the deepest each step of the
    plan made (by its position in ``Plan.order``)."""

    depths: dict[str, int] = field(default_factory=dict)
    steps: dict[int, int] = field(default_factory=dict)

    def add(self, name: str, body: str, position: int) -> int:
        """Record the CTE ``name`` made by the step at ``position`` from ``body``: one
        level deeper than the deepest CTE it reads. Returns its depth."""
        depth = 1 + self.reads(body)
        self.depths[name] = depth
        self.steps[position] = max(depth, self.steps.get(position, 0))
        return depth

    def reads(self, sql: str) -> int:
        """The depth of the deepest CTE ``sql`` names (0: none)."""
        found = (self.depths.get(n.replace('""', '"'), 0) for n in _QUOTED.findall(sql))
        return max(found, default=0)


__all__ = ["Nesting", "Values", "earliest", "read_names"]
