"""What multi-label methods share at validation and prediction: ``val_macro_auroc`` over all ranks."""

from __future__ import annotations

import numpy as np
import torch


def macro_auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Mean AUROC over the columns that hold both classes (NaN when none does)."""
    from sklearn.metrics import roc_auc_score

    scores = [roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean(scores)) if scores else float("nan")


class MacroAurocValidation:
    """LightningModule mixin: collect sigmoid outputs during validation, log ``val_macro_auroc`` at the end
    of the epoch (every rank scores all validation samples), and predict probabilities."""

    def collect_validation(self, logits: torch.Tensor, y: torch.Tensor) -> None:
        if not hasattr(self, "_val"):
            self._val: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._val.append((torch.sigmoid(logits).float().detach(), y.float()))

    def on_validation_epoch_end(self) -> None:
        val = getattr(self, "_val", [])
        if not val:
            return
        p = torch.cat([a for a, _ in val])
        y = torch.cat([b for _, b in val])
        val.clear()
        if self.trainer is not None and self.trainer.world_size > 1:  # type: ignore[attr-defined]
            p = self.all_gather(p).reshape(-1, p.shape[-1])  # type: ignore[attr-defined]
            y = self.all_gather(y).reshape(-1, y.shape[-1])  # type: ignore[attr-defined]
        self.log("val_macro_auroc", macro_auroc(y.cpu().numpy(), p.cpu().numpy()),  # type: ignore[attr-defined]
                 prog_bar=True)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int, dataloader_idx: int = 0) -> torch.Tensor:
        return torch.sigmoid(self(batch["x"])).float()  # type: ignore[operator]
