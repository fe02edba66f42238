"""SuPreME: the Cardiac Fusion Network, its linear ablation, and the method on a task with a known answer."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cardiofm.errors import ConfigError
from cardiofm.methods.registry import create_method, method_config
from cardiofm.models.fusion import CardiacFusionNetwork, LinearQueryHead
from cardiofm.systems.supreme.module import SupremeConfig, SupremeModule
from cardiofm.text.encoders import create_text_encoder

DESCRIPTIONS = ["atrial fibrillation", "left bundle branch block", "sinus bradycardia"]
UNSEEN = ["first degree av block", "inferior myocardial infarction", "left ventricular hypertrophy",
          "premature ventricular complex", "t wave inversion"]


def _queries(texts: list[str]) -> np.ndarray:
    return create_text_encoder("hashing").encode(texts)  # 384-d, the default text_dim


def _waves(n: int, seed: int, leads: int = 1, t_len: int = 150) -> tuple[np.ndarray, np.ndarray]:
    """Label j = "waveform j occurs somewhere": 0 a positive bump, 1 a negative bump, 2 a sine burst."""
    rng = np.random.default_rng(seed)
    t = np.arange(t_len)
    y = (rng.random((n, 3)) < 0.5).astype(np.float32)
    x = rng.normal(0, 0.2, (n, leads, t_len)).astype(np.float32)
    shapes = [lambda c: 2.0 * np.exp(-0.5 * ((t - c) / 6) ** 2), lambda c: -2.0 * np.exp(-0.5 * ((t - c) / 6) ** 2),
              lambda c: 1.5 * np.sin(2 * np.pi * (t - c) / 8) * (np.abs(t - c) < 16)]
    for i, j in zip(*np.nonzero(y), strict=True):
        x[i, rng.integers(leads)] += shapes[j](rng.integers(20, t_len - 20)).astype(np.float32)
    return x, y


class Waves(Dataset):
    def __init__(self, n: int, seed: int) -> None:
        self.x, self.y = _waves(n, seed)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": torch.from_numpy(self.x[i]), "y": torch.from_numpy(self.y[i])}


def _module(**kw: object) -> SupremeModule:
    values = {"encoder": "vit_micro", "in_leads": 1, "n_labels": 3, "label_names": ["pos", "neg", "sine"],
              "n_layers": 2, "query_embeddings": _queries(DESCRIPTIONS).tolist(), **kw}
    return create_method("supreme", values)


def _cfn(d: int = 32, **kw: object) -> CardiacFusionNetwork:
    torch.manual_seed(0)
    return CardiacFusionNetwork(d, n_layers=2, n_heads=4, **kw).eval()


# ---- the fusion network ----------------------------------------------------------------------------
@pytest.mark.parametrize("n_queries", [1, 3, 17])
@pytest.mark.parametrize("n_tokens", [1, 7, 40])
def test_cfn_gives_one_logit_per_query_for_any_number_of_queries_and_tokens(n_queries: int, n_tokens: int):
    cfn = _cfn()
    memory = torch.randn(2, n_tokens, 32)
    shared = cfn(torch.randn(n_queries, 32), memory)
    batched = cfn(torch.randn(2, n_queries, 32), memory)
    assert shared.shape == batched.shape == (2, n_queries)
    assert torch.isfinite(shared).all() and torch.isfinite(batched).all()
    head = LinearQueryHead(32)
    assert head(torch.randn(n_queries, 32), memory).shape == (2, n_queries)


def test_shared_queries_equal_the_same_queries_given_per_sample():
    cfn = _cfn()
    q, memory = torch.randn(5, 32), torch.randn(3, 11, 32)
    torch.testing.assert_close(cfn(q, memory), cfn(q.expand(3, -1, -1), memory))
    per_sample = torch.randn(3, 5, 32)  # sample b scored with its own queries = sample b alone with those
    out = cfn(per_sample, memory)
    for b in range(3):
        torch.testing.assert_close(out[b], cfn(per_sample[b], memory[b:b + 1])[0])


def test_permuting_the_queries_permutes_the_logits():
    cfn = _cfn()
    q, memory = torch.randn(9, 32), torch.randn(4, 13, 32)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(1))
    base = cfn(q, memory)
    torch.testing.assert_close(cfn(q[perm], memory), base[:, perm])
    assert base.std(1).min() > 0  # the logits do depend on the query ...
    assert (base - cfn(q, torch.randn(4, 13, 32))).abs().max() > 0  # ... and on the ECG tokens


def test_fusion_weights_start_at_normal_0_02_with_zero_biases():
    cfn = CardiacFusionNetwork(64, n_layers=3, n_heads=4, mlp_hidden=64)
    weights = [m.weight for m in cfn.modules() if isinstance(m, nn.Linear)]
    weights += [m.in_proj_weight for m in cfn.modules() if isinstance(m, nn.MultiheadAttention)]
    assert len(weights) == 3 * (2 * 2 + 2) + 2  # per layer: 2 attention (in+out) + 2 FFN; head: 2
    flat = torch.cat([w.detach().flatten() for w in weights])
    assert flat.std().item() == pytest.approx(0.02, rel=0.05)
    assert abs(flat.mean().item()) < 1e-3
    for w in weights:
        assert w.std().item() == pytest.approx(0.02, rel=0.25)
    for m in cfn.modules():
        if isinstance(m, nn.Linear):
            assert torch.count_nonzero(m.bias) == 0
        if isinstance(m, nn.MultiheadAttention):
            assert torch.count_nonzero(m.in_proj_bias) == 0
        if isinstance(m, nn.LayerNorm):
            assert torch.equal(m.weight, torch.ones_like(m.weight)) and torch.count_nonzero(m.bias) == 0
    # the paper's head after the CFN is a single linear layer
    assert isinstance(CardiacFusionNetwork(32, n_heads=4).head, nn.Linear)
    assert LinearQueryHead(64).proj.weight.std().item() == pytest.approx(0.02, rel=0.1)


def test_fusion_config_errors():
    with pytest.raises(ConfigError, match="must divide"):
        CardiacFusionNetwork(30, n_heads=4)
    with pytest.raises(ConfigError, match="dropout"):
        CardiacFusionNetwork(32, n_heads=4, dropout=1.0)
    with pytest.raises(ConfigError, match="n_layers"):
        CardiacFusionNetwork(32, n_layers=0, n_heads=4)
    cfn = _cfn()
    with pytest.raises(ConfigError, match="queries must be"):
        cfn(torch.randn(3, 16), torch.randn(2, 5, 32))
    with pytest.raises(ConfigError, match="memory must be"):
        cfn(torch.randn(3, 32), torch.randn(5, 32))
    with pytest.raises(ConfigError, match="batch 4"):
        cfn(torch.randn(4, 3, 32), torch.randn(2, 5, 32))


# ---- the method ------------------------------------------------------------------------------------
def _train(module: SupremeModule, steps: int) -> tuple[list[float], float]:
    """Full-batch AdamW steps with the module's optimiser; returns the losses and the train macro AUROC."""
    L.seed_everything(0, verbose=False)
    x, y = (torch.from_numpy(a) for a in _waves(64, 0))
    opt = module.configure_optimizers()["optimizer"]
    losses = []
    module.train()
    for _ in range(steps):
        loss = module.loss(module(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    module.eval()
    with torch.no_grad():
        p = torch.sigmoid(module(x)).numpy()
    return losses, min(roc_auc_score(y[:, j], p[:, j]) for j in range(3))


def test_cfn_module_learns_which_query_matches_which_waveform():
    L.seed_everything(0, verbose=False)
    module = _module(lr=3e-3)
    losses, auroc = _train(module, 120)
    assert losses[0] == pytest.approx(np.log(2), abs=0.02)  # starts at chance
    assert np.mean(losses[25:30]) < losses[0] - 0.02  # already going down after ~30 steps
    assert np.mean(losses[-5:]) < 0.35
    assert auroc > 0.9  # every label, not only on average


def test_linear_ablation_trains_and_still_scores_new_queries():
    L.seed_everything(0, verbose=False)
    module = _module(fusion="linear", lr=3e-3)
    assert isinstance(module.fusion, LinearQueryHead)
    losses, auroc = _train(module, 40)
    assert np.mean(losses[-5:]) < 0.5 * losses[0]
    assert auroc > 0.9
    x = torch.from_numpy(_waves(4, 1)[0])
    with torch.no_grad():
        assert torch.isfinite(module.zero_shot(x, _queries(UNSEEN))).all()


def test_zero_shot_with_the_training_queries_equals_forward_and_takes_unseen_queries():
    L.seed_everything(0, verbose=False)
    module = _module().eval()
    x = torch.from_numpy(_waves(6, 2)[0])
    with torch.no_grad():
        base = module(x)
        torch.testing.assert_close(module.zero_shot(x, _queries(DESCRIPTIONS)), base)  # numpy in
        torch.testing.assert_close(module.zero_shot(x, torch.from_numpy(_queries(DESCRIPTIONS))), base)
        new = module.zero_shot(x, _queries(UNSEEN))
        one = module.zero_shot(x, _queries(UNSEEN[:1]))
    assert base.shape == (6, 3) and new.shape == (6, 5) and one.shape == (6, 1)
    assert torch.isfinite(new).all() and torch.isfinite(one).all()


def test_query_embeddings_are_a_frozen_buffer_and_d_model_can_differ_from_the_encoder():
    module = _module(d_model=16, n_heads=2)
    assert "query_embeddings" in module.state_dict()
    assert "query_embeddings" not in dict(module.named_parameters())
    assert module.query_embeddings.shape == (3, 384)
    assert isinstance(module.token_proj, nn.Linear) and module.token_proj.out_features == 16
    assert module(torch.randn(2, 1, 150)).shape == (2, 3)
    assert isinstance(_module().token_proj, nn.Identity)  # d_model defaults to the encoder's embed_dim


def test_optimiser_is_adamw_with_cosine_warm_restarts_per_step():
    module = _module(restart_steps=4)
    out = module.configure_optimizers()
    opt, sched = out["optimizer"], out["lr_scheduler"]["scheduler"]
    assert isinstance(opt, torch.optim.AdamW)
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["weight_decay"] == 1e-8  # the paper's values
    assert isinstance(sched, torch.optim.lr_scheduler.CosineAnnealingWarmRestarts)
    assert out["lr_scheduler"]["interval"] == "step"
    lrs = []
    for _ in range(9):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == lrs[4] == lrs[8] == pytest.approx(1e-3)  # restarts every 4 steps (T_mult = 1)
    assert lrs[3] < lrs[2] < lrs[1] < lrs[0]


def test_trainer_fit_logs_metrics_predicts_and_checkpoints(tmp_path):
    L.seed_everything(0, verbose=False)
    module = _module()
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    train, val = Waves(32, 0), Waves(16, 1)
    trainer.fit(module, DataLoader(train, batch_size=16, shuffle=True), DataLoader(val, batch_size=16))
    metrics = trainer.callback_metrics
    assert {"train_loss", "val_loss", "val_macro_auroc"} <= set(metrics)
    assert all(np.isfinite(float(metrics[k])) for k in ("train_loss", "val_loss", "val_macro_auroc"))
    preds = torch.cat(trainer.predict(module, DataLoader(val, batch_size=8)))
    assert preds.shape == (16, 3) and ((preds >= 0) & (preds <= 1)).all()
    trainer.save_checkpoint(tmp_path / "supreme.ckpt")
    again = SupremeModule.load_from_checkpoint(tmp_path / "supreme.ckpt").eval()
    x = torch.from_numpy(val.x)
    with torch.no_grad():
        torch.testing.assert_close(again(x), module.eval()(x))


def test_config_errors_name_the_field():
    good = _queries(DESCRIPTIONS).tolist()
    base = {"encoder": "vit_micro", "in_leads": 1, "n_labels": 3}
    with pytest.raises(ConfigError, match="query_embeddings is missing"):
        create_method("supreme", base)
    with pytest.raises(ConfigError, match=r"shape \(2, 384\).*n_labels=3"):
        create_method("supreme", {**base, "query_embeddings": good[:2]})
    with pytest.raises(ConfigError, match="text_dim=768"):
        create_method("supreme", {**base, "query_embeddings": good, "text_dim": 768})
    with pytest.raises(ConfigError, match="NaN"):
        create_method("supreme", {**base, "query_embeddings": [[float("nan")] * 384] * 3})
    with pytest.raises(ConfigError, match="method.fusion"):
        create_method("supreme", {**base, "query_embeddings": good, "fusion": "mlp"})
    with pytest.raises(ConfigError, match="label_names has 2"):
        create_method("supreme", {**base, "query_embeddings": good, "label_names": ["a", "b"]})
    with pytest.raises(ConfigError, match="must divide"):
        create_method("supreme", {**base, "query_embeddings": good, "n_heads": 3})
    with pytest.raises(ConfigError, match="unknown key"):
        method_config("supreme", {**base, "learning_rate": 1e-3})
    module = SupremeModule(SupremeConfig(**base, query_embeddings=good))
    with pytest.raises(ConfigError, match=r"\(n_queries, 384\)"):
        module.zero_shot(torch.randn(2, 1, 150), np.zeros((4, 100), dtype=np.float32))
