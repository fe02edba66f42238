from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

FIXTURES = Path(__file__).parent / "fixtures"
PTBXL = FIXTURES / "ptbxl"
RECORD_1 = PTBXL / "records100" / "00000" / "00001_lr"


@pytest.fixture
def ptbxl_root() -> Path:
    return PTBXL


@pytest.fixture
def record_path() -> Path:
    return RECORD_1
