from __future__ import annotations

import json

import numpy as np
import pytest

from cardiofm.errors import ConfigError, LeadError
from cardiofm.explain import GroupBeats, group_average_beats, risk_groups
from cardiofm.explain.beats import detect_r_peaks
from cardiofm.physio.beats import qrs_bounds, segment_beats
from cardiofm.physio.delineate import r_peaks
from cardiofm.signal.record import LEADS_12
from cardiofm.signal.transforms import zscore

FS = 250.0


def spike_train(n_leads: int = 3, seconds: float = 10.0, rr: float = 0.8, amp: float = 1.5, fs: float = FS,
                signs: tuple[float, ...] | None = None, width_s: float = 0.008) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian spikes (one per beat, the same in every lead up to sign) and their sample positions."""
    t = np.arange(int(seconds * fs)) / fs
    pos = np.arange(0.5, seconds - 0.3, rr)
    wave = sum(np.exp(-0.5 * ((t - p) / width_s) ** 2) for p in pos)
    s = np.ones(n_leads) if signs is None else np.asarray(signs, dtype=float)
    return (amp * s[:, None] * wave[None]).astype(np.float32), np.round(pos * fs).astype(int)


@pytest.fixture(scope="module")
def lbbb_vs_norm() -> GroupBeats:
    from cardiofm.synth.cohort import render_record
    from cardiofm.synth.noise import RecordingNoise

    noise = RecordingNoise(100.0)
    sig, grp = [], []
    for i in range(12):
        for code, group in (("CLBBB", "high risk"), ("NORM", "low risk")):
            rec, _ = render_record([code], 100.0, 10.0, np.random.default_rng(i), noise=noise)
            sig.append(rec.signal)
            grp.append(group)
    return group_average_beats(np.stack(sig), 100.0, grp, leads=LEADS_12)


def test_lbbb_group_has_wider_qrs_and_no_r_in_v1(lbbb_vs_norm: GroupBeats) -> None:
    gb = lbbb_vs_norm
    assert gb.groups == ("high risk", "low risk")
    assert gb.n_records == {"high risk": 12, "low risk": 12}
    assert gb.dropped == {"high risk": 0, "low risk": 0}
    r = round(0.25 * 100)
    idx = [LEADS_12.index(n) for n in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")]
    width = {}
    for g in gb.groups:
        on, off = qrs_bounds(gb.mean[g][idx], 100.0, np.array([r]))
        width[g] = float(off[0] - on[0]) * 10.0  # ms
    assert width["high risk"] >= width["low risk"] + 25.0  # LBBB QRS ~140 ms vs ~85 ms
    v1 = LEADS_12.index("V1")
    pre = slice(r - 6, r + 1)  # 60 ms before R in lead II: the initial r wave of V1 (septal activation)
    assert gb.mean["low risk"][v1, pre].max() > gb.mean["high risk"][v1, pre].max() + 0.5
    window = slice(r - 10, r + 15)
    assert (gb.mean["high risk"][v1, window] < -1.0).sum() > (gb.mean["low risk"][v1, window] < -1.0).sum()
    # the difference helper is high minus low
    np.testing.assert_allclose(gb.difference(), gb.mean["high risk"] - gb.mean["low risk"])
    summary = gb.to_dict()
    json.dumps(summary)
    assert summary["n_beats"]["high risk"] > 50
    assert set(summary["difference"]["largest_by_lead"]) == set(LEADS_12)


def test_identical_groups_give_equal_means_and_across_record_sd() -> None:
    rng = np.random.default_rng(0)
    recs = []
    for k in range(5):  # five patients, different amplitude, rate and a second wave
        x, _ = spike_train(2, rr=0.7 + 0.05 * k, amp=1.0 + 0.3 * k)
        t = np.arange(x.shape[1]) / FS
        x = x + (0.1 * k * np.sin(2 * np.pi * 1.3 * t))[None].astype(np.float32)
        recs.append(x + rng.normal(0, 0.01, x.shape).astype(np.float32))
    sig = np.stack(recs + recs)
    groups = ["a"] * 5 + ["b"] * 5
    gb = group_average_beats(sig, FS, groups, leads=("I", "II"))
    assert gb.groups == ("a", "b")
    np.testing.assert_array_equal(gb.mean["a"], gb.mean["b"])
    np.testing.assert_array_equal(gb.sd["a"], gb.sd["b"])
    # independent computation: per-record median of per-beat z-scored windows, then SD across records
    before, after = round(0.25 * FS), round(0.45 * FS)
    per = []
    for x in recs:
        beats, _ = segment_beats(x, r_peaks(x[1], FS), before, after)
        per.append(np.median(zscore(beats), axis=0))
    per_a = np.stack(per)
    np.testing.assert_allclose(gb.records["a"], per_a, atol=1e-5)
    np.testing.assert_allclose(gb.mean["a"], per_a.mean(0), atol=1e-5)
    np.testing.assert_allclose(gb.sd["a"], per_a.std(0, ddof=1), atol=1e-5)
    assert gb.sd["a"].max() > 0.01  # the records really differ
    assert gb.n_beats["a"] == sum(len(segment_beats(x, r_peaks(x[1], FS), before, after)[1]) for x in recs)
    with pytest.raises(ConfigError, match="two groups"):
        group_average_beats(sig, FS, ["a"] * 4 + ["b"] * 3 + ["c"] * 3, leads=("I", "II")).difference()


def test_r_peak_at_time_zero_units_and_lead_order() -> None:
    x, pos = spike_train(3, signs=(-1.0, 1.0, 0.5))  # leads V1 (negative), II, I
    gb = group_average_beats(np.stack([x, x * 2]), FS, ["high risk", "high risk"], leads=("V1", "II", "I"),
                             before_s=0.2, after_s=0.4, zscore=False)
    assert gb.leads == ("V1", "II", "I")
    n = round(0.2 * FS) + round(0.4 * FS)
    assert gb.time_s.shape == (n,)
    np.testing.assert_allclose(np.diff(gb.time_s), 1 / FS)
    assert gb.time_s[round(0.2 * FS)] == 0.0
    assert gb.time_s[0] == pytest.approx(-0.2)
    m = gb.mean["high risk"]
    assert m.shape == (3, n)
    assert int(np.argmax(m[1])) == round(0.2 * FS)  # lead II spike at R
    assert int(np.argmin(m[0])) == round(0.2 * FS)  # V1 is the negative one: lead order kept
    assert m[1].max() == pytest.approx(1.5 * 1.5, rel=1e-3)  # mV kept without z-scoring (mean of 1.5, 3.0)
    assert m[2].max() == pytest.approx(0.5 * 2.25, rel=1e-3)
    assert gb.n_beats["high risk"] == 2 * len(pos)
    assert gb.zscore is None
    # z-scored per beat: each per-record beat is mean 0, SD 1 per lead, whatever the gain
    gz = group_average_beats(np.stack([x, x * 2]), FS, ["g", "g"], leads=("V1", "II", "I"))
    np.testing.assert_allclose(gz.records["g"][0], gz.records["g"][1], atol=1e-5)
    np.testing.assert_allclose(gz.records["g"].std(-1), 1.0, atol=1e-4)
    np.testing.assert_allclose(gz.sd["g"], 0.0, atol=1e-5)
    # z-scored per record: gain removed too, still R at time 0
    gr = group_average_beats(np.stack([x, x * 2]), FS, ["g", "g"], leads=("V1", "II", "I"), zscore="record")
    np.testing.assert_allclose(gr.records["g"][0], gr.records["g"][1], atol=1e-4)
    assert int(np.argmax(gr.mean["g"][1])) == round(0.25 * FS)


def test_records_without_beats_are_dropped_not_fatal() -> None:
    x, _ = spike_train(2)
    flat = np.zeros_like(x)
    nan = x.copy()
    nan[0, 10] = np.nan
    sig = np.stack([x, flat, nan, x, flat])
    gb = group_average_beats(sig, FS, ["high risk", "high risk", "high risk", "low risk", "empty"],
                             leads=("I", "II"))
    assert gb.groups == ("high risk", "low risk", "empty")
    assert gb.n_records == {"high risk": 1, "low risk": 1, "empty": 0}
    assert gb.dropped == {"high risk": 2, "low risk": 0, "empty": 1}
    assert gb.dropped_records["high risk"] == [1, 2]
    assert np.isnan(gb.mean["empty"]).all() and gb.records["empty"].shape == (0, 2, gb.time_s.size)
    assert np.isnan(gb.sd["high risk"]).all()  # one record: no SD
    assert np.isfinite(gb.mean["high risk"]).all()
    json.dumps(gb.to_dict())
    # a record shorter than the window: no beat fits
    short = group_average_beats(x[None, :, :100], FS, ["a"], leads=("I", "II"))
    assert short.dropped == {"a": 1} and short.n_records == {"a": 0}
    # variable-length records are accepted as a list
    gl = group_average_beats([x, x[:, :1500]], FS, ["a", "a"], leads=("I", "II"))
    assert gl.n_records == {"a": 2}


def test_fallback_lead_when_lead_ii_is_flat() -> None:
    x, pos = spike_train(3)  # I, II, V5
    x[1] = 0.0
    peaks, lead = detect_r_peaks(x, FS, ("I", "II", "V5"))
    assert lead == "I"
    np.testing.assert_array_equal(peaks, pos)
    gb = group_average_beats(x[None], FS, ["a"], leads=("I", "II", "V5"))
    assert gb.fallback == {"a": 1} and gb.n_records == {"a": 1}
    _, none = detect_r_peaks(np.zeros_like(x), FS, ("I", "II", "V5"))
    assert none is None
    # given peaks skip the detection
    gp = group_average_beats(x[None], FS, ["a"], leads=("I", "II", "V5"), peaks=[pos[:3]])
    assert gp.n_beats == {"a": 3}


def test_bad_input_raises_clear_errors() -> None:
    x, _ = spike_train(2)
    sig = np.stack([x, x])
    with pytest.raises(ConfigError, match="one per record"):
        group_average_beats(sig, FS, ["a"], leads=("I", "II"))
    with pytest.raises(ConfigError, match="records, leads, samples"):
        group_average_beats(x[0], FS, ["a"], leads=("I",))
    with pytest.raises(LeadError, match="leads"):
        group_average_beats(sig, FS, ["a", "b"], leads=("I", "II", "III"))
    with pytest.raises(LeadError, match="rpeak_lead"):
        group_average_beats(sig, FS, ["a", "b"], leads=("I", "V1"))
    with pytest.raises(ConfigError, match="window"):
        group_average_beats(sig, FS, ["a", "b"], leads=("I", "II"), before_s=-0.1)
    with pytest.raises(ConfigError, match="fs"):
        group_average_beats(sig, 0, ["a", "b"], leads=("I", "II"))
    with pytest.raises(ConfigError, match="zscore"):
        group_average_beats(sig, FS, ["a", "b"], leads=("I", "II"), zscore="lead")
    with pytest.raises(ConfigError, match="no group label"):
        group_average_beats(sig, FS, ["a", None], leads=("I", "II"))


def test_risk_groups_threshold() -> None:
    g = risk_groups([0.01, 0.15, 0.149, 0.9], 0.15)
    assert g.tolist() == ["low risk", "high risk", "low risk", "high risk"]
    assert risk_groups(np.array([0.5]), 0.5, labels=("pos", "neg")).tolist() == ["pos"]
    with pytest.raises(ConfigError, match="non-finite"):
        risk_groups([0.1, np.nan], 0.15)
    with pytest.raises(ConfigError, match="threshold"):
        risk_groups([0.1], 15)
    with pytest.raises(ConfigError, match="one task at a time"):
        risk_groups([[0.1]], 0.5)


def test_plot_group_beats_writes_png(lbbb_vs_norm: GroupBeats, tmp_path) -> None:
    from cardiofm.report.explainplots import plot_group_beats

    fig = plot_group_beats(lbbb_vs_norm, tmp_path / "fig8.png", task="LAD")
    assert (tmp_path / "fig8.png").stat().st_size > 20_000
    panels = [ax for ax in fig.axes if ax.texts and ax.texts[0].get_text() in LEADS_12]
    assert [ax.texts[0].get_text() for ax in panels] == ["I", "aVR", "V1", "V4", "II", "aVL", "V2", "V5", "III",
                                                          "aVF", "V3", "V6"]
    assert any("LAD" in t.get_text() for t in fig.texts)
    x, _ = spike_train(1)
    one = group_average_beats(np.stack([x, x * 0.5, x]), FS, ["high risk", "low risk", "low risk"], leads=("II",))
    plot_group_beats(one, tmp_path / "one.png")
    assert (tmp_path / "one.png").stat().st_size > 5_000
    with pytest.raises(ConfigError, match="suffix|ending"):
        plot_group_beats(one, tmp_path / "one.bmp")
