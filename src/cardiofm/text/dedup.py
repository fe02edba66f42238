"""SuPreME's entity deduplication and mapping, and scores of an extractor against ground truth.

SuPreME embeds every extracted entity name with a text encoder (MedCPT there), groups names whose
cosine similarity exceeds 0.8 and maps each group to the standard term it is most similar to when
the average similarity exceeds 0.75 (section 4.1). :func:`deduplicate` does this with any
``embed`` function; the thresholds are inclusive (a similarity equal to the threshold counts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cardiofm.errors import ConfigError
from cardiofm.text.lexicon import Lexicon

_EPS = 1e-9


def _unit_rows(embed: Callable[[Sequence[str]], np.ndarray], texts: list[str], what: str) -> np.ndarray:
    vectors = np.asarray(embed(texts), dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ConfigError(f"deduplicate: embed({what}) must return an array of shape ({len(texts)}, dim), "
                          f"got {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ConfigError(f"deduplicate: embed({what}) returned NaN or infinite values")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ConfigError(f"deduplicate: embed({what}) returned an all-zero vector")
    return vectors / norms


def _groups(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Connected components of the graph "similarity >= threshold", members in input order."""
    parent = list(range(len(similarity)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(similarity >= threshold - _EPS, k=1)), strict=True):
        parent[root(int(j))] = root(int(i))
    groups: dict[int, list[int]] = {}
    for i in range(len(similarity)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def deduplicate(names: Sequence[str], vocabulary: Lexicon, embed: Callable[[Sequence[str]], np.ndarray], *,
                group_threshold: float = 0.8, map_threshold: float = 0.75) -> dict[str, str | None]:
    """Group similar entity names and map each group to a standard term.

    Args:
        names: extracted entity names (repeats are fine).
        vocabulary: the standard terms; each is represented by its name and its description.
        embed: texts -> array ``(len(texts), dim)``, e.g. a sentence encoder; only cosine similarity is used.
        group_threshold: names with cosine similarity at least this are one group (transitively).
        map_threshold: a group maps to the term whose similarity, averaged over the group's names,
            is highest, if that average is at least this; else to ``None`` (a new term).

    Returns:
        Each distinct name -> the lexicon code its group maps to, or ``None``.
    """
    for label, value in (("group_threshold", group_threshold), ("map_threshold", map_threshold)):
        if not -1.0 <= float(value) <= 1.0:
            raise ConfigError(f"deduplicate: {label} = {value} must lie in [-1, 1] (a cosine similarity)")
    unique = list(dict.fromkeys(str(n) for n in names))
    if not unique:
        return {}
    if len(vocabulary) == 0:
        raise ConfigError("deduplicate: the vocabulary is empty")
    x = _unit_rows(embed, unique, "names")
    codes = vocabulary.codes()
    terms = [vocabulary.get(c) for c in codes]
    t = _unit_rows(embed, [s for term in terms for s in (term.name, term.description)], "vocabulary")
    # similarity of each name to each term: the better of its name and its description
    to_terms = (x @ t.T).reshape(len(unique), len(codes), 2).max(axis=2)
    out: dict[str, str | None] = {}
    for group in _groups(x @ x.T, group_threshold):
        mean = to_terms[group].mean(axis=0)
        best = int(np.argmax(mean))
        code = codes[best] if mean[best] >= map_threshold - _EPS else None
        out.update({unique[i]: code for i in group})
    return {n: out[n] for n in unique}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else float(tp + fn == 0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def extraction_scores(predicted: Sequence[set[str]], truth: Sequence[set[str]]) -> dict[str, Any]:
    """Micro precision, recall and F1 of predicted code sets against true ones, with per-code counts.

    Conventions: with nothing predicted precision is 1 only if nothing was to be found (else 0);
    with nothing to find recall is 1.

    Returns:
        ``{"precision", "recall", "f1", "tp", "fp", "fn", "exact_match", "n_reports", "per_code"}``;
        ``per_code[code]`` holds ``tp``, ``fp``, ``fn``, ``support`` (true count) and its own
        precision, recall and F1.
    """
    if len(predicted) != len(truth):
        raise ConfigError(f"extraction_scores: {len(predicted)} predicted sets but {len(truth)} true sets")
    counts: dict[str, dict[str, int]] = {}
    exact = 0
    for pred, true in zip(predicted, truth, strict=True):
        pred, true = set(pred), set(true)
        exact += pred == true
        for code in pred | true:
            c = counts.setdefault(code, {"tp": 0, "fp": 0, "fn": 0})
            c["tp" if code in pred and code in true else "fp" if code in pred else "fn"] += 1
    tp, fp, fn = (sum(c[k] for c in counts.values()) for k in ("tp", "fp", "fn"))
    per_code = {code: {**c, "support": c["tp"] + c["fn"], **_prf(c["tp"], c["fp"], c["fn"])}
                for code, c in sorted(counts.items())}
    return {**_prf(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn,
            "exact_match": exact / len(truth) if len(truth) else 1.0, "n_reports": len(truth), "per_code": per_code}
