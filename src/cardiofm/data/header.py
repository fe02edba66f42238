"""A small, tolerant parser for WFDB header (``.hea``) files.

Used by the format-16 fast path and by the CinC reader. It accepts what ``wfdb.rdheader``
rejects in real data, e.g. Georgia (CinC 2020) headers whose record line names ``E00001.mat``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cardiofm.errors import RecordError

_FMT = re.compile(r"^(?P<fmt>\d+)(?:x(?P<spf>\d+))?(?::(?P<skew>\d+))?(?:\+(?P<offset>\d+))?$")
_GAIN = re.compile(r"^(?P<gain>[-+0-9.eE]+)(?:\((?P<baseline>-?\d+)\))?(?:/(?P<units>.+))?$")
DEFAULT_GAIN = 200.0


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


def parse_header(path: str | Path) -> Header:
    """Parse a ``.hea`` file; raises :class:`RecordError` naming the file and line at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise RecordError(path, "header file is missing") from None
    except OSError as exc:
        raise RecordError(path, f"header file cannot be read ({exc})") from None
    lines = [ln.strip() for ln in text.splitlines()]
    comments = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
    body = [ln.split("#", 1)[0].strip() for ln in lines if ln and not ln.startswith("#")]
    if not body:
        raise RecordError(path, "header is empty")
    head = body[0].split()
    if len(head) < 2:
        raise RecordError(path, f"record line {body[0]!r} needs at least a name and a signal count")
    name = re.sub(r"\.(mat|dat|hea)$", "", head[0].split("/")[0], flags=re.IGNORECASE)
    try:
        n_sig = int(head[1])
        fs = float(head[2].split("/")[0]) if len(head) > 2 else 250.0
        sig_len = int(head[3]) if len(head) > 3 else None
    except ValueError:
        raise RecordError(path, f"record line {body[0]!r} is malformed") from None
    specs = [_parse_signal(ln, path) for ln in body[1:1 + n_sig]]
    if len(specs) != n_sig:
        raise RecordError(path, f"header announces {n_sig} signals but describes {len(specs)}")
    return Header(record_name=name, n_sig=n_sig, fs=fs, sig_len=sig_len, signals=specs, comments=comments)


def _parse_signal(line: str, path: Path) -> SignalSpec:
    parts = line.split()
    if len(parts) < 2:
        raise RecordError(path, f"signal line {line!r} needs a file name and a format")
    m = _FMT.match(parts[1])
    if not m:
        raise RecordError(path, f"signal line {line!r}: format {parts[1]!r} not understood")
    spec = SignalSpec(file=parts[0], fmt=m["fmt"], name=parts[8] if len(parts) > 8 else "",
                      byte_offset=int(m["offset"] or 0), samples_per_frame=int(m["spf"] or 1),
                      skew=int(m["skew"] or 0))
    adc_zero = int(parts[4]) if len(parts) > 4 and _is_int(parts[4]) else 0
    spec.baseline = adc_zero
    if len(parts) > 2:
        g = _GAIN.match(parts[2])
        if not g:
            raise RecordError(path, f"signal line {line!r}: gain {parts[2]!r} not understood")
        gain = float(g["gain"])
        spec.gain = gain if gain != 0 else DEFAULT_GAIN
        if g["baseline"] is not None:
            spec.baseline = int(g["baseline"])
        if g["units"]:
            spec.units = g["units"]
    if len(parts) > 8:
        spec.name = " ".join(parts[8:])
    return spec


def _is_int(s: str) -> bool:
    try:
        int(s)
    except ValueError:
        return False
    return True
