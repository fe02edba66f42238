"""Negation and uncertainty cues, scope terminators and coordinators (English and German).

A cue is ``(status, direction)``: ``"pre"`` cues act on the finding that follows them ("kein
Vorhofflimmern", "possible LVH"), ``"post"`` cues on the one before ("Infarkt ausgeschlossen",
"LVH möglich"), ``"both"`` cues on the following finding, or the preceding one when nothing follows
in the clause ("wahrscheinlich"). The longest cue wins, so "nicht auszuschließen" (uncertain) beats
"nicht" (negated). Cues are matched on normalised tokens without stemming ("moegliche" is a pre
cue, "moeglich" a post cue).
"""

from __future__ import annotations

from cardiofm.text.normalise import phrase_tokens

NEGATED, UNCERTAIN = "negated", "uncertain"

_NEG_PRE = ("kein", "keine", "keinen", "keiner", "keines", "keinem", "keinerlei", "nicht", "ohne", "weder",
            "nicht mehr", "no", "not", "nor", "without", "no evidence of", "no evidence for", "no sign of",
            "no signs of", "no definite", "no longer", "negative for", "absence of", "free of", "ruled out for")
_NEG_POST = ("ausgeschlossen", "nicht nachweisbar", "nicht nachzuweisen", "nicht mehr nachweisbar",
             "nicht vorhanden", "nicht erkennbar", "nicht sichtbar", "ruled out", "excluded", "not seen",
             "not present", "not found", "not evident", "not identified", "not observed", "absent", "resolved")
_UNC_PRE = ("possible", "possibly", "probable", "probably", "most likely", "suggestive of", "suggests",
            "suggesting", "suspicious for", "suspicious of", "suspect", "consider", "cannot exclude",
            "can not exclude", "can t exclude", "cannot rule out", "can not rule out", "may be", "may represent",
            "might be", "questionable", "equivocal", "borderline", "rule out", "r o", "query",
            "differential diagnosis", "dd", "v a", "verdacht auf", "verdacht", "verdaechtig auf",
            "verdaechtig fuer", "wahrscheinliche", "wahrscheinlicher", "wahrscheinlichen",
            "wahrscheinliches", "vermutlich", "moeglicherweise", "moegliche", "moeglicher", "moegliches",
            "moeglichen", "fragliche", "fraglicher", "fragliches", "fraglichen", "eventuell", "evtl", "a e",
            "am ehesten", "grenzwertige", "grenzwertiger", "grenzwertiges", "angedeutete", "angedeuteter",
            "angedeutetes")
_UNC_POST = ("moeglich", "nicht auszuschliessen", "nicht sicher auszuschliessen", "nicht ausgeschlossen",
             "nicht sicher ausgeschlossen", "kann nicht ausgeschlossen werden", "nicht sicher", "angedeutet",
             "cannot be excluded", "can not be excluded", "could not be excluded", "cannot be ruled out",
             "not excluded", "not ruled out", "is possible", "is likely",
             "vermutet", "fraglich")
_UNC_BOTH = ("wahrscheinlich", "likely", "unlikely", "grenzwertig", "suspected")


def _table() -> dict[tuple[str, ...], tuple[str, str]]:
    table: dict[tuple[str, ...], tuple[str, str]] = {}
    for phrases, status, direction in ((_NEG_PRE, NEGATED, "pre"), (_NEG_POST, NEGATED, "post"),
                                       (_UNC_PRE, UNCERTAIN, "pre"), (_UNC_POST, UNCERTAIN, "post"),
                                       (_UNC_BOTH, UNCERTAIN, "both")):
        for p in phrases:
            table[tuple(phrase_tokens(p))] = (status, direction)
    return table


CUES: dict[tuple[str, ...], tuple[str, str]] = _table()
MAX_CUE_TOKENS = max(len(k) for k in CUES)
# tokens that end a cue's scope (NegEx-style termination terms)
TERMINATORS = frozenset(phrase_tokens("but however aber jedoch sonst ansonsten otherwise except ausser though "
                                      "although whereas allerdings"))
# tokens that may stand between findings of one cue's scope ("kein VHF oder Vorhofflattern")
COORDINATORS = frozenset(phrase_tokens("or and nor oder und bzw sowie noch"))
# words that are correct as written: never "corrected" to a lexicon word
COMMON_WORDS = frozenset(phrase_tokens(
    "ableitung ableitungen leads lead sonst otherwise ansonsten consistent compatible with mit bei und oder der die "
    "das den dem des ein eine einer einem einen alter unbest unbestimmt bericht unbestaetigter bestaetigter "
    "interpretation confirmed unconfirmed seen present rate frequenz herzfrequenz normofrequent tachykard bradykard "
    "grades grade degree zeichen hinweis hinweise anhalt evidence signs findings befund befunde aenderung "
    "veraenderung wellen welle waves wave segment segments strecke inferioren lateralen anterioren posterioren "
    "brustwandableitungen extremitaetenableitungen praekordial precordial limb thorax ventrikel ventricle atrial "
    "atrium vorhof kammer links rechts left right akut acute frisch alt old chronisch chronic bekannt known "
    "vergleich compared comparison previous vorbefund vorheriges unveraendert unchanged deutlich marked leicht "
    "mild moderate maessig ausgepraegt diskret diskrete schwierig bestimmbare bestimmbar interval intervall zeit"))
