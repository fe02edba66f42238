"""Render a run's ``report.html`` in headless Chromium and save screenshots to look at.

    python benchmarks/screenshot.py runs/anyecg-synthetic --out benchmarks/figures/report_anyecg.png

Needs the Debian package ``chromium`` (``apt-get install chromium``). The full page is captured at
1300 px width; ``--pages`` also writes it cut into screen-sized PNGs (``<out stem>_<k>.png``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path


def screenshot(report: Path, out: Path, width: int = 1300, height: int = 16000) -> Path:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--window-size={width},{height}", f"--screenshot={out.resolve()}", report.resolve().as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    return out


def crop_pages(shot: Path, page: int = 2000) -> list[Path]:
    """Cut the full-page screenshot into pages, dropping the blank tail."""
    import numpy as np
    from PIL import Image

    im = Image.open(shot).convert("RGB")
    rows = np.flatnonzero(np.asarray(im).min(axis=(1, 2)) < 250)
    bottom = int(rows.max()) + 20 if len(rows) else im.height
    im = im.crop((0, 0, im.width, min(bottom, im.height)))
    im.save(shot)
    pages = []
    for k, top in enumerate(range(0, im.height, page)):
        p = shot.with_name(f"{shot.stem}_{k}.png")
        im.crop((0, top, im.width, min(top + page, im.height))).save(p)
        pages.append(p)
    return pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path, help="run folder holding report.html")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pages", action="store_true", help="also write screen-sized pages")
    args = ap.parse_args()
    report = args.run / "report.html"
    if not report.exists():
        raise SystemExit(f"{report}: missing; run `cardiofm evaluate {args.run}` first")
    shot = screenshot(report, args.out)
    pages = crop_pages(shot) if args.pages else []
    print(f"{shot} ({len(pages)} pages)")


if __name__ == "__main__":
    sys.exit(main())
