from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from cardiofm.data.io import read_wfdb
from cardiofm.errors import ConfigError, LeadError
from cardiofm.signal.record import LEADS_12, ECGRecord
from cardiofm.signal.transforms import Preprocess, bandpass, crop, resample, select_leads, windows, zscore

from conftest import RECORD_1


def sine(freq: float, fs: float, seconds: float, amp: float = 1.0) -> np.ndarray:
    t = np.arange(int(round(seconds * fs))) / fs
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_freq(x: np.ndarray, fs: float) -> float:
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / fs)[np.argmax(spec)])


def test_resample_up_keeps_frequency_amplitude_and_length():
    x = np.stack([sine(5, 100, 10), sine(5, 100, 10, amp=2.0)])
    y = resample(x, 100, 500)
    assert y.shape == (2, 5000) and y.dtype == np.float32
    assert dominant_freq(y[0], 500) == pytest.approx(5.0, abs=0.1)
    inner = y[:, 500:-500]
    np.testing.assert_allclose(np.abs(inner).max(axis=1), [1.0, 2.0], rtol=0.01)
    np.testing.assert_allclose(inner[0], sine(5, 500, 10)[500:-500], atol=0.01)


def test_resample_down_and_batch_and_identity():
    x = np.stack([sine(5, 360, 10)] * 3)[None].repeat(2, axis=0)  # (2, 3, 3600)
    y = resample(x, 360, 100)
    assert y.shape == (2, 3, 1000)
    assert dominant_freq(y[0, 0], 100) == pytest.approx(5.0, abs=0.1)
    assert resample(np.zeros((1, 1001), np.float32), 360, 100).shape == (1, round(1001 * 100 / 360))
    same = resample(x, 250, 250)
    np.testing.assert_array_equal(same, x)
    assert same is not x
    with pytest.raises(ConfigError):
        resample(x, 0, 100)


def _gain_db(freq: float, fs: float = 500.0, **kw) -> float:
    x = sine(freq, fs, 40)
    y = bandpass(x[None], fs, **kw)[0]
    mid = slice(len(x) // 4, -len(x) // 4)
    return 20 * np.log10(np.std(y[mid]) / np.std(x[mid]))


def test_bandpass_attenuates_out_of_band_and_passes_in_band():
    assert _gain_db(0.1) < -20
    assert _gain_db(60.0) < -20
    assert abs(_gain_db(10.0)) < 1.0


def test_bandpass_is_zero_phase():
    fs = 500.0
    x = sine(5, fs, 4)
    y = bandpass(x[None], fs)[0]
    for start in (600, 1000, 1400):  # one 5 Hz period (100 samples) at a time
        period = slice(start, start + 100)
        assert np.argmax(y[period]) == np.argmax(x[period])
    causal = np.convolve(x, np.ones(9) / 9)[: len(x)]  # a filter with delay would fail the same check
    assert np.argmax(causal[1000:1100]) != np.argmax(x[1000:1100])


def test_bandpass_variants_and_short_signal():
    fs = 100.0
    # high at/above Nyquist: high-pass only, so 45 Hz passes
    x = sine(45, fs, 20)
    y = bandpass(x[None], fs, low=0.67, high=60.0)[0]
    assert np.std(y[500:-500]) == pytest.approx(np.std(x[500:-500]), rel=0.05)
    # low=None: low-pass only, a DC offset survives
    y = bandpass(np.full((1, 1000), 3.0, np.float32), fs, low=None, high=40.0)
    np.testing.assert_allclose(y, 3.0, atol=1e-4)
    short = bandpass(np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32), 500.0)
    assert short.shape == (2, 20) and np.isfinite(short).all()
    with pytest.raises(ConfigError):
        bandpass(x[None], fs, low=30.0, high=20.0)


def test_zscore_per_lead_and_constant_lead():
    rng = np.random.default_rng(0)
    x = np.stack([rng.normal(3, 2, 1000), np.full(1000, 0.1), rng.normal(-1, 0.5, 1000)]).astype(np.float32)
    z = zscore(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z[[0, 2]].mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(z[[0, 2]].std(axis=1), 1, atol=1e-4)
    np.testing.assert_array_equal(z[1], 0)
    assert zscore(x[None]).shape == (1, 3, 1000)


def test_select_leads_spellings_and_missing():
    x = np.arange(12, dtype=np.float32)[:, None].repeat(4, axis=1)
    names = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    out = select_leads(x, names, ["avr", "v1", "II"])
    np.testing.assert_array_equal(out[:, 0], [3, 6, 1])
    assert select_leads(x[None], names, ["V1"]).shape == (1, 1, 4)
    with pytest.raises(LeadError, match="V7"):
        select_leads(x, names, ["V7"])


def test_crop_modes_and_pad_rules():
    x = np.arange(1, 11, dtype=np.float32)[None]  # 1..10
    np.testing.assert_array_equal(crop(x, 4)[0], [1, 2, 3, 4])
    np.testing.assert_array_equal(crop(x, 4, mode="center")[0], [4, 5, 6, 7])
    r = crop(x, 4, mode="random", rng=np.random.default_rng(1))[0]
    assert r[0] in range(1, 8) and np.array_equal(r, np.arange(r[0], r[0] + 4))
    np.testing.assert_array_equal(crop(x, 13, pad="zero")[0], [*range(1, 11), 0, 0, 0])
    np.testing.assert_array_equal(crop(x, 13, pad="edge")[0], [*range(1, 11), 10, 10, 10])
    np.testing.assert_array_equal(crop(x, 23, pad="wrap")[0], [*range(1, 11)] * 2 + [1, 2, 3])
    with pytest.raises(ConfigError):
        crop(x, 4, mode="random")
    with pytest.raises(ConfigError):
        crop(x, 4, pad="reflect")


def test_windows_cover_the_signal():
    x = np.arange(10, dtype=np.float32)[None].repeat(2, axis=0)
    w = windows(x, 4, 3)
    assert w.shape == (3, 2, 4)
    np.testing.assert_array_equal(w[:, 0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    w = windows(x, 4, pad="edge")
    assert w.shape == (3, 2, 4)
    np.testing.assert_array_equal(w[-1, 0], [8, 9, 9, 9])
    assert windows(x, 20).shape == (1, 2, 20)
    covered = np.unique(windows(np.arange(101, dtype=np.float32)[None], 10, 7, pad="zero")[:, 0])
    assert set(range(101)) <= set(covered.astype(int))


def test_preprocess_real_record_to_500hz():
    rec = read_wfdb(RECORD_1)
    assert rec.fs == 100
    prep = Preprocess()
    out = prep(rec)
    assert out.shape == (12, 5000) and out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=1), 1, atol=1e-3)
    # reordered / partial leads in any spelling
    sub = Preprocess(fs=100.0, length=None, leads=("v1", "avr"), band=None, normalise=None)(rec)
    np.testing.assert_allclose(sub, rec.signal[[6, 3]])
    # a shorter record is zero-padded at the end before z-scoring
    short = ECGRecord(signal=rec.signal[:, :500], fs=100.0, leads=rec.leads, record_id="short")
    out = Preprocess(fs=100.0, length=1000, band=None, normalise=None)(short)
    np.testing.assert_array_equal(out[:, 500:], 0)
    only_ii = ECGRecord(signal=rec.signal[1:2], fs=100.0, leads=("II",), record_id="x")
    with pytest.raises(LeadError, match="I"):
        Preprocess(leads=("I",))(only_ii)


def test_preprocess_roundtrip_pickle_and_random_crop_is_stable():
    prep = Preprocess(fs=250, length=1000, leads=("AVR", "II"), band=(None, 40), crop_mode="random")
    d = json.loads(json.dumps(prep.to_dict()))
    assert d["leads"] == ["aVR", "II"] and d["band"] == [None, 40.0]
    assert Preprocess.from_dict(d) == prep
    assert pickle.loads(pickle.dumps(prep)) == prep
    rec = read_wfdb(RECORD_1)
    np.testing.assert_array_equal(prep(rec), prep(rec))
    assert Preprocess().leads == LEADS_12


@pytest.mark.parametrize("kw", [dict(normalise="minmax"), dict(fs=0), dict(fs=-5), dict(band=(40.0, 0.67)),
                                dict(band=(1.0, 1.0)), dict(length=0), dict(crop_mode="middle"),
                                dict(pad="reflect"), dict(leads=("I", "i")), dict(filter_order=0)])
def test_preprocess_config_errors(kw):
    with pytest.raises(ConfigError):
        Preprocess(**kw)


def test_preprocess_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="bandwidth"):
        Preprocess.from_dict({"fs": 500.0, "bandwidth": 3})


@pytest.mark.parametrize("shape,fs", [((12, 5000), 500.0), ((2, 3, 700), 100.0), ((40,), 100.0)])
def test_bandpass_equals_scipy_sosfiltfilt(shape, fs):
    from scipy import signal as sps

    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    sos = sps.butter(5, [0.67, 40.0], btype="bandpass", fs=fs, output="sos")
    pad = min(3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())), shape[-1] - 1)
    ref = sps.sosfiltfilt(sos, x.astype(np.float64), axis=-1, padlen=pad)
    np.testing.assert_allclose(bandpass(x, fs), ref.astype(np.float32), rtol=1e-6, atol=1e-6)
