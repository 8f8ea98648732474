#!/usr/bin/env python
"""Print the README's settings table from scribe.config.Settings (so the two cannot drift).

python scripts/settings_table.py           # print it
python scripts/settings_table.py --write   # replace the table in README.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from scribe.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


_HOME_DEFAULTS = {"cache_dir": "~/.cache/scribe", "data_dir": "~/.local/share/scribe"}


def table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if field.default_factory is not None:  # folders under $HOME
            shown = f"`{_HOME_DEFAULTS[name]}`"
        elif default is None:
            shown = "—"
        else:
            shown = f"`{str(default).lower() if isinstance(default, bool) else default}`"
        rows.append(f"| `SCRIBE_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def readme_with_table(readme: str) -> str:
    """The README text with the table between its markers replaced by the current one."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        README.write_text(readme_with_table(README.read_text()))
    else:
        print(table())
