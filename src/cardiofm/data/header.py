"""A small, strict parser for WFDB header (``.hea``) files, and the header-versus-file size check.

Used by the format-16 fast path, by the CinC reader and by the sources' scans. It accepts what
``wfdb.rdheader`` rejects in real data, e.g. Georgia (CinC 2020) headers whose record line names
``E00001.mat``, but rejects every header that would make a reader open another file or decode the
samples into the wrong leads. Each rejection is a :class:`RecordError` naming the header:

- the number of signal lines must equal the signal count of the record line (a 12-lead stream
  read as 11 signals puts every sample in the wrong lead);
- a signal file is a plain file name in the header's own folder (no ``/``, ``\\`` or ``..``);
- gains are finite and positive (0 means WFDB's default, 200 adu per physical unit); the
  sampling rate lies in ``[MIN_FS, MAX_FS]`` Hz; counts, offsets and skews are integers >= 0;
- multi-segment records (``name/segments``) are not supported.

:func:`check_signal_files` then compares the header with the sizes of its signal files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from cardiofm.errors import RecordError

_FMT = re.compile(r"^(?P<fmt>\d+)(?:x(?P<spf>\d+))?(?::(?P<skew>\d+))?(?:\+(?P<offset>\d+))?$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_GAIN = re.compile(rf"^(?P<gain>{_NUMBER})(?:\((?P<baseline>[-+]?\d+)\))?(?:/(?P<units>.+))?$")
_COUNT = re.compile(r"^\d+$")
_MULTI_SEGMENT = re.compile(r"^[^/]+/\d+$")
DEFAULT_GAIN = 200.0
DEFAULT_FS = 250.0  # WFDB's default when the record line gives no rate
MIN_FS, MAX_FS = 1.0, 100_000.0  # outside this an "ECG" rate is a broken header (and would make resampling explode)
# (samples, bytes) per packing group of the WFDB formats whose file size follows from the sample count.
# Format 0 has no file; FLAC formats (508, 516, 524) are compressed and left to wfdb.
FORMAT_PACKING = {"8": (1, 1), "16": (1, 2), "24": (1, 3), "32": (1, 4), "61": (1, 2), "80": (1, 1),
                  "160": (1, 2), "212": (2, 3), "310": (3, 4), "311": (3, 4)}


@dataclass
class SignalSpec:
    file: str
    fmt: str
    name: str
    gain: float = DEFAULT_GAIN
    baseline: int = 0
    units: str = "mV"
    byte_offset: int = 0
    samples_per_frame: int = 1
    skew: int = 0


@dataclass
class Header:
    record_name: str
    n_sig: int
    fs: float
    sig_len: int | None
    signals: list[SignalSpec]
    comments: list[str] = field(default_factory=list)
    path: Path | None = None


def parse_header(path: str | Path) -> Header:
    """Parse a ``.hea`` file; raises :class:`RecordError` naming the file and line at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise RecordError(path, "header file is missing") from None
    except (OSError, ValueError) as exc:
        raise RecordError(path, f"header file cannot be read ({exc})") from None
    lines = [ln.strip() for ln in text.splitlines()]
    comments = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
    body = [ln.split("#", 1)[0].strip() for ln in lines if ln and not ln.startswith("#")]
    if not body:
        raise RecordError(path, "header is empty")
    head = body[0].split()
    if len(head) < 2:
        raise RecordError(path, f"record line {body[0]!r} needs at least a name and a signal count")
    if _MULTI_SEGMENT.match(head[0]):
        raise RecordError(path, f"multi-segment record {head[0]!r} is not supported; "
                                "convert it to a single-segment record")
    name = re.sub(r"\.(mat|dat|hea)$", "", head[0].split("/")[0], flags=re.IGNORECASE)
    if not _COUNT.match(head[1]) or (len(head) > 3 and not _COUNT.match(head[3])):
        raise RecordError(path, f"record line {body[0]!r} is malformed (signal count and length must be "
                                "whole numbers)")
    n_sig = int(head[1])
    sig_len = int(head[3]) if len(head) > 3 else None
    fs = _rate(head[2], body[0], path) if len(head) > 2 else DEFAULT_FS
    if n_sig == 0:
        raise RecordError(path, "header lists no signals")
    if len(body) - 1 != n_sig:
        raise RecordError(path, f"the record line announces {n_sig} signal(s) but {len(body) - 1} signal "
                                "line(s) follow; the header is malformed")
    specs = [_parse_signal(ln, path) for ln in body[1:]]
    return Header(record_name=name, n_sig=n_sig, fs=fs, sig_len=sig_len, signals=specs, comments=comments,
                  path=path)


def _rate(text: str, line: str, path: Path) -> float:
    try:
        fs = float(text.split("/")[0])
    except ValueError:
        raise RecordError(path, f"record line {line!r} is malformed (sampling rate {text!r})") from None
    if not math.isfinite(fs) or not MIN_FS <= fs <= MAX_FS:
        raise RecordError(path, f"sampling rate {text!r} is not a number of Hz in {MIN_FS:g}..{MAX_FS:g}")
    return fs


def _parse_signal(line: str, path: Path) -> SignalSpec:
    parts = line.split()
    if len(parts) < 2:
        raise RecordError(path, f"signal line {line!r} needs a file name and a format")
    if not is_plain_file_name(parts[0]):
        raise RecordError(path, f"signal line {line!r}: signal file {parts[0]!r} must be a plain file name "
                                "in the header's folder (no path separators, no '..')")
    m = _FMT.match(parts[1])
    if not m:
        raise RecordError(path, f"signal line {line!r}: format {parts[1]!r} not understood")
    spec = SignalSpec(file=parts[0], fmt=m["fmt"], name=parts[8] if len(parts) > 8 else "",
                      byte_offset=int(m["offset"] or 0), samples_per_frame=int(m["spf"] or 1),
                      skew=int(m["skew"] or 0))
    if spec.samples_per_frame < 1:
        raise RecordError(path, f"signal line {line!r}: samples per frame must be at least 1")
    spec.baseline = int(parts[4]) if len(parts) > 4 and _is_int(parts[4]) else 0
    if len(parts) > 2:
        g = _GAIN.match(parts[2])
        if not g:
            raise RecordError(path, f"signal line {line!r}: gain {parts[2]!r} not understood")
        gain = float(g["gain"])
        if not math.isfinite(gain) or gain < 0:
            raise RecordError(path, f"signal line {line!r}: gain {parts[2]!r} must be a finite positive number "
                                    "(0 means the default 200)")
        spec.gain = gain if gain != 0 else DEFAULT_GAIN
        if g["baseline"] is not None:
            spec.baseline = int(g["baseline"])
        if g["units"]:
            spec.units = g["units"]
    if len(parts) > 8:
        spec.name = " ".join(parts[8:])
    return spec


def is_plain_file_name(name: str) -> bool:
    """A file name without directory parts: what WFDB allows as a header's signal file."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\x00")


def _is_int(s: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", s) is not None


def signal_files(h: Header) -> dict[str, list[SignalSpec]]:
    """The header's signal specs grouped by file name, in order of first appearance."""
    files: dict[str, list[SignalSpec]] = {}
    for s in h.signals:
        files.setdefault(s.file, []).append(s)
    return files


def check_signal_files(h: Header, folder: Path) -> None:
    """Raise :class:`RecordError` unless each signal file exists and its size fits the header.

    Rule for the formats of :data:`FORMAT_PACKING`: with a length in the header, the file holds
    exactly ``byte offset + samples x frame size`` bytes (packed formats may pad their last group;
    skewed signals may add up to ``max skew`` frames). A shorter file is truncated, a longer one
    belongs to another header (wrong signal count or length), and both are errors. Without a
    length, the data must be a whole number of frames. ``.mat`` files (CinC; checked against
    ``val``) and formats not listed (compressed, or unknown to cardiofm) are left to their readers.
    """
    for name, specs in signal_files(h).items():
        if specs[0].fmt != "0" and not name.lower().endswith(".mat"):
            check_signal_file(folder / name, specs, h)


def check_signal_file(path: Path, specs: list[SignalSpec], h: Header) -> None:
    """:func:`check_signal_files` for one file holding ``specs`` (signals in file order)."""
    where = h.path.name if h.path else "the header"
    if len({s.fmt for s in specs}) != 1:
        raise RecordError(path, f"signals of one file have different formats in {where}")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise RecordError(path, "signal file is missing") from None
    except (OSError, ValueError) as exc:
        raise RecordError(path, f"signal file cannot be read ({exc})") from None
    if not path.is_file():
        raise RecordError(path, "signal file is not a regular file")
    packing = FORMAT_PACKING.get(specs[0].fmt)
    if packing is None:
        return
    group_samples, group_bytes = packing
    frame = sum(s.samples_per_frame for s in specs)  # samples per frame in this file
    data = size - specs[0].byte_offset
    if not h.sig_len:
        if data <= 0 or (group_samples == 1 and data % (frame * group_bytes)):
            raise RecordError(path, f"{max(data, 0)} bytes of samples are not a whole number of "
                                    f"{len(specs)}-signal frames of format {specs[0].fmt} ({where}); "
                                    "header and signal file do not belong together")
        return
    samples = h.sig_len * frame
    least = math.ceil(samples * group_bytes / group_samples)
    most = math.ceil(samples / group_samples) * group_bytes
    most += math.ceil(max(s.skew for s in specs) * frame * group_bytes / group_samples)
    if data < least:
        raise RecordError(path, f"truncated: {where} announces {h.sig_len} samples of {len(specs)} signal(s) "
                                f"({least} bytes after the {specs[0].byte_offset}-byte offset), "
                                f"the file holds {max(data, 0)}")
    if data > most:
        raise RecordError(path, f"{data - most} bytes longer than the {h.sig_len} samples of {len(specs)} "
                                f"signal(s) that {where} announces; header and signal file do not belong "
                                "together (wrong signal count or length)")
