"""Packaging facts a user or a citation tool reads: the licence file and the citation metadata."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_licence_file_matches_the_declared_licence():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_citation_file_cites_every_system_paper_and_ptbxl():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    titles = [r["title"] for r in cff["references"]]
    for needle in ("CLEF", "SuPreME", "CardioPRIME", "Coronary CT Angiography", "Simulator and Experience", "PTB-XL"):
        assert sum(needle in t for t in titles) == 1, needle
    assert all(r["authors"] for r in cff["references"])
    import cardiofm

    assert cff["version"] == cardiofm.__version__
