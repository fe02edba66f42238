"""Diagnosis codes of the PhysioNet/CinC Challenges 2020 and 2021.

The ``#Dx`` header field holds SNOMED CT codes (``59118001,164884008``) or, in the first CPSC-2018
release, the CPSC-2018 class names (``RBBB``, ``I-AVB``, ``Normal``, ...). Both are turned into SNOMED
CT codes with the table shipped as ``cardiofm/resources/cinc_dx_mapping.csv`` (built from the
challenges' own ``dx_mapping_scored.csv`` / ``dx_mapping_unscored.csv``; see the resources README).

Scored classes follow the challenge metric: some codes are scored as one class, written as the
codes joined by ``|`` with the representative code first (``713427006|59118001``).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from cardiofm.data.cohort import LabelSet
from cardiofm.errors import ConfigError

MAPPING_FILE = "cinc_dx_mapping.csv"
YEARS = (2020, 2021)


@dataclass(frozen=True)
class ScoredClass:
    """One class of a challenge's metric: its id, its member codes and a human description."""

    code: str
    members: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class DxTable:
    """The mapping table indexed by SNOMED CT code, plus the abbreviation lookup."""

    table: pd.DataFrame
    by_abbreviation: dict[str, str]

    def name(self, code: str) -> str | None:
        """Full name of a code, or ``None`` when the table does not list it."""
        return str(self.table.at[code, "name"]) if code in self.table.index else None

    def scored_classes(self, year: int = 2021) -> list[ScoredClass]:
        """The classes a challenge year scored, in table order, equivalent codes merged."""
        if year not in YEARS:
            raise ConfigError(f"CinC scored classes exist for {' and '.join(map(str, YEARS))}, not {year}")
        column = self.table[f"class_{year}"]
        out: list[ScoredClass] = []
        for cls in dict.fromkeys(c for c in column if c):
            members = tuple(cls.split("|"))
            names = [self.name(m) or m for m in members]
            out.append(ScoredClass(cls, members, " | ".join(names)))
        return out


@lru_cache(maxsize=1)
def dx_table() -> DxTable:
    """Load the packaged mapping table (cached)."""
    text = files("cardiofm").joinpath("resources", MAPPING_FILE).read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).set_index("snomed_ct")
    lookup: dict[str, str] = {}
    for code, abbr in table["abbreviation"].items():
        if abbr:
            lookup.setdefault(abbr.lower(), str(code))
    # CPSC-2018 class names win over the challenge abbreviations: "PVC" in a CPSC-2018 header is
    # 164884008 (ventricular ectopics), not the 2021 table's PVC (427172004).
    for code, label in table["cpsc2018_label"].items():
        if label:
            lookup[label.lower()] = str(code)
    return DxTable(table, lookup)


def split_dx(field: str | None) -> list[str]:
    """The entries of a ``#Dx`` value: split on commas, stripped, empty entries and repeats dropped."""
    if not field:
        return []
    return list(dict.fromkeys(t.strip() for t in str(field).split(",") if t.strip()))


def normalise_dx(field: str | None) -> tuple[list[str], list[str]]:
    """SNOMED CT codes of a ``#Dx`` value, and the entries the table does not know.

    Numeric entries are kept as codes even when unknown (they are still SNOMED CT codes);
    unknown abbreviations cannot be turned into a code and are only reported.
    """
    table = dx_table()
    codes: list[str] = []
    unknown: list[str] = []
    for token in split_dx(field):
        if token.isdigit():
            code = str(int(token))
            if code not in table.table.index:
                unknown.append(code)
        else:
            code = table.by_abbreviation.get(token.lower())
            if code is None:
                unknown.append(token)
                continue
        if code not in codes:
            codes.append(code)
    return codes, unknown


def describe(codes: Iterable[str]) -> str:
    """Full names of the known codes joined with ``"; "`` (a pseudo-report); empty when none is known."""
    table = dx_table()
    return "; ".join(n for n in (table.name(c) for c in codes) if n)


def dx_labels(dx_lists: Sequence[Sequence[str]]) -> LabelSet:
    """Task ``dx``: one column per SNOMED CT code present, in code order."""
    table = dx_table()
    codes = sorted({c for row in dx_lists for c in row}, key=int)
    col = {c: j for j, c in enumerate(codes)}
    m = np.zeros((len(dx_lists), len(codes)), dtype=np.uint8)
    for i, row in enumerate(dx_lists):
        for c in row:
            m[i, col[c]] = 1
    desc = [table.name(c) or f"SNOMED CT {c} (not in the CinC tables)" for c in codes]
    return LabelSet("dx", codes, desc, m)


def scored_labels(dx_lists: Sequence[Sequence[str]], year: int = 2021) -> LabelSet:
    """Task ``scored``: the challenge year's scored classes (all of them), equivalent codes merged."""
    classes = dx_table().scored_classes(year)
    col = {m: j for j, cls in enumerate(classes) for m in cls.members}
    m = np.zeros((len(dx_lists), len(classes)), dtype=np.uint8)
    for i, row in enumerate(dx_lists):
        for c in row:
            if c in col:
                m[i, col[c]] = 1
    return LabelSet("scored", [c.code for c in classes], [c.description for c in classes], m)


def count_unknown(unknown_lists: Iterable[Sequence[str]]) -> dict[str, int]:
    """How often each unknown entry occurs (entry -> records), most frequent first."""
    counts = Counter(u for row in unknown_lists for u in row)
    return dict(counts.most_common())
