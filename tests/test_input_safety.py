"""Data-input hardening, headers: strict WFDB headers, header-versus-file sizes, plain signal-file names.
Every rejection is a RecordError (one line naming the file) or a counted skip. Sources: test_source_containment.py."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import wfdb

from cardiofm.data.header import parse_header
from cardiofm.data.io import read_record, read_wfdb
from cardiofm.data.sources import open_cohort
from cardiofm.data.sources.cinc import read_cinc
from cardiofm.errors import CardiofmError, RecordError

from conftest import RECORD_1

CINC_A0001 = Path(__file__).parent / "fixtures" / "cinc" / "WFDB_CPSC2018" / "A0001"
LINKS = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs POSIX symbolic links")


def copy_record(folder: Path, name: str = "r", src: Path = RECORD_1) -> Path:
    """The 12-lead, 100 Hz, format-16 fixture record as ``folder/name`` (.hea + .dat); returns the base."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.hea").write_text(Path(f"{src}.hea").read_text().replace(src.name, name))
    shutil.copy(f"{src}.dat", folder / f"{name}.dat")
    return folder / name


def edit_header(base: Path, fn: Callable[[list[str]], list[str]]) -> Path:
    hea = Path(f"{base}.hea")
    hea.write_text("\n".join(fn(hea.read_text().splitlines())) + "\n")
    return hea


def set_field(row: int, col: int, value: str) -> Callable[[list[str]], list[str]]:
    """Header edit: field ``col`` of line ``row`` (0 = record line) becomes ``value``."""
    def fn(lines: list[str]) -> list[str]:
        parts = lines[row].split()
        parts[col] = value
        lines[row] = " ".join(parts)
        return lines
    return fn


def reference() -> np.ndarray:
    return read_wfdb(RECORD_1).signal


# ---- signal count ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("claimed", ["11", "13"])
def test_signal_count_must_equal_the_signal_lines(tmp_path, claimed, fast):
    base = copy_record(tmp_path)
    hea = edit_header(base, set_field(0, 1, claimed))
    with pytest.raises(RecordError, match=rf"announces {claimed} signal\(s\) but 12 signal line") as err:
        read_wfdb(base, fast=fast)
    assert err.value.path == str(hea) and str(err.value).startswith(str(hea))


@pytest.mark.parametrize("fast", [True, False])
def test_understated_count_with_a_line_dropped_is_caught_by_the_file_size(tmp_path, fast):
    # 11 signal lines and "11" on the record line: only the .dat size shows the 12-channel stream
    base = copy_record(tmp_path)
    edit_header(base, lambda lines: set_field(0, 1, "11")(lines[:-1]))
    with pytest.raises(RecordError, match="longer than") as err:
        read_wfdb(base, fast=fast)
    assert err.value.path == f"{base}.dat"


# ---- gains and other numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("gain", ["1e400", "1e400(0)/mV", "-1000(0)/mV", "nan", "inf", "-inf", "1..0(0)/mV",
                                  "--1", "1e3e4", "abc/mV", "(0)/mV"])
def test_bad_gains_are_record_errors_naming_the_header(tmp_path, gain):
    base = copy_record(tmp_path)
    hea = edit_header(base, set_field(3, 2, gain))
    for fn in (parse_header, lambda h: read_wfdb(base), lambda h: read_wfdb(base, fast=False)):
        with pytest.raises(RecordError, match="gain") as err:
            fn(hea)
        assert err.value.path == str(hea)


def test_gain_zero_means_the_wfdb_default_200(tmp_path):
    base = copy_record(tmp_path)
    edit_header(base, set_field(1, 2, "0(0)/mV"))
    rec = read_wfdb(base)
    np.testing.assert_allclose(rec.signal[0], reference()[0].astype(np.float64) * 5.0, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(rec.signal[1:], reference()[1:])
    np.testing.assert_array_equal(read_wfdb(base, fast=False).signal, rec.signal)


RECORD_LINES = {
    "fs text": "r 12 abc 1000", "fs zero": "r 12 0 1000", "fs negative": "r 12 -100 1000",
    "fs inf": "r 12 inf 1000", "fs nan": "r 12 nan 1000", "fs overflow": "r 12 1e400 1000",
    "fs below 1 Hz": "r 12 1e-9 1000", "fs absurd": "r 12 1e12 1000",
    "sig_len negative": "r 12 100 -5", "sig_len text": "r 12 100 abc", "sig_len fraction": "r 12 100 1.5",
    "n_sig zero": "r 0 100 1000", "n_sig negative": "r -1 100 1000", "n_sig text": "r abc 100 1000",
    "n_sig huge": "r 99999999999999999999 100 1000", "n_sig underscore": "r 1_2 100 1000",
    "multi-segment": "r/2 12 100 1000", "name only": "r",
}


@pytest.mark.parametrize("kind", list(RECORD_LINES))
def test_malformed_record_lines_are_record_errors(tmp_path, kind):
    base = copy_record(tmp_path)
    hea = edit_header(base, lambda lines: [RECORD_LINES[kind], *lines[1:]])
    with pytest.raises(RecordError) as err:
        read_wfdb(base)
    assert str(err.value).startswith(f"{hea}: ") and "\n" not in str(err.value)


@pytest.mark.parametrize("fmt", ["16+abc", "16+-4", "16x0", "abc", "16:-1", "16x", "1.6"])
def test_malformed_format_fields_are_record_errors(tmp_path, fmt):
    base = copy_record(tmp_path)
    hea = edit_header(base, set_field(5, 1, fmt))
    with pytest.raises(RecordError) as err:
        parse_header(hea)
    assert err.value.path == str(hea)


def test_fuzzed_headers_raise_only_cardiofm_errors(tmp_path):
    base = copy_record(tmp_path)
    original = Path(f"{base}.hea").read_text().splitlines()
    tokens = ["", "-1", "0", "1e400", "nan", "abc", "1..0", "x0", "../x.dat", "99999999999999", "212", "24",
              "16+2", "16:3", "16x2", "(0)", "/", "#", "0.5", "1_0", "\x00", "a/3", "16+24000"]
    rng = random.Random(0)
    for _ in range(250):
        lines = list(original)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            parts = lines[i].split(" ")
            j = rng.randrange(len(parts))
            parts[j] = rng.choice(tokens) if rng.random() < 0.7 else parts[j] + rng.choice(tokens)
            lines[i] = " ".join(parts)
        if rng.random() < 0.2:
            lines.insert(rng.randrange(1, len(lines)), rng.choice(lines[1:]))
        Path(f"{base}.hea").write_text("\n".join(lines))
        for fast in (True, False):
            try:
                read_wfdb(base, fast=fast)
            except CardiofmError:
                pass  # anything else (ValueError, IndexError, ...) fails the test


# ---- header versus signal-file size ------------------------------------------------------------------
@pytest.mark.parametrize("fast", [True, False])
def test_signal_file_must_hold_exactly_what_the_header_announces(tmp_path, fast):
    base = copy_record(tmp_path)
    dat = Path(f"{base}.dat")
    data = dat.read_bytes()
    np.testing.assert_array_equal(read_wfdb(base, fast=fast).signal, reference())  # exact size: reads
    dat.write_bytes(data[:-2])
    with pytest.raises(RecordError, match="truncated") as err:
        read_wfdb(base, fast=fast)
    assert err.value.path == str(dat)
    dat.write_bytes(data + b"\0\0")
    with pytest.raises(RecordError, match="2 bytes longer") as err:
        read_wfdb(base, fast=fast)
    assert err.value.path == str(dat)
    dat.write_bytes(data)
    edit_header(base, lambda lines: [f"{lines[0]}".replace(" 100 1000", " 100"), *lines[1:]])  # no length
    np.testing.assert_array_equal(read_wfdb(base, fast=fast).signal, reference())
    dat.write_bytes(data + b"\0")
    with pytest.raises(RecordError, match="whole number of"):
        read_wfdb(base, fast=fast)


def test_byte_offset_counts_in_the_size(tmp_path):
    base = copy_record(tmp_path)
    edit_header(base, lambda lines: [lines[0], *[set_field(0, 1, "16+100")([ln])[0] for ln in lines[1:]]])
    with pytest.raises(RecordError, match="truncated"):
        read_wfdb(base)
    dat = Path(f"{base}.dat")
    dat.write_bytes(b"\x7f" * 100 + Path(f"{RECORD_1}.dat").read_bytes())
    np.testing.assert_array_equal(read_wfdb(base).signal, reference())


def test_format_212_size_rule(tmp_path):
    digital = np.random.default_rng(0).integers(-2000, 2000, size=(999, 2)).astype(np.int32)
    wfdb.wrsamp("p", fs=360, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=["212", "212"],
                adc_gain=[200.0, 200.0], baseline=[0, 0], write_dir=str(tmp_path))
    ref = wfdb.rdrecord(str(tmp_path / "p")).p_signal.T
    np.testing.assert_allclose(read_wfdb(tmp_path / "p").signal, ref, atol=1e-6)
    dat = tmp_path / "p.dat"
    dat.write_bytes(dat.read_bytes()[:-1])
    with pytest.raises(RecordError, match="truncated") as err:
        read_wfdb(tmp_path / "p")
    assert err.value.path == str(dat)


# ---- signal file names ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../outside/x.dat", "sub/x.dat", "ABSOLUTE", "..", "a\\b.dat"])
def test_signal_file_must_be_a_plain_name_in_the_header_folder(tmp_path, name):
    outside = copy_record(tmp_path / "outside", "x")  # a valid record the header would point at
    (tmp_path / "root" / "sub").mkdir(parents=True)
    shutil.copy(f"{outside}.dat", tmp_path / "root" / "sub" / "x.dat")
    name = f"{outside}.dat" if name == "ABSOLUTE" else name
    base = copy_record(tmp_path / "root")
    hea = edit_header(base, lambda lines: [lines[0], *[set_field(0, 0, name)([ln])[0] for ln in lines[1:]]])
    for fast in (True, False):
        with pytest.raises(RecordError, match="plain file name") as err:
            read_wfdb(base, fast=fast)
        assert err.value.path == str(hea)
    c = open_cohort("folder", tmp_path / "root", folds=0)
    assert len(c) == 0
    assert ["plain file name" in s.reason for s in c.skipped if s.path == str(hea)] == [True]


def test_cinc_header_cannot_name_a_mat_elsewhere(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(f"{CINC_A0001}.mat", tmp_path / "elsewhere" / "A0001.mat")
    (tmp_path / "db").mkdir()
    text = Path(f"{CINC_A0001}.hea").read_text().replace("A0001.mat", "../elsewhere/A0001.mat")
    (tmp_path / "db" / "A0001.hea").write_text(text)
    with pytest.raises(RecordError, match="plain file name"):
        read_cinc(tmp_path / "db" / "A0001")
    with pytest.raises(RecordError, match="plain file name"):
        read_record(tmp_path / "db" / "A0001.hea")
