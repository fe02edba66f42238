"""HTML building blocks for cardiofm's self-contained reports (images embedded, no external assets).

Every string that comes from data or a user (label codes and descriptions, report texts, source names,
paths, config values) goes through :func:`esc`; every page starts with :func:`page_head`, whose
Content-Security-Policy forbids scripts, so a payload that slipped past escaping still cannot run.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import yaml

# No scripts, no external fetches: styles inline, images only as data: URIs.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
BASE_STYLE = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
              "pre{background:#f6f6f6;padding:1em;overflow:auto}img{max-width:100%}")


def esc(value: Any) -> str:
    """``value`` as text safe inside an HTML element or a quoted attribute."""
    return html.escape(str(value), quote=True)


def page_head(title: str, style: str = BASE_STYLE) -> str:
    """The start of a page: doctype, charset, the script-forbidding CSP, the escaped title and the style."""
    return (f"<!doctype html><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
            f"<title>{esc(title)}</title><style>{style}</style>")


def png_data_uri(path: str | Path) -> str:
    """A PNG file inlined as a ``data:`` URI (base64 has no character HTML would interpret)."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def write_report(path: str | Path, title: str, config: dict[str, Any], metrics: dict[str, Any],
                 images: list[Path]) -> Path:
    """Write ``report.html`` with the config, the metrics and the images inlined as base64."""
    path = Path(path)
    parts = [page_head(title), f"<h1>{esc(title)}</h1>", "<h2>Metrics</h2>",
             f"<pre>{esc(json.dumps(metrics, indent=1, default=str))}</pre>",
             "<h2>Configuration</h2>", f"<pre>{esc(yaml.safe_dump(config, sort_keys=False))}</pre>"]
    for img in images:
        parts.append(f"<h2>{esc(Path(img).name)}</h2><img src='{png_data_uri(img)}' alt='{esc(Path(img).name)}'>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
