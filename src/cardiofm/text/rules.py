"""The rule-based extraction engine behind :func:`cardiofm.text.entities.extract_entities`.

1. Tokenise the normalised report; mark clause boundaries (``. ; : ! ? ,`` and line breaks, but
   not the dot of "V.a.", "AV-Block I." or "inkompl.").
2. Correct typos: a word the lexicon and cue tables do not know is replaced by the one known word
   within the edit bound (1 edit from 6 letters, 2 from 10; none when two words tie).
3. Find findings left to right, longest phrase first, within a clause (token stems, or the
   compound spelled together: "ST-Senkung" = "ST Senkung" = "STSenkung"); a long German compound
   that ends in a known term counts as it ("Innenschichtischämie" -> ischemia).
4. Find cues among the remaining tokens; a cue acts on the nearest finding in its direction (within
   6 tokens after, 4 before, same clause, no terminator such as "sonst"/"otherwise" between) and on
   findings chained to it by "oder"/"or"/"und"/"/". In PTB-XL's run-together statements
   ("kein vhf lvh") the cue therefore stops at the next finding. Negation beats uncertainty.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field

from cardiofm.text.cues import COMMON_WORDS, COORDINATORS, CUES, MAX_CUE_TOKENS, NEGATED, TERMINATORS, UNCERTAIN
from cardiofm.text.lexicon import Lexicon
from cardiofm.text.normalise import Token, edit_distance, stem, surface, tokenize, typo_bound

PRESENT = "present"
PRE_WINDOW, POST_WINDOW = 6, 4
_CLAUSE_CHARS = set(";:!?,\n")
_SENTENCE_DOT = re.compile(r"\.\s")
_ROMAN = {"i", "ii", "iii", "iv"}
_DOTTED = {"inkompl", "kompl", "unbest", "evtl", "bzw", "ca", "vs", "li", "re", "neg", "pos", "inf", "lat", "ant",
           "isch", "deg", "vgl", "ggf", "zn", "max", "min", "approx", "incompl", "compl", "st"}


@dataclass
class Mention:
    """A finding in the text: its codes and its first and last token."""

    codes: list[str]
    first: int
    last: int
    status: str = PRESENT


@dataclass
class _Cue:
    status: str
    direction: str
    pre_first: int  # first token a pre cue may reach
    pre_gap: int  # boundaries after tokens pre_gap.. block a pre cue
    post_last: int  # last token a post cue may reach
    post_gap: int  # boundaries after tokens ..post_gap - 1 block a post cue


@dataclass
class _Vocabulary:
    known: set[str]
    by_length: dict[int, list[str]]
    cache: dict[str, str | None] = field(default_factory=dict)


_VOCABULARIES: weakref.WeakKeyDictionary[Lexicon, _Vocabulary] = weakref.WeakKeyDictionary()


def _vocabulary(lexicon: Lexicon) -> _Vocabulary:
    vocab = _VOCABULARIES.get(lexicon)
    if vocab is None:
        words = set(lexicon.index.words) | {w for key in CUES for w in key} | TERMINATORS | COORDINATORS
        known = {stem(w) for w in words | COMMON_WORDS}
        by_length: dict[int, list[str]] = {}
        for w in sorted(words):
            if not w.isdigit():
                by_length.setdefault(len(w), []).append(w)
        vocab = _VOCABULARIES[lexicon] = _Vocabulary(known, by_length)
    return vocab


def _correct(word: str, vocab: _Vocabulary) -> str | None:
    """The one known word within the typo bound of ``word``, or None."""
    if word in vocab.cache:
        return vocab.cache[word]
    bound = typo_bound(word)
    best: list[str] = []
    best_d = bound + 1
    for n in range(len(word) - bound, len(word) + bound + 1):
        for cand in vocab.by_length.get(n, ()):
            d = edit_distance(word, cand, min(bound, best_d))
            if d < best_d:
                best, best_d = [cand], d
            elif d == best_d and d <= bound:
                best.append(cand)
    result = best[0] if best and len({stem(b) for b in best}) == 1 else None
    vocab.cache[word] = result
    return result


def _boundaries(tokens: list[Token], gaps: list[str]) -> list[bool]:
    """``out[k]``: a clause ends between token ``k`` and ``k + 1``."""
    out = []
    for k, tok in enumerate(tokens):
        gap = gaps[k + 1]
        hard = bool(_CLAUSE_CHARS.intersection(gap))
        if not hard and _SENTENCE_DOT.search(gap + (" " if k == len(tokens) - 1 else "")):
            t = tok.text
            hard = not (len(t) == 1 or t in _ROMAN or t.isdigit() or t in _DOTTED)
        out.append(hard)
    return out


def _fix_typos(tokens: list[Token], lexicon: Lexicon) -> tuple[list[Token], set[int]]:
    vocab = _vocabulary(lexicon)
    out: list[Token] = []
    fixed: set[int] = set()
    for i, tok in enumerate(tokens):
        if typo_bound(tok.text) and not any(ch.isdigit() for ch in tok.text) and tok.stem not in vocab.known:
            word = _correct(tok.text, vocab)
            if word is not None:
                tok = Token(word, stem(word), tok.start, tok.end)
                fixed.add(i)
        out.append(tok)
    return out, fixed


def _find_mentions(report: str, tokens: list[Token], hard: list[bool], fixed: set[int],
                   lexicon: Lexicon) -> list[Mention]:
    index = lexicon.index
    longest = index.max_tokens + 2
    mentions: list[Mention] = []
    i = 0
    while i < len(tokens):
        hit: set[str] = set()
        length = 0
        for n in range(min(longest, len(tokens) - i), 0, -1):
            if any(hard[i:i + n - 1]):
                continue
            span = tokens[i:i + n]
            key = tuple(t.stem for t in span)
            hit = set(index.by_tokens.get(key, ()))
            joined = "".join(t.text for t in span[:-1]) + span[-1].stem
            if not hit and len(joined) >= 6:
                hit = set(index.by_joined.get(joined, ()))
            cs = index.case_sensitive.get(key)
            if cs is not None and not fixed.intersection(range(i, i + n)) \
                    and surface(report[span[0].start:span[-1].end]) == cs[0]:
                hit |= cs[1]
            if hit:
                length = n
                break
        if not hit:
            hit, length = lexicon.suffix_match(tokens[i].stem), 1
        if hit:
            mentions.append(Mention([c for c in lexicon.terms if c in hit], i, i + length - 1))
        i += length if hit else 1
    return mentions


def _find_cues(tokens: list[Token], gaps: list[str], hard: list[bool], covered: set[int]) -> list[_Cue]:
    cues: list[_Cue] = []
    i = 0
    while i < len(tokens):
        found = 0
        for n in range(min(MAX_CUE_TOKENS, len(tokens) - i), 0, -1):
            if covered.intersection(range(i, i + n)) or any(hard[i:i + n - 1]):
                continue
            cue = CUES.get(tuple(t.text for t in tokens[i:i + n]))
            if cue is not None:
                cues.append(_Cue(cue[0], cue[1], i + n, i + n - 1, i - 1, i))
                found = n
                break
        i += found or 1
    for k, gap in enumerate(gaps):
        if "?" in gap:
            if k < len(tokens) and gap.endswith("?"):
                cues.append(_Cue(UNCERTAIN, "pre", k, k, k - 1, k - 1))
            elif k > 0:
                cues.append(_Cue(UNCERTAIN, "post", k, k, k - 1, k - 1))
    return cues


def _clear(lo: int, hi: int, hard: list[bool], stops: set[int], gap_lo: int, gap_hi: int) -> bool:
    """No terminator among tokens lo..hi-1 and no clause boundary after tokens gap_lo..gap_hi-1."""
    return not stops.intersection(range(lo, hi)) and not any(hard[gap_lo:gap_hi])


def _chained(a: Mention, b: Mention, tokens: list[Token], gaps: list[str], hard: list[bool]) -> bool:
    """``b`` follows ``a`` joined by coordinators only ("VHF oder Vorhofflattern", "LVH/RVH")."""
    between = tokens[a.last + 1:b.first]
    if any(hard[a.last:b.first]):
        return False
    if not between:
        return "/" in gaps[b.first]
    return all(t.text in COORDINATORS for t in between)


def _scope(cue: _Cue, mentions: list[Mention], tokens: list[Token], gaps: list[str], hard: list[bool],
           stops: set[int]) -> list[Mention]:
    if cue.direction in ("pre", "both"):
        after = [m for m in mentions if m.first >= cue.pre_first]
        if after:
            m = after[0]
            if m.first - cue.pre_first <= PRE_WINDOW and _clear(cue.pre_first, m.first, hard, stops,
                                                                 cue.pre_gap, m.first):
                out = [m]
                for nxt in after[1:]:
                    if not _chained(out[-1], nxt, tokens, gaps, hard):
                        break
                    out.append(nxt)
                return out
        if cue.direction == "pre":
            return []
    before = [m for m in mentions if m.last <= cue.post_last]
    if not before:
        return []
    m = before[-1]
    if cue.post_last - m.last > POST_WINDOW or not _clear(m.last + 1, cue.post_last + 1, hard, stops,
                                                          m.last, cue.post_gap):
        return []
    out = [m]
    for prev in reversed(before[:-1]):
        if not _chained(prev, out[-1], tokens, gaps, hard):
            break
        out.append(prev)
    return out


def find_entities(report: str, lexicon: Lexicon, typo_tolerance: bool = True) -> list[tuple[str, str, int, int]]:
    """``(code, status, start, end)`` of every finding in ``report``, in text order."""
    tokens, gaps = tokenize(report)
    if not tokens:
        return []
    hard = _boundaries(tokens, gaps)
    fixed: set[int] = set()
    if typo_tolerance:
        tokens, fixed = _fix_typos(tokens, lexicon)
    mentions = _find_mentions(report, tokens, hard, fixed, lexicon)
    covered = {k for m in mentions for k in range(m.first, m.last + 1)}
    stops = {k for k, t in enumerate(tokens) if t.text in TERMINATORS and k not in covered}
    for cue in _find_cues(tokens, gaps, hard, covered):
        for m in _scope(cue, mentions, tokens, gaps, hard, stops):
            if m.status != NEGATED:
                m.status = cue.status
    return [(code, m.status, tokens[m.first].start, tokens[m.last].end) for m in mentions for code in m.codes]
