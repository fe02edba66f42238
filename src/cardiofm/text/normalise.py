"""Text normalisation shared by the lexicon and the entity extractor.

Text is lower-cased, umlauts and ß are spelled in ASCII (ä -> ae, as
:func:`cardiofm.synth.reports.normalise_umlauts`; PTB-XL's upper-case "Ä" inside lower-case text
too), other accents are dropped, and tokens are runs of letters and digits; every normalised
character remembers the original character it came from, so matches map back to spans of the
report. :func:`stem` strips English and German inflection endings ("inferioren" and "inferiorer"
both give "inferior") so that a phrase matches whatever ending the report uses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_ASCII = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
_TOKEN = re.compile(r"[a-z0-9]+")
_ENDINGS = ("en", "er", "es", "em", "e", "n", "s")


@dataclass(frozen=True)
class Token:
    """One token: its normalised text, its stem and its span ``[start, end)`` in the original text."""

    text: str
    stem: str
    start: int
    end: int


def normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalised ``text`` and, for every character of it, the index of the original character."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        for c in ch.lower():
            rep = _ASCII.get(c)
            if rep is None:
                rep = "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x))
            out.extend(rep)
            offsets.extend([i] * len(rep))
    return "".join(out), offsets


def normalise(text: str) -> str:
    """Lower case, umlauts and ß in ASCII, other accents dropped ("Verlängerung" -> "verlaengerung")."""
    return normalise_with_offsets(text)[0]


def stem(token: str) -> str:
    """``token`` without one inflection ending (plural -s/-n, German adjective -e/-en/-er/-es/-em, -ies -> -y)."""
    if len(token) < 5 or token.isdigit():
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    for ending in _ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= 4:
            return token[: -len(ending)]
    return token


def tokenize(text: str) -> tuple[list[Token], list[str]]:
    """Tokens of ``text`` and the normalised text around them.

    Returns:
        ``(tokens, gaps)`` with ``len(gaps) == len(tokens) + 1``: ``gaps[k]`` is the normalised
        text just before token ``k`` (``gaps[0]`` leads the text, ``gaps[-1]`` trails it).
    """
    norm, offsets = normalise_with_offsets(text)
    tokens: list[Token] = []
    gaps: list[str] = []
    last = 0
    for m in _TOKEN.finditer(norm):
        gaps.append(norm[last:m.start()])
        tok = m.group()
        tokens.append(Token(tok, stem(tok), offsets[m.start()], offsets[m.end() - 1] + 1))
        last = m.end()
    gaps.append(norm[last:])
    return tokens, gaps


def phrase_tokens(phrase: str) -> list[str]:
    """Normalised tokens of a phrase."""
    return _TOKEN.findall(normalise(phrase))


def tuple_key(tokens: list[str]) -> tuple[str, ...]:
    """Matching key of a token sequence: the stems, in order."""
    return tuple(stem(t) for t in tokens)


def joined_key(tokens: list[str]) -> str:
    """Matching key that ignores how a compound is split ("ST-Senkung" = "ST Senkung" = "STSenkung")."""
    return "".join(tokens[:-1]) + stem(tokens[-1]) if tokens else ""


def surface(text: str) -> str:
    """Letters and digits of ``text`` in their original case (for case-sensitive abbreviations)."""
    return "".join(ch for ch in text if ch.isalnum())


def typo_bound(word: str) -> int:
    """Edits allowed for a word: 0 below 6 characters, 1 from 6, 2 from 10."""
    n = len(word)
    return 2 if n >= 10 else 1 if n >= 6 else 0


def edit_distance(a: str, b: str, bound: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours), at most ``bound + 1``.

    Stops as soon as the distance must exceed ``bound``, which keeps typo lookups cheap.
    """
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = i
        for j in range(1, len(b) + 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            row_min = min(row_min, v)
        if row_min > bound:
            return bound + 1
        prev2, prev = prev, cur
    return min(prev[-1], bound + 1)
