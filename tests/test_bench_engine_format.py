"""The markdown section ``benchmarks/engine.py --write-results`` appends (formatting only, no benchmark run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "benchmarks" / "engine.py"


def _engine_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("bench_engine", ENGINE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RES = {"encoder": "net1d_s", "threads": 1, "batch": 64, "input": "12x1000 (100 Hz, 10 s)", "train_records": 629,
       "bare_samples_per_s": 305.4, "engine_samples_per_s": 287.9, "engine_overhead_pct": 5.7,
       "bare_epochs": [312.7, 306.3], "engine_epochs": [290.7, 1281.4],
       "parameters": {"net1d_s": {"params_1_lead": 447728, "paper": 448000, "gap_pct": -0.06},
                      "vit_micro": {"params_1_lead": 12345, "paper": None, "gap_pct": None}},
       "inference_ecgs_per_s": {"net1d_s": 1202.0, "net1d_tiny": 6661.3},
       "machine": "x86_64, 2 cores, torch 2.5", "load_average": (2.0, 1.5, 1.25)}


def test_results_markdown_has_command_and_numbers() -> None:
    text = _engine_module().results_markdown(RES, ["benchmarks/engine.py", "--n", "800", "--write-results"],
                                             date="2026-12-04")
    assert text.startswith("## Engine overhead and inference throughput — 2026-12-04\n")
    assert "python benchmarks/engine.py --n 800 --write-results" in text
    assert "| bare PyTorch loop | 312.7, 306.3 | 305.4 |" in text
    assert "| cardiofm engine | 290.7, 1,281.4 | 287.9 |" in text
    assert "**5.7 %**" in text
    assert "| `net1d_s` | 1,202.0 |" in text and "| `net1d_tiny` | 6,661.3 |" in text
    assert "| `net1d_s` | 447,728 | 448,000 | -0.06 % |" in text
    assert "| `vit_micro` | 12,345 | – | – |" in text
    assert "load average at the end 2.00, 1.50, 1.25" in text and "629 training records" in text
    assert text.endswith("\n")


def test_parser_has_write_results_flag(tmp_path: Path) -> None:
    parser = _engine_module().build_parser()
    args = parser.parse_args(["--write-results", "--results", str(tmp_path / "R.md")])
    assert args.write_results and args.results == tmp_path / "R.md"
    default = parser.parse_args([])
    assert not default.write_results and default.results == ENGINE.parent / "RESULTS.md"
