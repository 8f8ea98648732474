"""The README documents every setting, as the code defines it."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_settings_table_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "settings_table", ROOT / "scripts" / "settings_table.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (ROOT / "README.md").read_text()
    assert module.readme_with_table(readme) == readme, (
        "run: python scripts/settings_table.py --write"
    )


def test_env_example_names_only_real_settings() -> None:
    from scribe.config import Settings

    names = {f"SCRIBE_{n.upper()}" for n in Settings.model_fields}
    for line in (ROOT / ".env.example").read_text().splitlines():
        key = line.lstrip("# ").split("=", 1)[0]
        if key.startswith("SCRIBE_"):
            assert key in names, key
