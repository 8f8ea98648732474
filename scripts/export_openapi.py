"""Write the service's OpenAPI schema to frontend/openapi.json (the web app's typed client is
generated from it: `npm run gen:api` in frontend/ runs this, then openapi-typescript).

The app is built with its services unloaded: no model is loaded and no request is served.
    .venv/bin/python scripts/export_openapi.py [OUT]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "frontend" / "openapi.json"
    # The schema must not depend on the machine: ignore SCRIBE_* settings and any .env file.
    for key in [k for k in os.environ if k.startswith("SCRIBE_")]:
        del os.environ[key]
    from scribe.api.app import create_app
    from scribe.bootstrap import build_services
    from scribe.config import Settings

    with tempfile.TemporaryDirectory() as data_dir:  # nothing is written to the real data dir
        settings = Settings(_env_file=None, device="cpu", data_dir=data_dir)  # type: ignore[call-arg]
        schema = create_app(build_services(settings)).openapi()
    out.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
