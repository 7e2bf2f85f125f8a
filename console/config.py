"""Where the console finds its tables, registry, users, drafts and sample households.

Every path comes from an environment variable with a default relative to the folder
the console is started in (``make console`` starts it in the repository):

    JIUZHU_TABLES    tables                      the working tables folder
    JIUZHU_STATE     .jiuzhu                     drafts, uploads (gitignored)
    JIUZHU_USERS     $JIUZHU_STATE/users.yaml    the users file
    JIUZHU_REGISTRY  registry/jiuzhu-registry.duckdb beside the tables (as the CLI)
    JIUZHU_SAMPLES   $JIUZHU_TABLES/samples/households.jsonl
    JIUZHU_AS_OF     today                       the decision date of previews
    JIUZHU_IDLE_MINUTES  120                     minutes without a click before sign-out
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    tables: Path
    state: Path
    users: Path
    registry: Path
    samples: Path
    as_of: date | None = None
    idle_minutes: int = 120

    def today(self) -> date:
        return self.as_of or date.today()


def settings() -> Settings:
    from compiler.registry import default_path

    tables = Path(os.environ.get("JIUZHU_TABLES", "tables")).resolve()
    state = Path(os.environ.get("JIUZHU_STATE", ".jiuzhu")).resolve()
    as_of = os.environ.get("JIUZHU_AS_OF")
    return Settings(
        tables=tables,
        state=state,
        users=Path(os.environ.get("JIUZHU_USERS", state / "users.yaml")),
        registry=Path(os.environ.get("JIUZHU_REGISTRY") or default_path(tables)),
        samples=Path(os.environ.get("JIUZHU_SAMPLES", tables / "samples" / "households.jsonl")),
        as_of=date.fromisoformat(as_of) if as_of else None,
        idle_minutes=_minutes(os.environ.get("JIUZHU_IDLE_MINUTES", "")),
    )


def _minutes(text: str) -> int:
    """JIUZHU_IDLE_MINUTES as a whole number of at least 1; 120 when unset or not one."""
    return int(text) if text.strip().isascii() and text.strip().isdigit() and int(text) >= 1 else 120
