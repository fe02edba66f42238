"""Integrated-gradient attributions of an ECG model, per lead and time sample.

:func:`integrated_gradients` wraps captum's :class:`~captum.attr.IntegratedGradients` (Sundararajan
et al. 2017): the attribution of each input sample is ``(x - x') * mean_a dF(x' + a (x - x'))/dx`` along
the straight path from the baseline ``x'`` to ``x``, so the attributions of a record sum to
``F(x) - F(x')`` (completeness; captum's convergence delta is the error of that sum). ``F`` is the
model's **logit** for the target output, not its probability: a sigmoid saturates and would hide
where the evidence is in confidently classified records.

:func:`lead_importance`, :func:`time_importance` and :func:`beat_aligned_attribution` summarise the
``(records, leads, samples)`` map: which leads, which moments of the record, and which part of the
heartbeat (R-aligned windows, the same as :mod:`cardiofm.explain.beats`) carry the attribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardiofm.errors import ConfigError
from cardiofm.explain.beats import (
    _window,
    _zscore_mode,
    as_records,
    cut_beats,
    detect_r_peaks,
)
from cardiofm.physio.beats import segment_beats
from cardiofm.signal.transforms import valid_rate

IG_METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")
BASELINES = ("zeros", "mean")


def _positive_int(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _inputs(x: Any) -> tuple[np.ndarray, bool]:
    import torch

    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise ConfigError(f"x must be a numeric array (records, leads, samples), got {type(x).__name__}") from None
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3 or 0 in arr.shape:
        raise ConfigError(f"x must be (records, leads, samples) or (leads, samples), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ConfigError("x holds NaN/Inf samples; repair them (cardiofm.signal.record.repair_nonfinite) first")
    return arr, single


def _baseline(baseline: Any, x: np.ndarray) -> np.ndarray:
    import torch

    if isinstance(baseline, str):
        if baseline == "zeros":
            return np.zeros_like(x)
        if baseline == "mean":  # each lead flat at its own mean over the record
            return np.broadcast_to(x.mean(axis=-1, keepdims=True), x.shape).astype(np.float32)
        raise ConfigError(f"baseline must be one of {', '.join(BASELINES)}, a number or an array, got {baseline!r}")
    if isinstance(baseline, torch.Tensor):
        baseline = baseline.detach().cpu().numpy()
    try:
        b = np.asarray(baseline, dtype=np.float32)
    except (TypeError, ValueError):
        raise ConfigError(f"baseline must be 'zeros', 'mean', a number or an array, got {type(baseline).__name__}") \
            from None
    try:
        b = np.broadcast_to(b, x.shape)
    except ValueError:
        raise ConfigError(f"baseline of shape {b.shape} does not broadcast to the input shape {x.shape}") from None
    if not np.isfinite(b).all():
        raise ConfigError("baseline holds NaN/Inf values")
    return np.ascontiguousarray(b, dtype=np.float32)


def _targets(target: Any, n: int) -> np.ndarray:
    t = np.asarray(target)
    if t.ndim == 0:
        t = np.full(n, t.item() if hasattr(t, "item") else t, dtype=object)
    if t.ndim != 1 or t.shape[0] != n:
        raise ConfigError(f"target must be one output index or one per record ({n}), got shape {t.shape}")
    out = np.empty(n, dtype=np.int64)
    for i, v in enumerate(t.tolist()):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(f"target must be a non-negative integer output index, got {v!r}")
        out[i] = v
    return out


class _Logits:
    """The model's forward as captum needs it: logits ``(B, n_outputs)`` (a ``(B,)`` output becomes ``(B, 1)``)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, x: Any) -> Any:
        import torch

        out = self.model(x)
        if not isinstance(out, torch.Tensor):
            raise ConfigError(f"model(x) must return a logits tensor (batch, outputs), got {type(out).__name__}; "
                              f"wrap the model so it returns the head's logits")
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != x.shape[0]:
            raise ConfigError(f"model(x) must return logits of shape (batch, outputs); for a batch of "
                              f"{x.shape[0]} it returned {tuple(out.shape)}")
        return out


def integrated_gradients(model: Any, x: Any, target: int | Sequence[int], *, baseline: Any = "zeros",
                         steps: int = 50, batch_size: int = 16, internal_batch_size: int | None = None,
                         method: str = "gausslegendre",
                         return_delta: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Integrated gradients of ``model``'s logit ``target`` w.r.t. every input sample (captum).

    Args:
        model: a ``torch.nn.Module`` with ``model(x)`` -> logits ``(batch, n_outputs)``. It runs in eval
            mode during the call; its train/eval flags and ``requires_grad`` flags are restored after, and
            no gradient is accumulated on its parameters.
        x: ``(n, leads, samples)`` (or one ``(leads, samples)`` record), as the model takes it (e.g.
            z-scored); numpy or torch. Moved to the model's device and dtype.
        target: output index, or one per record.
        baseline: ``"zeros"`` (a flat 0 signal: the mean of z-scored inputs), ``"mean"`` (each lead flat
            at its mean), a number, or an array/tensor broadcastable to ``x``.
        steps: points of the path integral (captum's ``n_steps``).
        batch_size: records per captum call.
        internal_batch_size: forward/backward batch inside captum (default ``batch_size * steps``);
            lower it for large models.
        method: captum's integration rule (``"gausslegendre"`` or a ``"riemann_*"`` rule).
        return_delta: also return the convergence delta per record.

    Returns:
        Attributions, float32, the shape of ``x``; with ``return_delta`` also ``delta`` ``(n,)``:
        ``sum(attr) - (F(x) - F(baseline))``, which should be small next to ``F(x) - F(baseline)``.

    Raises:
        ConfigError: wrong input shape or values, a target outside the model's outputs, a baseline
            that does not fit, bad options, or a model that rejects the input.
    """
    import torch
    from captum.attr import IntegratedGradients

    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    steps_ = _positive_int(steps, "steps")
    batch = _positive_int(batch_size, "batch_size")
    inner = _positive_int(internal_batch_size, "internal_batch_size", allow_none=True)
    if method not in IG_METHODS:
        raise ConfigError(f"method must be one of {', '.join(IG_METHODS)}, got {method!r}")
    arr, single = _inputs(x)
    base = _baseline(baseline, arr)
    targets = _targets(target, arr.shape[0])
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.dtype.is_floating_point else torch.float32
    forward = _Logits(model)

    modes = {m: m.training for m in model.modules()}
    grads = {p: p.requires_grad for p in model.parameters()}
    model.eval()
    for p in grads:
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            try:
                probe = forward(torch.as_tensor(arr[:1], device=device, dtype=dtype))
            except ConfigError:
                raise
            except Exception as exc:  # the model's own shape checks raise assorted errors
                raise ConfigError(f"model rejected an input of (leads, samples) = {arr.shape[1:]}; check the lead "
                                  f"count and length it expects ({type(exc).__name__}: {exc})") from None
        n_out = int(probe.shape[1])
        if (targets >= n_out).any():
            raise ConfigError(f"target {int(targets.max())} is out of range: the model has {n_out} output(s) "
                              f"(indices 0..{n_out - 1})")
        ig = IntegratedGradients(forward)
        attrs, deltas = [], []
        with torch.enable_grad():
            for a in range(0, arr.shape[0], batch):
                xb = torch.as_tensor(arr[a:a + batch], device=device, dtype=dtype)
                bb = torch.as_tensor(base[a:a + batch], device=device, dtype=dtype)
                tb = targets[a:a + batch].tolist()
                att, delta = ig.attribute(xb, baselines=bb, target=tb, n_steps=steps_, method=method,
                                          internal_batch_size=inner, return_convergence_delta=True)
                attrs.append(att.detach().float().cpu().numpy())
                deltas.append(delta.detach().float().cpu().numpy().reshape(-1))
    finally:
        for m, was in modes.items():
            m.train(was)
        for p, req in grads.items():
            p.requires_grad_(req)
    out = np.concatenate(attrs).astype(np.float32)
    dl = np.concatenate(deltas).astype(np.float32)
    if single:
        out = out[0]
    return (out, dl) if return_delta else out


def _attr_array(attr: Any) -> tuple[np.ndarray, bool]:
    try:
        a = np.asarray(attr, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"attr must be a numeric array (records, leads, samples), got {type(attr).__name__}") \
            from None
    single = a.ndim == 2
    if single:
        a = a[None]
    if a.ndim != 3:
        raise ConfigError(f"attr must be (records, leads, samples) or (leads, samples), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ConfigError("attr holds NaN/Inf values")
    return a, single


def _share(v: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    total = v.sum(axis=axes, keepdims=True)
    return np.where(total > 0, v / np.where(total > 0, total, 1.0), 0.0)


def lead_importance(attr: Any) -> np.ndarray:
    """Share of each lead in a record's total ``|attr|``: ``(n, leads)``, rows sum to 1 (0 if all zero).

    A ``(leads, samples)`` input gives ``(leads,)``.
    """
    a, single = _attr_array(attr)
    imp = _share(np.abs(a).sum(axis=-1), (1,)).astype(np.float32)
    return imp[0] if single else imp


def time_importance(attr: Any, fs: float, smoothing_s: float = 0.04, *, per_lead: bool = False) -> np.ndarray:
    """``|attr|`` over time, smoothed by a ``smoothing_s`` moving average and normalised per record.

    Returns ``(n, samples)`` (summed over leads; each row sums to 1), or with ``per_lead``
    ``(n, leads, samples)`` (each record's leads together sum to 1, so leads stay comparable).
    ``smoothing_s=0`` means no smoothing. A ``(leads, samples)`` input drops the record axis.
    """
    from scipy.ndimage import uniform_filter1d

    fs = valid_rate(fs)
    if not isinstance(smoothing_s, int | float) or not math.isfinite(smoothing_s) or smoothing_s < 0:
        raise ConfigError(f"smoothing_s must be a non-negative number of seconds, got {smoothing_s!r}")
    a, single = _attr_array(attr)
    v = np.abs(a) if per_lead else np.abs(a).sum(axis=1)
    width = int(round(smoothing_s * fs))
    if width > 1:
        v = uniform_filter1d(v, size=width, axis=-1, mode="nearest")
    out = _share(v, tuple(range(1, v.ndim))).astype(np.float32)
    return out[0] if single else out


@dataclass
class BeatAttribution:
    """Attributions cut into R-aligned beat windows, to draw over the average beat.

    Attributes:
        leads: lead names.
        fs: sampling rate (Hz).
        time_s: ``(n,)`` time relative to the R peak (s).
        beat: ``(leads, n)`` mean over records of each record's median beat (z-scored like
            :func:`cardiofm.explain.beats.group_average_beats`).
        attribution: ``(leads, n)`` mean over records of each record's mean attribution per window sample.
        record_attribution: ``(n_records, leads, n)`` per-record mean attribution windows.
        record_index: indices (into the input) of the records used.
        dropped: indices of records without a usable beat.
        n_beats: beats used over all records.
        absolute: whether ``|attr|`` was averaged (else signed attributions).
        normalised: whether each record's attribution was divided by its total ``|attr|`` first.
        zscore: how the beats were scaled (``"beat"``, ``"record"`` or ``None``).
    """

    leads: tuple[str, ...]
    fs: float
    time_s: np.ndarray
    beat: np.ndarray
    attribution: np.ndarray
    record_attribution: np.ndarray = field(repr=False)
    record_index: np.ndarray = field(repr=False)
    dropped: list[int] = field(repr=False)
    n_beats: int = 0
    absolute: bool = True
    normalised: bool = True
    zscore: str | None = "beat"

    @property
    def n_records(self) -> int:
        """Records that gave at least one beat."""
        return int(len(self.record_index))

    def lead_importance(self) -> np.ndarray:
        """Share of each lead in the beat-window attribution ``(leads,)`` (sums to 1)."""
        v = np.abs(self.attribution).sum(axis=-1)
        return (v / v.sum() if v.sum() > 0 else v).astype(np.float32)


def beat_aligned_attribution(attr: Any, signals: Any, fs: float, *, leads: Sequence[str], before_s: float = 0.25,
                             after_s: float = 0.45, rpeak_lead: str = "II", zscore: bool | str = True,
                             absolute: bool = True, normalise: bool = True, min_beats: int = 3,
                             peaks: Sequence[np.ndarray] | None = None) -> BeatAttribution:
    """Average attributions over R-aligned beat windows (the windows of :func:`group_average_beats`).

    R peaks are found on ``signals`` (the ECGs the attributions belong to, same shape as ``attr``; raw or
    model input) exactly as for the average beats. Per record the attribution windows are averaged
    over beats (``|attr|`` if ``absolute``; with ``normalise`` each record is first divided by its total
    ``|attr|`` so every record weighs once), then averaged over records; the signal's beats are reduced
    the same way to the beat to draw underneath.

    Raises:
        ConfigError: shapes of ``attr`` and ``signals`` differ, bad window or options.
    """
    fs = valid_rate(fs)
    a, _ = _attr_array(attr)
    recs, names = as_records(signals, leads)
    if len(recs) != a.shape[0] or any(r.shape != a.shape[1:] for r in recs):
        raise ConfigError(f"attr {a.shape} and signals ({len(recs)} records of {recs[0].shape if recs else '?'}) "
                          f"must have the same shape")
    if peaks is not None and len(peaks) != len(recs):
        raise ConfigError(f"peaks has {len(peaks)} entries for {len(recs)} records")
    before, after = _window(fs, before_s, after_s)
    mode = _zscore_mode(zscore)
    beats_, attrs, index, dropped, n_beats = [], [], [], [], 0
    for i, x in enumerate(recs):
        if not np.isfinite(x).all():
            dropped.append(i)
            continue
        p = np.asarray(peaks[i]) if peaks is not None else \
            detect_r_peaks(x, fs, names, rpeak_lead=rpeak_lead, min_beats=min_beats)[0]
        b = cut_beats(x, p, before, after, mode)
        if b.shape[0] == 0:
            dropped.append(i)
            continue
        v = np.abs(a[i]) if absolute else a[i]
        if normalise:
            total = np.abs(a[i]).sum()
            v = v / total if total > 0 else v
        w, _ = segment_beats(v, p, before, after)
        beats_.append(np.median(b, axis=0))
        attrs.append(w.astype(np.float64).mean(axis=0))
        index.append(i)
        n_beats += int(b.shape[0])
    width = before + after
    if attrs:
        rec_attr = np.stack(attrs).astype(np.float32)
        beat, mean_attr = np.stack(beats_).mean(axis=0), rec_attr.mean(axis=0)
    else:
        rec_attr = np.zeros((0, len(names), width), dtype=np.float32)
        beat = mean_attr = np.full((len(names), width), np.nan)
    return BeatAttribution(leads=names, fs=fs, time_s=(np.arange(width) - before) / fs,
                           beat=np.asarray(beat, dtype=np.float32), attribution=np.asarray(mean_attr, np.float32),
                           record_attribution=rec_attr, record_index=np.asarray(index, dtype=np.int64),
                           dropped=dropped, n_beats=n_beats, absolute=bool(absolute), normalised=bool(normalise),
                           zscore=mode)


__all__ = ["BeatAttribution", "beat_aligned_attribution", "integrated_gradients", "lead_importance",
           "time_importance"]
