"""Text encoders (cardiofm.text.encoders): the packaged MiniLM offline, local HF models, hashing, cache, projection.

Every test runs with sockets blocked: a connection attempt raises and is recorded, and the tests that
load a model also assert that none was attempted.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from cardiofm.errors import ConfigError
from cardiofm.text.encoders import (
    CachedTextEncoder,
    HashingTextEncoder,
    TextEncoder,
    TextProjection,
    available_text_encoders,
    create_text_encoder,
    minilm_path,
    offline_hub,
    register_text_encoder,
)

ATTEMPTS: list[object] = []


def _blocked(*args: object, **kw: object) -> None:
    ATTEMPTS.append(args)
    raise OSError("network access is blocked in cardiofm's text-encoder tests")


def _block(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(socket.socket, "connect", _blocked)
    mp.setattr(socket.socket, "connect_ex", _blocked)
    mp.setattr(socket, "getaddrinfo", _blocked)  # name look-ups come first (and may fail quietly on their own)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _block(monkeypatch)
    before = len(ATTEMPTS)
    yield
    assert ATTEMPTS[before:] == [], f"network connection attempted: {ATTEMPTS[before:]}"


@pytest.fixture(scope="module")
def minilm() -> Iterator[TextEncoder]:
    """The packaged model, loaded once per module, with sockets blocked during the load."""
    with pytest.MonkeyPatch.context() as mp:
        _block(mp)
        before = len(ATTEMPTS)
        enc = create_text_encoder("minilm")
        assert ATTEMPTS[before:] == []
    yield enc


def _cos(e: np.ndarray, i: int, j: int) -> float:
    return float(e[i] @ e[j])


# ------------------------------------------------------------------------------------------------ minilm


def test_minilm_shape_norm_determinism(minilm: TextEncoder) -> None:
    texts = ["atrial fibrillation", "sinus rhythm, normal ECG", "", "ST elevation in V1-V3 " * 80]
    e = minilm.encode(texts)
    assert isinstance(minilm, TextEncoder)
    assert minilm.dim == 384 and minilm.name == "minilm:all-MiniLM-L6-v2"
    assert e.shape == (4, 384) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(minilm.encode(texts), e)
    # the batch a text sits in (padding, order) does not change its embedding beyond float noise
    np.testing.assert_allclose(minilm.encode(texts[::-1])[::-1], e, atol=1e-5)
    np.testing.assert_allclose(minilm.encode([texts[0]])[0], e[0], atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_minilm_matches_published_similarities(minilm: TextEncoder) -> None:
    # cosine similarities of all-MiniLM-L6-v2 printed in the sentence-transformers quickstart: checks that
    # the packaged weights are the published model and that it is loaded with its own pooling/normalisation
    e = minilm.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    sim = e @ e.T
    np.testing.assert_allclose([sim[0, 1], sim[0, 2], sim[1, 2]], [0.6660, 0.1046, 0.1411], atol=2e-3)


@pytest.mark.parametrize(("term", "synonym", "unrelated"), [
    ("atrial fibrillation", "irregular rhythm with fibrillatory waves", "left bundle branch block"),
    ("sinus bradycardia", "slow heart rate", "left bundle branch block"),
    ("ST elevation myocardial infarction", "acute heart attack", "left bundle branch block"),
    ("left ventricular hypertrophy", "thickened left ventricle wall", "atrial fibrillation"),
])
def test_minilm_semantic_sanity(minilm: TextEncoder, term: str, synonym: str, unrelated: str) -> None:
    e = minilm.encode([term, synonym, unrelated])
    # measured: 0.54 vs 0.21, 0.45 vs 0.08, 0.47 vs 0.16, 0.53 vs 0.27
    assert _cos(e, 0, 1) > _cos(e, 0, 2) + 0.1


def test_minilm_is_frozen_and_on_cpu(minilm: TextEncoder) -> None:
    assert minilm.device == "cpu"
    assert not any(p.requires_grad for p in minilm.model.parameters())
    assert not minilm.model.training


# ------------------------------------------------------------------------------------------------ hf


def test_hf_local_folder_plain_transformers_mean_pooling_equals_minilm(minilm: TextEncoder) -> None:
    texts = ["atrial fibrillation", "left bundle branch block with secondary repolarisation changes"]
    plain = create_text_encoder("hf", model=minilm_path(), pooling="mean")
    assert type(plain).__name__ == "TransformersEncoder" and plain.dim == 384
    assert plain.name.endswith(":mean")
    np.testing.assert_allclose(plain.encode(texts), minilm.encode(texts), atol=1e-5)
    cls = create_text_encoder("hf", model=minilm_path(), pooling="cls")
    e = cls.encode(texts)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert cls.name != plain.name and not np.allclose(e, plain.encode(texts), atol=1e-3)


def test_hf_sentence_transformers_folder_and_hub_id_from_local_cache(minilm: TextEncoder, tmp_path: Path) -> None:
    texts = ["premature ventricular contraction", "normal ECG"]
    folder = create_text_encoder("hf", model=str(minilm_path()))
    assert type(folder).__name__ == "SentenceTransformerEncoder"
    np.testing.assert_allclose(folder.encode(texts), minilm.encode(texts), atol=1e-6)
    # a hub id is found in a Hugging Face cache laid out as the hub client leaves it (files linked)
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someorg--minilm-copy"
    snap = repo / "snapshots" / commit
    for f in minilm_path().rglob("*"):
        if f.is_file():
            (snap / f.relative_to(minilm_path())).parent.mkdir(parents=True, exist_ok=True)
            (snap / f.relative_to(minilm_path())).symlink_to(f)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    hub = create_text_encoder("hf", model="someorg/minilm-copy", cache_folder=tmp_path / "hub")
    assert hub.name == "hf:someorg/minilm-copy@0123456789ab"
    np.testing.assert_allclose(hub.encode(texts), minilm.encode(texts), atol=1e-6)


@pytest.mark.parametrize("model", ["ncbi/MedCPT-Query-Encoder", "no-such-org/no-such-model"])
def test_hf_missing_model_raises_config_error_without_network(model: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="download it beforehand"):
        create_text_encoder("hf", model=model, cache_folder=tmp_path / "empty-cache")
    if model.startswith("no-such-org/"):  # (a developer may well have MedCPT in the default cache)
        with pytest.raises(ConfigError, match="download it beforehand"):
            create_text_encoder("hf", model=model)  # the user's default cache, offline


def test_hf_missing_folder_and_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such folder"):
        create_text_encoder("hf", model=str(tmp_path / "not" / "here"))
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ConfigError, match="is a file"):
        create_text_encoder("hf", model=tmp_path / "weights.bin")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="cannot load"):
        create_text_encoder("hf", model=tmp_path / "empty")
    with pytest.raises(ConfigError, match="pooling"):
        create_text_encoder("hf", model=minilm_path(), pooling="max")
    with pytest.raises(ConfigError):
        create_text_encoder("hf")  # no model


def test_offline_hub_restores_environment() -> None:
    import huggingface_hub.constants as hc

    env_before = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    flag_before = hc.HF_HUB_OFFLINE
    with offline_hub():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
        assert hc.HF_HUB_OFFLINE is True
    assert {k: os.environ.get(k) for k in env_before} == env_before
    assert hc.HF_HUB_OFFLINE == flag_before


# ------------------------------------------------------------------------------------------------ hashing


def test_hashing_deterministic_unit_norm_and_configurable() -> None:
    texts = ["atrial fibrillation", "Atrial  Fibrillation", "atrial fibrilation", "left bundle branch block", "", "a"]
    a, b = HashingTextEncoder(dim=256), create_text_encoder("hashing", dim=256)
    e = a.encode(texts)
    assert e.shape == (6, 256) and e.dtype == np.float32 and a.dim == 256
    np.testing.assert_array_equal(e, b.encode(texts))
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(e[0], e[1], atol=1e-7)  # case and whitespace are folded
    assert _cos(e, 0, 2) > 0.6 > _cos(e, 0, 3)  # a typo stays close, another condition does not
    assert create_text_encoder("hashing").dim == 384
    assert HashingTextEncoder(dim=64, ngram_range=(3, 5)).name != HashingTextEncoder(dim=64).name
    assert HashingTextEncoder(lowercase=False).encode(["AF"]).tolist() != HashingTextEncoder().encode(["AF"]).tolist()


def test_hashing_is_stable_across_processes() -> None:
    # pinned output: the hash (BLAKE2, not Python's salted hash()) and the features must not drift, since
    # cached embeddings are keyed by the encoder's name only
    e = HashingTextEncoder(dim=16).encode(["ab"])[0]
    grams = [" a", "ab", "b ", " ab", "ab ", " ab "]
    assert int(np.count_nonzero(e)) <= len(grams)
    expected = _reference_hashing("ab", 16, grams)
    np.testing.assert_allclose(e, expected, atol=1e-6)


def _reference_hashing(text: str, dim: int, grams: list[str]) -> np.ndarray:
    import hashlib

    v = np.zeros(dim)
    for g in grams:
        h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
        v[h % dim] += 1.0 if (h >> 63) & 1 else -1.0
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("bad", [{"dim": 0}, {"dim": 2.5}, {"ngram_range": (3, 2)}, {"ngram_range": (0, 2)}])
def test_hashing_bad_settings(bad: dict) -> None:
    with pytest.raises(ConfigError):
        create_text_encoder("hashing", **bad)


def test_encode_input_validation() -> None:
    enc = HashingTextEncoder()
    with pytest.raises(ConfigError, match="single string"):
        enc.encode("atrial fibrillation")
    with pytest.raises(ConfigError, match=r"texts\[1\]"):
        enc.encode(["ok", 3])
    assert enc.encode([]).shape == (0, 384)
    assert enc(["x"]).shape == (1, 384)  # encoders are callables, usable as deduplicate(embed=...)


# ------------------------------------------------------------------------------------------------ registry


def test_registry() -> None:
    import cardiofm.text

    assert {"minilm", "hf", "hashing"} <= set(available_text_encoders())
    assert cardiofm.text.create_text_encoder is create_text_encoder  # exported (lazily) by the package
    with pytest.raises(ConfigError, match="unknown text encoder 'medcpt'"):
        create_text_encoder("medcpt")
    with pytest.raises(ConfigError, match="invalid settings"):
        create_text_encoder("hashing", dims=12)
    with pytest.raises(ConfigError, match="registered twice"):
        register_text_encoder("hashing")(lambda: HashingTextEncoder())


# ------------------------------------------------------------------------------------------------ cache


class Counting:
    """A TextEncoder that counts what it is asked to embed."""

    def __init__(self, name: str = "counting", dim: int = 32) -> None:
        self.inner = HashingTextEncoder(dim=dim)
        self.name, self.dim = name, dim
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.encode(texts)


def test_cache_avoids_recomputation(tmp_path: Path) -> None:
    inner = Counting()
    cached = CachedTextEncoder(inner, tmp_path / "cache")
    assert isinstance(cached, TextEncoder) and cached.dim == 32 and cached.name == "counting"
    texts = ["atrial fibrillation", "sinus rhythm", "atrial fibrillation", "ünïcode ✓"]
    first = cached.encode(texts)
    assert inner.calls == [["atrial fibrillation", "sinus rhythm", "ünïcode ✓"]]  # each distinct text once
    np.testing.assert_array_equal(first, inner.inner.encode(texts))
    second = cached.encode(texts)
    assert len(inner.calls) == 1 and cached.hits == 3 and cached.misses == 3
    np.testing.assert_array_equal(second, first)
    cached.encode(["sinus rhythm", "new text"])
    assert inner.calls[-1] == ["new text"]
    # a new wrapper on the same folder (another process) reads the files back
    again = CachedTextEncoder(Counting(), tmp_path / "cache")
    np.testing.assert_array_equal(again.encode(texts), first)
    assert again.encoder.calls == []
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # atomic writes leave no temporary files


def test_cache_keys_on_encoder_name_and_recovers_from_bad_files(tmp_path: Path) -> None:
    a, b = Counting("enc-a"), Counting("enc-b", dim=16)
    CachedTextEncoder(a, tmp_path).encode(["x", "y"])
    out = CachedTextEncoder(b, tmp_path).encode(["x", "y"])
    assert b.calls == [["x", "y"]] and out.shape == (2, 16)
    cached = CachedTextEncoder(a, tmp_path)
    cached._file("x").write_bytes(b"truncated")
    np.testing.assert_array_equal(cached.encode(["x", "y"]), a.inner.encode(["x", "y"]))
    assert a.calls[-1] == ["x"]
    assert cached.encode([]).shape == (0, 32)


def test_cache_via_create_and_with_minilm(minilm: TextEncoder, tmp_path: Path) -> None:
    enc = create_text_encoder("hashing", dim=8, cache_dir=tmp_path)
    assert isinstance(enc, CachedTextEncoder) and enc.encode(["a"]).shape == (1, 8)
    cached = CachedTextEncoder(minilm, tmp_path)
    texts = ["atrial fibrillation", "normal ECG"]
    np.testing.assert_array_equal(cached.encode(texts), minilm.encode(texts))
    np.testing.assert_array_equal(cached.encode(texts), minilm.encode(texts))
    assert cached.hits == 2 and cached.misses == 2


def test_cache_rejects_bad_encoder_output(tmp_path: Path) -> None:
    class Bad(Counting):
        def encode(self, texts: Sequence[str]) -> np.ndarray:
            return np.zeros((len(texts), self.dim + 1), dtype=np.float32)

    with pytest.raises(ConfigError, match="returned shape"):
        CachedTextEncoder(Bad(), tmp_path).encode(["a"])
    with pytest.raises(ConfigError, match="not a TextEncoder"):
        CachedTextEncoder(object(), tmp_path)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ projection


def test_text_projection_shapes_and_init() -> None:
    torch.manual_seed(0)
    proj = TextProjection(384, 256)
    assert proj.hidden_dim == 256 and proj.fc1.in_features == 384 and proj.fc2.out_features == 256
    assert proj(torch.randn(5, 384)).shape == (5, 256)
    assert proj(torch.randn(2, 7, 384)).shape == (2, 7, 256)
    assert proj(np.zeros((3, 384), dtype=np.float32)).shape == (3, 256)  # an encoder's numpy output
    for fc in (proj.fc1, proj.fc2):
        w = fc.weight.detach()
        assert abs(float(w.std()) - 0.02) < 1e-3 and abs(float(w.mean())) < 1e-3
        assert torch.count_nonzero(fc.bias) == 0
    assert isinstance(proj.act, torch.nn.ReLU)  # eq. 6: W2 ReLU(W1 E(q))
    x = torch.randn(4, 384)
    expected = proj.fc2(torch.relu(proj.fc1(x)))
    torch.testing.assert_close(proj(x), expected)


def test_text_projection_options_and_learning() -> None:
    torch.manual_seed(0)
    proj = TextProjection(32, 8, hidden_dim=64, layer_norm=True, bias=False)
    assert proj.fc1.bias is None and proj.fc1.out_features == 64
    y = proj(torch.randn(10, 32))
    torch.testing.assert_close(y.mean(-1), torch.zeros(10), atol=1e-5, rtol=0)  # layer-normalised
    y.pow(2).sum().backward()
    assert proj.fc1.weight.grad is not None and proj.fc1.weight.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="in_dim=encoder.dim"):
        proj(torch.randn(2, 31))
    for bad in ({"in_dim": 0, "out_dim": 8}, {"in_dim": 8, "out_dim": 8, "hidden_dim": -1},
                {"in_dim": 8, "out_dim": 8, "init_std": 0.0}):
        with pytest.raises(ConfigError):
            TextProjection(**bad)
