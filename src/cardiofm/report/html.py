"""A self-contained HTML report for a run directory (images embedded, no external assets)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import yaml


def write_report(path: str | Path, title: str, config: dict[str, Any], metrics: dict[str, Any],
                 images: list[Path]) -> Path:
    """Write ``report.html`` with the config, the metrics and the images inlined as base64."""
    path = Path(path)
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
             "pre{background:#f6f6f6;padding:1em;overflow:auto}img{max-width:100%}</style>",
             f"<h1>{html.escape(title)}</h1>", "<h2>Metrics</h2>",
             f"<pre>{html.escape(json.dumps(metrics, indent=1, default=str))}</pre>",
             "<h2>Configuration</h2>", f"<pre>{html.escape(yaml.safe_dump(config, sort_keys=False))}</pre>"]
    for img in images:
        data = base64.b64encode(Path(img).read_bytes()).decode()
        parts.append(f"<h2>{html.escape(Path(img).name)}</h2><img src='data:image/png;base64,{data}'>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
