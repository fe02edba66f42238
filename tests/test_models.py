from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

import cardiofm.models as zoo
from cardiofm.errors import ConfigError
from cardiofm.models import (
    count_parameters,
    create_head,
    create_model,
    list_heads,
    list_models,
    load_model,
    model_defaults,
    register_model,
    save_model,
)
from cardiofm.models import registry as registry_mod

TINY = ["net1d_tiny", "vit_micro", "lstm_tiny", "resnet1d_wang"]
HUGE = {"net1d_m", "net1d_l", "vit_small"}  # built on the meta device only (same code as their smaller sizes)
REAL = [n for n in list_models() if n not in HUGE]  # every model that is cheap enough to run on CPU


@pytest.fixture(autouse=True)
def _threads():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: one thread is faster and steadier on a shared 2-core machine
    yield
    torch.set_num_threads(n)


def _meta(name: str, in_leads: int = 1) -> nn.Module:
    with torch.device("meta"):
        return create_model(name, in_leads=in_leads)


def test_registry_lists_every_encoder():
    expected = {
        "net1d_tiny", "net1d_s", "net1d_m", "net1d_l",
        "vit_micro", "vit_tiny", "vit_small",
        "lstm_tiny", "lstm_cardioprime", "resnet1d_wang",
    }
    assert expected <= set(list_models())
    assert list_models() == sorted(list_models())
    assert list_models("net1d*") == ["net1d_l", "net1d_m", "net1d_s", "net1d_tiny"]
    d = model_defaults("net1d_s")
    assert d["widths"] == [32, 64, 64, 128, 128, 256] and d["kernel_size"] == 16 and "in_leads" not in d


@pytest.mark.parametrize("name", TINY)
@pytest.mark.parametrize("in_leads", [1, 2, 12])
@pytest.mark.parametrize("length", [777, 2500])
def test_shapes_tiny(name: str, in_leads: int, length: int):
    torch.manual_seed(0)
    m = create_model(name, in_leads=in_leads).eval()
    x = torch.randn(2, in_leads, length)
    with torch.no_grad():
        z = m(x)
        tok = m.forward_features(x)
    assert z.shape == (2, m.embed_dim)
    assert tok.ndim == 3 and tok.shape[0] == 2 and tok.shape[2] == m.embed_dim and tok.shape[1] >= 1
    assert torch.isfinite(z).all() and torch.isfinite(tok).all()
    assert m.in_leads == in_leads


@pytest.mark.parametrize("name", REAL)
def test_shapes_default_sizes(name: str):
    torch.manual_seed(0)
    m = create_model(name, in_leads=12).eval()
    x = torch.randn(2, 12, 1000)
    with torch.no_grad():
        z = m(x)
        tok = m.forward_features(x)
    assert z.shape == (2, m.embed_dim) and tok.shape[::2] == (2, m.embed_dim)
    assert torch.isfinite(z).all() and torch.isfinite(tok).all()


@pytest.mark.parametrize("name", TINY)
def test_very_short_input(name: str):
    m = create_model(name, in_leads=1).eval()
    with torch.no_grad():
        assert m(torch.randn(1, 1, 16)).shape == (1, m.embed_dim)


@pytest.mark.parametrize("length", [5000, 2500, 1001])
def test_vit_tokens_and_position_interpolation(length: int):
    m = create_model("vit_micro", in_leads=3).eval()
    patch = m.model_cfg["patch_size"]
    with torch.no_grad():
        tok = m.forward_features(torch.randn(1, 3, length))
    assert tok.shape == (1, 3 * math.ceil(length / patch), m.embed_dim)  # lead-major (lead, time-patch) tokens


def test_vit_tiny_is_supreme_size():
    cfg = model_defaults("vit_tiny")
    assert (cfg["dim"], cfg["depth"], cfg["heads"], cfg["mlp_dim"], cfg["patch_size"]) == (192, 12, 3, 768, 125)


@pytest.mark.parametrize("name", list_models())
def test_wrong_input_raises_config_error(name: str):
    m = _meta(name, in_leads=2)  # the checks run before any compute, so meta tensors suffice
    with pytest.raises(ConfigError, match="expected 2 leads, got 3"):
        m(torch.empty(1, 3, 500, device="meta"))
    with pytest.raises(ConfigError, match="expected 2 leads, got 12"):
        m.forward_features(torch.empty(1, 12, 500, device="meta"))
    with pytest.raises(ConfigError, match="2-D"):
        m(torch.empty(2, 500, device="meta"))
    with pytest.raises(ConfigError, match="float"):
        m(torch.empty(1, 2, 500, dtype=torch.int64, device="meta"))


@pytest.mark.parametrize("name", TINY)
def test_save_load_round_trip(name: str, tmp_path):
    torch.manual_seed(1)
    m = create_model(name, in_leads=2)
    # one training-mode pass so BatchNorm running statistics differ from their initial values
    m.train()(torch.randn(4, 2, 600))
    m.eval()
    x = torch.randn(3, 2, 600)
    with torch.no_grad():
        ref = m(x)
    weights = save_model(m, tmp_path / "enc")
    assert weights == tmp_path / "enc" / "model.safetensors" and weights.is_file()
    meta = json.loads((tmp_path / "enc" / "model.json").read_text())
    assert meta["name"] == name and meta["cfg"]["in_leads"] == 2 and meta["n_parameters"] == count_parameters(m)
    assert "cardiofm_version" in meta
    for path in (tmp_path / "enc", weights):
        m2 = load_model(path).eval()
        assert m2.model_name == name and m2.model_cfg == m.model_cfg
        with torch.no_grad():
            assert torch.equal(m2(x), ref)


def test_save_to_safetensors_path_and_metadata_fallback(tmp_path):
    m = create_model("net1d_tiny", in_leads=1).eval()
    w = save_model(m, tmp_path / "a" / "enc.safetensors")
    assert w.is_file() and (tmp_path / "a" / "enc.json").is_file()
    (tmp_path / "a" / "enc.json").unlink()  # the config also travels in the safetensors header
    m2 = load_model(w).eval()
    x = torch.randn(2, 1, 300)
    with torch.no_grad():
        assert torch.equal(m(x), m2(x))


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="model.safetensors"):
        load_model(tmp_path / "nowhere")
    d = tmp_path / "bad"
    save_model(create_model("lstm_tiny", in_leads=1), d)
    (d / "model.json").write_text("{not json")
    with pytest.raises(ConfigError, match="model.json"):
        load_model(d)
    save_model(create_model("lstm_tiny", in_leads=1), d)
    (d / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ConfigError, match="model.safetensors"):
        load_model(d)
    save_model(create_model("lstm_tiny", in_leads=1), d)
    meta = json.loads((d / "model.json").read_text())
    meta["cfg"]["hidden_size"] = 7  # weights no longer fit the config
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="do not match"):
        load_model(d)
    with pytest.raises(ConfigError, match="create_model"):
        save_model(nn.Linear(2, 2), tmp_path / "plain")


# CLEF Table S7 states S 448K, M 30.7M, L 296M parameters (single lead). Reading the table as in
# hsd1503/resnet1d net1d.py (middle width int(h * ratio), h // group_width groups, SE in every block,
# biased convs) gives 447,728 / 30,653,872 / 296,623,104, all within 0.25 % of the paper.
@pytest.mark.parametrize(("name", "paper"), [("net1d_s", 448e3), ("net1d_m", 30.7e6), ("net1d_l", 296e6)])
def test_net1d_parameter_counts_match_clef(name: str, paper: float):
    m = _meta(name, in_leads=1)
    n = count_parameters(m)
    assert abs(n / paper - 1) < 0.01, n
    assert m.embed_dim == model_defaults(name)["widths"][-1]


def test_net1d_tiny_is_tiny():
    assert 3_000 <= count_parameters(create_model("net1d_tiny", in_leads=1)) <= 50_000


@pytest.mark.parametrize("name", REAL)
def test_same_seed_same_init(name: str):
    torch.manual_seed(123)
    a = create_model(name, in_leads=2).state_dict()
    torch.manual_seed(123)
    b = create_model(name, in_leads=2).state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("name", "cfg"),
    [(n, {}) for n in REAL] + [("lstm_tiny", {"pool": "last"}), ("resnet1d_wang", {"pool": "avg"})],
)
def test_gradient_reaches_every_parameter(name: str, cfg: dict):
    torch.manual_seed(0)
    for use_tokens in (False, True):
        m = create_model(name, in_leads=2, **cfg).train()
        x = torch.randn(3, 2, 500)
        out = m.forward_features(x) if use_tokens else m(x)
        out.square().mean().backward()
        missing = [k for k, p in m.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
        assert not missing, (name, use_tokens, missing)


def _sine_task(n: int, length: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two leads with a 3- or 9-cycle sine (random phase, amplitude, noise); label = the fast one."""
    y = torch.randint(0, 2, (n,), generator=gen)
    cycles = torch.where(y == 1, 9.0, 3.0)[:, None, None]
    t = torch.linspace(0, 1, length)[None, None, :]
    phase = torch.rand(n, 2, 1, generator=gen) * 2 * math.pi
    amp = 0.5 + torch.rand(n, 2, 1, generator=gen)
    x = amp * torch.sin(2 * math.pi * cycles * t + phase) + 0.2 * torch.randn(n, 2, length, generator=gen)
    return x, y


@pytest.mark.parametrize("name", ["net1d_tiny", "vit_micro", "lstm_tiny"])
def test_tiny_model_learns_toy_task(name: str):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    x, y = _sine_task(256, 250, gen)
    enc = create_model(name, in_leads=2)
    head = create_head("linear", enc.embed_dim, 2)
    model = nn.Sequential(enc, head)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(8):  # epochs
        for i in range(0, len(x), 32):
            loss = nn.functional.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    assert acc > 0.9, acc


def test_unknown_name_and_key_raise_config_error():
    with pytest.raises(ConfigError, match="unknown model 'nope'.*net1d_s"):
        create_model("nope")
    with pytest.raises(ConfigError, match="'widht'"):
        create_model("net1d_tiny", widht=3)
    with pytest.raises(ConfigError, match="in_leads"):
        create_model("net1d_tiny", in_leads=0)
    with pytest.raises(ConfigError, match="heads=5 must divide dim=32"):
        create_model("vit_micro", heads=5)
    with pytest.raises(ConfigError, match="one entry per stage"):
        create_model("net1d_tiny", blocks=[1, 1])
    with pytest.raises(ConfigError, match="pool"):
        create_model("lstm_tiny", pool="max")
    with pytest.raises(ConfigError, match="unknown model"):
        model_defaults("nope")


def test_register_model_and_model_cfg_recreates():
    @register_model("_test_linear_enc", width=4)
    class Enc(nn.Module):
        def __init__(self, in_leads: int = 1, width: int = 8) -> None:
            super().__init__()
            self.in_leads, self.embed_dim = in_leads, width
            self.fc = nn.Linear(in_leads, width)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x.mean(-1))

    try:
        m = create_model("_test_linear_enc", in_leads=3)
        assert m.model_cfg == {"in_leads": 3, "width": 4} and m.embed_dim == 4
        again = create_model(m.model_name, **m.model_cfg)
        assert again.model_cfg == m.model_cfg
        with pytest.raises(ConfigError, match="registered twice"):
            register_model("_test_linear_enc")(Enc)
    finally:
        registry_mod.MODELS.remove("_test_linear_enc")
    assert "_test_linear_enc" not in list_models()


def test_heads():
    assert list_heads() == ["linear", "mlp"]
    z = torch.randn(5, 16)
    assert create_head("linear", 16, 3)(z).shape == (5, 3)
    mlp = create_head("mlp", 16, 4, hidden=8, dropout=0.1)
    assert isinstance(mlp, zoo.MLPHead) and mlp(z).shape == (5, 4)
    assert isinstance(create_head("linear", 16, 1), zoo.LinearHead)
    with pytest.raises(ConfigError, match="unknown head"):
        create_head("cfn", 16, 2)
    with pytest.raises(ConfigError, match="hiden"):
        create_head("mlp", 16, 2, hiden=3)
    with pytest.raises(ConfigError, match="n_out"):
        create_head("linear", 16, 0)
