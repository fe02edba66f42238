from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from cardiofm.data.io import read_record
from cardiofm.errors import ConfigError, LeadError, RecordError
from cardiofm.report import plots
from cardiofm.report.plots import plot_ecg
from cardiofm.signal.record import LEADS_12, ECGRecord

RECORD = Path(__file__).parent / "fixtures" / "ptbxl" / "records100" / "00000" / "00001_lr"


@pytest.fixture(scope="module")
def record() -> ECGRecord:
    return read_record(RECORD)


def _mm_per_unit(fig, dx: float, dy: float) -> float:
    """Length on paper (mm) of the data-space vector (dx, dy) starting at the origin."""
    ax = fig.axes[0]
    p0, p1 = ax.transData.transform([(0.0, 0.0), (dx, dy)])
    return float(np.hypot(*(p1 - p0)) / fig.dpi * 25.4)


def _traces(fig) -> dict[str, list]:
    out: dict[str, list] = {}
    for line in fig.axes[0].lines:
        if not line.get_label().startswith("_"):
            out.setdefault(line.get_label(), []).append(line)
    return out


def _synthetic(n_leads: int, fs: float, seconds: float, leads: tuple[str, ...]) -> ECGRecord:
    t = np.arange(int(seconds * fs)) / fs
    beat = 1.2 * np.exp(-(((t % 0.8) - 0.3) ** 2) / (2 * 0.01**2))
    return ECGRecord(np.stack([beat * (k + 1) for k in range(n_leads)]), fs, leads, f"syn{n_leads}")


def test_png_written_and_non_trivial(record, tmp_path):
    out = tmp_path / "deep" / "dir" / "ecg.png"
    fig = plot_ecg(record, out, dpi=100)
    assert out.exists() and out.stat().st_size > 20_000
    img = mpimg.imread(out)
    w_in, h_in = fig.get_size_inches()
    assert abs(img.shape[0] - h_in * 100) < 1 and abs(img.shape[1] - w_in * 100) < 1
    rgb = img[..., :3]
    dark = (rgb.max(axis=-1) < 0.2).mean()
    pink = ((rgb[..., 0] > 0.85) & (rgb[..., 1] < 0.8) & (rgb[..., 2] < 0.8)).mean()
    assert 0.003 < dark < 0.2  # traces, labels, calibration pulses
    assert pink > 0.02  # the grid


def test_true_scale_figure_size(record):
    fig = plot_ecg(record, dpi=50)
    width_mm, height_mm = fig.get_size_inches() * 25.4
    grid_mm = 4 * 2.5 * 25.0  # 4 columns of 2.5 s at 25 mm/s
    assert width_mm == pytest.approx(2 * plots.MARGIN_MM + plots.CAL_S * 25.0 + grid_mm)
    assert width_mm == pytest.approx(270.0)
    # 3 lead rows + rhythm strip, each 3 mV at 10 mm/mV
    assert height_mm == pytest.approx(plots.HEADER_MM + 4 * 30.0 + plots.MARGIN_MM)


@pytest.mark.parametrize(("speed", "gain"), [(25.0, 10.0), (50.0, 20.0), (25.0, 5.0)])
def test_data_units_map_to_paper_mm(record, speed, gain):
    fig = plot_ecg(record, speed_mm_s=speed, gain_mm_mv=gain, dpi=72)
    assert _mm_per_unit(fig, 0.0, 1.0) == pytest.approx(gain, rel=1e-6)  # 1 mV
    assert _mm_per_unit(fig, 1.0, 0.0) == pytest.approx(speed, rel=1e-6)  # 1 s
    assert _mm_per_unit(fig, 0.2, 0.0) == pytest.approx(speed * 0.2, rel=1e-6)  # one major box


def test_lead_labels_and_column_timing(record):
    fig = plot_ecg(record, dpi=50)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert set(LEADS_12) <= set(labels)
    assert labels.count("II") == 2  # its column and the rhythm strip
    traces = _traces(fig)
    for r, row in enumerate(plots.GRID_3X4):
        for c, name in enumerate(row):
            (line,) = traces[name] if name != "II" else traces[name][:1]
            x, y = line.get_xdata(), line.get_ydata()
            assert x[0] == pytest.approx(2.5 * c) and x[-1] < 2.5 * (c + 1)
            lead = record.lead(name)[round(x[0] * record.fs): round(x[0] * record.fs) + len(x)]
            baseline = -(r + 0.5) * plots.ROW_MV
            np.testing.assert_allclose(y - baseline, lead - np.median(record.lead(name)), atol=1e-5)
    rhythm = traces["II"][1].get_xdata()
    assert rhythm[0] == 0.0 and rhythm[-1] == pytest.approx(10.0 - 1 / record.fs)


def test_calibration_pulse_is_1mv_by_200ms(record):
    fig = plot_ecg(record, dpi=50)
    pulses = [ln for ln in fig.axes[0].lines if ln.get_label() == "_calibration"]
    assert len(pulses) == 4
    y = np.asarray(pulses[0].get_ydata())
    x = np.asarray(pulses[0].get_xdata())
    assert y.max() - y.min() == pytest.approx(1.0)
    top = x[y == y.max()]
    assert top.max() - top.min() == pytest.approx(0.2)
    assert len([ln for ln in fig.axes[0].lines if ln.get_label() == "_separator"]) == 9


def test_rhythm_lead_choice_and_12x1(record):
    fig = plot_ecg(record, rhythm_lead="v5", dpi=50)
    assert len(_traces(fig)["V5"]) == 2
    fig = plot_ecg(record, layout="12x1", dpi=50)
    traces = _traces(fig)
    assert sorted(traces) == sorted(LEADS_12) and all(len(v) == 1 for v in traces.values())
    assert fig.get_size_inches()[1] * 25.4 == pytest.approx(plots.HEADER_MM + 12 * 30 + plots.MARGIN_MM)


def test_single_and_two_lead_500hz(tmp_path):
    one = _synthetic(1, 500.0, 10.0, ("II",))
    fig = plot_ecg(one, tmp_path / "one.svg")
    assert (tmp_path / "one.svg").stat().st_size > 5_000
    assert fig.get_size_inches()[1] * 25.4 == pytest.approx(plots.HEADER_MM + 30 + plots.MARGIN_MM)

    two = _synthetic(2, 500.0, 10.0, ("MLII", "V1"))
    fig = plot_ecg(two, tmp_path / "two.pdf", dpi=50)
    assert (tmp_path / "two.pdf").read_bytes()[:4] == b"%PDF"
    assert {"MLII", "V1"} <= {t.get_text() for t in fig.axes[0].texts}
    x = _traces(fig)["V1"][0].get_xdata()
    assert len(x) == 5000 and x[1] - x[0] == pytest.approx(1 / 500)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(270.0)
    assert _mm_per_unit(fig, 0.0, 1.0) == pytest.approx(10.0)


def test_short_and_long_records(record):
    short = record.with_signal(record.signal[:, :600])  # 6 s: columns of 1.5 s
    fig = plot_ecg(short, dpi=50)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(2 * plots.MARGIN_MM + (plots.CAL_S + 6) * 25)
    assert _traces(fig)["aVR"][0].get_xdata()[0] == pytest.approx(1.5)

    long = record.with_signal(np.concatenate([record.signal] * 3, axis=1))  # 30 s: first 10 s only
    fig = plot_ecg(long, dpi=50)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(270.0)
    assert _traces(fig)["II"][1].get_xdata()[-1] < 10.0


def test_header_text(record):
    rec = ECGRecord(record.signal, record.fs, record.leads, "00001_lr", metadata={"age": 56.0, "sex": "F"})
    texts = " | ".join(t.get_text() for t in plot_ecg(rec, dpi=50).texts)
    assert "00001_lr" in texts and "age 56" in texts and "female" in texts
    assert "25 mm/s" in texts and "10 mm/mV" in texts and "100 Hz" in texts


def test_traces_are_clipped_to_their_row():
    big = ECGRecord(np.full((1, 1000), 0.0) + np.r_[np.zeros(500), 20.0, np.zeros(499)], 100.0, ("I",), "x")
    fig = plot_ecg(big, dpi=50)
    line = _traces(fig)["I"][0]
    fig.canvas.draw()
    box = line.get_clip_box()  # in display pixels: exactly the row band
    ax = fig.axes[0]
    assert box.y0 == pytest.approx(ax.transData.transform((0, -plots.ROW_MV))[1])
    assert box.y1 == pytest.approx(ax.transData.transform((0, 0))[1])
    assert box.height / fig.dpi * 25.4 == pytest.approx(30.0)


def test_errors(record, tmp_path):
    with pytest.raises(ConfigError, match="layout"):
        plot_ecg(record, layout="6x2")
    with pytest.raises(LeadError, match="rhythm lead"):
        plot_ecg(record, rhythm_lead="MLII")
    with pytest.raises(RecordError, match="nothing to plot"):
        plot_ecg(ECGRecord(np.zeros((12, 0)), 100.0, LEADS_12, "empty"))
    with pytest.raises(ConfigError, match="gain_mm_mv"):
        plot_ecg(record, gain_mm_mv=0)
    with pytest.raises(ConfigError, match="out"):
        plot_ecg(record, tmp_path / "ecg.bmp")
    assert not (tmp_path / "ecg.bmp").exists()
