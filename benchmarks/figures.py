"""Synthetic vs real, one figure per condition: a synthetic record above a real PTB-XL record.

    python benchmarks/figures.py --root ../shared/data/ptbxl --out benchmarks/figures

For every condition of the synthetic vocabulary (except the plain SR rhythm statement), renders a
synthetic record at 100 Hz with recording noise (seeded) and picks the real PTB-XL record of the
subset that carries the same SCP code with the fewest other statements, both in the clinical
layout (25 mm/s, 10 mm/mV), stacked into ``<CODE>.png``; ``index.md`` lists what was drawn.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cardiofm.data.sources import open_cohort  # noqa: E402
from cardiofm.report.plots import plot_ecg  # noqa: E402
from cardiofm.synth.cohort import render_record  # noqa: E402
from cardiofm.synth.conditions import CONDITIONS, SINUS_RHYTHMS  # noqa: E402
from cardiofm.synth.noise import RecordingNoise  # noqa: E402


def synthetic_conditions(code: str) -> list[str]:
    if code in SINUS_RHYTHMS or code == "AFIB":
        return [code] if code != "SR" else ["SR", "NORM"]
    if code == "NORM":
        return ["SR", "NORM"]
    extra = ["STD_"] if code == "ISC_" else []
    return ["SR", code, *extra]


def _shrink(path: Path) -> None:
    """Re-save as a 64-colour palette PNG (the figures are committed; this makes them ~4x smaller)."""
    from PIL import Image

    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=64).save(path, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path("../shared/data/ptbxl"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/figures"))
    ap.add_argument("--dpi", type=int, default=70)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    real = open_cohort("ptbxl", args.root)
    labels = real.labels("all")
    n_codes = labels.matrix.sum(1)
    noise = RecordingNoise(100.0)
    lines = ["# Synthetic (top) vs real PTB-XL (bottom), one figure per condition", "",
             "Made by `python benchmarks/figures.py --root ../shared/data/ptbxl --out benchmarks/figures`.", "",
             "| condition | synthetic record | real PTB-XL record (its SCP statements) |", "| --- | --- | --- |"]
    tmp = Path(tempfile.mkdtemp())
    for i, code in enumerate(c for c in CONDITIONS if c != "SR"):
        conds = synthetic_conditions(code)
        rec, _ = render_record(conds, 100.0, 10.0, np.random.default_rng((11, i)), noise=noise,
                               record_id=f"synthetic: {';'.join(conds)}")
        plot_ecg(rec, tmp / "syn.png", dpi=args.dpi)
        if code not in labels.codes or not labels.matrix[:, labels.codes.index(code)].any():
            lines.append(f"| {code} | {';'.join(conds)} | none in the subset |")
            continue
        rows = np.flatnonzero(labels.matrix[:, labels.codes.index(code)])
        j = int(rows[np.argmin(n_codes[rows])])
        statements = ";".join(c for c, v in zip(labels.codes, labels.matrix[j], strict=True) if v)
        r = real.load(j)
        r.record_id = f"PTB-XL {real.index.at[j, 'record_id']}: {statements}"
        plot_ecg(r, tmp / "real.png", dpi=args.dpi)
        top, bottom = plt.imread(tmp / "syn.png"), plt.imread(tmp / "real.png")
        h = (top.shape[0] + bottom.shape[0]) / args.dpi
        fig, axes = plt.subplots(2, 1, figsize=(top.shape[1] / args.dpi, h), dpi=args.dpi)
        for ax, img in zip(axes, (top, bottom), strict=True):
            ax.imshow(img)
            ax.axis("off")
        fig.subplots_adjust(0, 0, 1, 1, 0, 0.01)
        fig.savefig(args.out / f"{code}.png", dpi=args.dpi)
        plt.close(fig)
        _shrink(args.out / f"{code}.png")
        lines.append(f"| {code} ({CONDITIONS[code].en}) | {';'.join(conds)} | "
                     f"{real.index.at[j, 'record_id']} ({statements}) |")
    (args.out / "index.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
