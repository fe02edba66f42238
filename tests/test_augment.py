from __future__ import annotations

import pickle

import numpy as np
import pytest

from cardiofm.data.augment import (
    ANYECG_AUGMENT,
    AUGMENTATIONS,
    CLEF_VIEWS,
    Mask,
    NoiseBank,
    OneOf,
    build_augmentation,
    cosine_strength,
    default_nstdb_dir,
)
from cardiofm.data.io import read_wfdb
from cardiofm.errors import ConfigError

FS = 500.0


@pytest.fixture(autouse=True)
def packaged_noise(monkeypatch):
    """Tests read the excerpt shipped in the package, whatever the caller's environment says."""
    monkeypatch.delenv("CARDIOFM_NSTDB", raising=False)


def ecg_like(leads: int = 3, n: int = 5000) -> np.ndarray:
    t = np.arange(n) / FS
    rows = [np.sin(2 * np.pi * (1.2 + i) * t) + 0.3 * np.sin(2 * np.pi * 7 * t + i) for i in range(leads)]
    return np.stack(rows).astype(np.float32)


def build(name: str, **kw):
    return build_augmentation([{"name": name, **kw}], fs=FS)


# registry-wide contract; "one_of" gets choices so it does something
SPECS = {name: {} for name in AUGMENTATIONS}
SPECS["one_of"] = {"choices": ["scale", "shift", {"name": "mask", "p_mask": 0.5}]}


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_contract_shape_dtype_no_mutation_determinism_identity(name):
    aug = build(name, **SPECS[name])
    x = ecg_like()
    before = x.copy()
    y = aug(x, np.random.default_rng(0))
    assert y.shape == x.shape and y.dtype == np.float32 and y is not x
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(y, aug(x, np.random.default_rng(0)))
    if name != "none":
        assert not np.array_equal(y, x)
    np.testing.assert_array_equal(aug(x, np.random.default_rng(0), 0.0), x)
    assert pickle.loads(pickle.dumps(aug))(x, np.random.default_rng(0)).shape == x.shape


def test_probability_p():
    aug = build("scale", p=0.3)
    x = ecg_like()
    changed = [not np.array_equal(aug(x, np.random.default_rng(i)), x) for i in range(400)]
    assert 0.2 < np.mean(changed) < 0.4
    assert all(np.array_equal(build("scale", p=0.0)(x, np.random.default_rng(i)), x) for i in range(20))


def test_scale_and_shift_ranges():
    x = ecg_like(1)
    factors = [build("scale")(x, np.random.default_rng(i))[0, 100] / x[0, 100] for i in range(200)]
    assert 0.9 <= min(factors) < 0.92 and 1.08 < max(factors) <= 1.1
    half = [build("scale")(x, np.random.default_rng(i), 0.5)[0, 100] / x[0, 100] for i in range(200)]
    assert 0.95 <= min(half) and max(half) <= 1.05
    ramp = np.arange(1000, dtype=np.float32)[None]
    shifts = [int(build("shift")(ramp, np.random.default_rng(i))[0, 500] - 500) for i in range(200)]
    assert max(abs(s) for s in shifts) <= 100 and len(set(shifts)) > 50


def test_mask_anyecg_and_clef_settings():
    x = np.ones((2, 1000), np.float32)
    for i in range(50):
        y = Mask()(x, np.random.default_rng(i))
        zeros = np.flatnonzero(y[0] == 0)
        assert 20 <= len(zeros) <= 100 and zeros[-1] - zeros[0] == len(zeros) - 1
        np.testing.assert_array_equal(y[0], y[1])
    clef = Mask(p_mask=0.2, segment_frac=0.1)
    fracs = [(clef(x, np.random.default_rng(i))[0] == 0).mean() for i in range(300)]
    assert np.mean(fracs) == pytest.approx(0.2, abs=0.03)
    assert set(np.round(np.array(fracs) * 10, 6)) <= set(range(11))  # whole 10 % segments


def test_gaussian_noise_sigma_and_snr():
    x = ecg_like(4, 5000)
    y = build("gaussian_noise", sigma=0.2)(x, np.random.default_rng(0))
    assert np.std(y - x) == pytest.approx(0.2, rel=0.03)
    for snr in (0.0, 6.0, 20.0):
        y = build("gaussian_noise", snr_db=snr)(x, np.random.default_rng(1))
        n = (y - x).astype(np.float64)
        got = 10 * np.log10(x.var(axis=1) / (n**2).mean(axis=1))
        np.testing.assert_allclose(got, snr, atol=0.5)


def test_baseline_wander_is_slow_and_bounded():
    x = np.zeros((3, 5000), np.float32)
    y = build("baseline_wander", amplitude=0.3, n_components=2)(x, np.random.default_rng(0))
    assert np.abs(y).max() <= 0.6 + 1e-6 and np.abs(y).max() > 0
    # slope bound of sinusoids <= 0.5 Hz with total amplitude <= 0.6: 2*pi*0.5*0.6 per second
    assert np.abs(np.diff(y, axis=1)).max() <= 2 * np.pi * 0.5 * 0.6 / FS + 1e-6
    assert np.abs(np.diff(y, axis=1)).max() > 0.05 * 2 * np.pi * 0.05 * 0.6 / FS
    with pytest.raises(ConfigError, match="sampling rate"):
        build_augmentation(["baseline_wander"])


def test_noisebank_reads_packaged_excerpt_and_segregates_splits():
    raw = read_wfdb(default_nstdb_dir() / "ma")
    assert raw.fs == 360 and raw.signal.shape == (2, 64800)
    n_raw, cut = raw.signal.shape[1], raw.signal.shape[1] * 2 // 3
    train = NoiseBank(kinds=("ma",), fs=360.0, split="train")
    test = NoiseBank(kinds=("ma",), fs=360.0, split="eval")
    assert train.noise("ma").shape[1] + test.noise("ma").shape[1] == n_raw
    length = 3600
    rng = np.random.default_rng(0)
    tr_ends, ev_starts = [], []
    for bank, sink in ((train, tr_ends), (test, ev_starts)):
        for _ in range(20):
            win, (ch, st) = bank.sample("ma", length, 4, rng, return_starts=True)
            absolute = st + int(round(bank.offset_s("ma") * 360))
            for lead in range(4):  # the window is the raw record's samples, mean removed
                seg = raw.signal[ch[lead], absolute[lead]:absolute[lead] + length]
                np.testing.assert_allclose(win[lead], seg - seg.mean(), atol=1e-5)
            sink.extend((absolute + length) if bank is train else absolute)
    assert max(tr_ends) <= cut <= min(ev_starts)


def test_noisebank_resamples_and_caches():
    bank = NoiseBank(kinds=("bw",), fs=FS, split="train")
    a = bank.noise("bw")
    assert a.shape == (2, round(43200 * FS / 360)) and a.dtype == np.float32
    assert bank.noise("bw") is a
    assert pickle.loads(pickle.dumps(bank)).noise("bw") is a


def test_noisebank_missing_folder_or_record(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="shared/data/nstdb"):
        NoiseBank(path=tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="'em'"):
        NoiseBank(kinds=("em",))
    monkeypatch.setenv("CARDIOFM_NSTDB", str(tmp_path / "env"))
    with pytest.raises(ConfigError, match="env"):
        NoiseBank()


def test_nstdb_noise_phi_and_snr():
    x = np.zeros((3, 5000), np.float32)
    unit = build("nstdb_noise", kind="ma", phi=1.0)(x, np.random.default_rng(5))
    clef = build("nstdb_noise", kind="ma", phi=0.02)(x, np.random.default_rng(5))
    assert np.std(clef) / np.std(unit) == pytest.approx(0.02, rel=1e-4)
    assert 0.05 < np.std(unit) < 1.0  # muscle artifact is a few tenths of a mV
    sig = ecg_like(3)
    for snr in (0.0, 12.0):
        y = build("nstdb_noise", kind=["bw", "ma"], snr_db=snr)(sig, np.random.default_rng(2))
        n = (y - sig).astype(np.float64)
        got = 10 * np.log10(sig.var(axis=1) / (n**2).mean(axis=1))
        np.testing.assert_allclose(got, snr, atol=0.5)
    with pytest.raises(ConfigError, match="not both"):
        build("nstdb_noise", phi=1.0, snr_db=3.0)


def test_build_errors_and_recipes():
    with pytest.raises(ConfigError, match="known:.*gaussian_noise"):
        build_augmentation([{"name": "cutout"}])
    with pytest.raises(ConfigError, match="sigmaa"):
        build_augmentation([{"name": "gaussian_noise", "sigmaa": 1}])
    with pytest.raises(ConfigError):
        build_augmentation([{"name": "scale", "p": 1.5}])
    x = ecg_like()
    assert build_augmentation(ANYECG_AUGMENT)(x, np.random.default_rng(0)).shape == x.shape
    views = build_augmentation(CLEF_VIEWS, fs=FS)
    one_of = views.augs[0]
    assert isinstance(one_of, OneOf) and len(one_of.choices) == 5
    np.testing.assert_allclose(one_of.weights, 0.2)
    unchanged = [np.array_equal(views(x, np.random.default_rng(i)), x) for i in range(500)]
    assert np.mean(unchanged) == pytest.approx(0.2, abs=0.06)  # the "none" view


def test_cosine_strength():
    E = 40
    assert cosine_strength(0, E) == pytest.approx(1.0)
    assert cosine_strength(E, E) == pytest.approx(0.5)
    assert cosine_strength(E / 2, E) == pytest.approx(0.75)
    vals = [cosine_strength(e, E) for e in range(E + 1)]
    assert all(a > b for a, b in zip(vals, vals[1:], strict=False))
    assert cosine_strength(0, E, low=0.0, high=2.0) == pytest.approx(2.0)
    with pytest.raises(ConfigError):
        cosine_strength(0, 0)


def test_fast_white_noise_is_standard_normal_and_seeded():
    from cardiofm.data.augment import fast_white_noise

    a = fast_white_noise((12, 5000), np.random.default_rng(1))
    b = fast_white_noise((12, 5000), np.random.default_rng(1))
    assert a.shape == (12, 5000) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.03 and abs(a.std() - 1) < 0.03
    # leads are different windows: near-zero cross-correlation
    c = np.corrcoef(a)
    assert np.abs(c[np.triu_indices(12, 1)]).max() < 0.1
