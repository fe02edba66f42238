"""Free-text ECG reports written from condition codes, with the entities they state as ground truth.

The style follows PTB-XL's reports (about two thirds German, lower case, statements run together
without punctuation, e.g. "sinusrhythmus lagetyp normal normales ekg") and adds what real report
collections show: synonyms and abbreviations ("SR", "LSB", "AVB I", "RBBB"), hedges ("possible",
"V.a.", "cannot exclude", "wahrscheinlich"), negated findings ("no evidence of infarction",
"kein Hinweis auf Infarkt"), three spellings of umlauts (ä, ae, PTB-XL's upper-case "Ä" in lower
case text) and character-level typos.

:func:`write_report` returns a :class:`Report` whose ``entities`` list every condition the text
mentions with its status: ``present``, ``uncertain`` (hedged) or ``negated`` (stated absent). A
negated entity is always absent from the conditions; with ``omission_rate=0`` (default) every
condition appears as present or uncertain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from cardiofm.errors import ConfigError, LabelError

PRESENT, UNCERTAIN, NEGATED = "present", "uncertain", "negated"

_P = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
# code -> language -> (full phrases, abbreviations)
PHRASES: dict[str, _P] = {
    "SR": {"en": (("sinus rhythm", "normal sinus rhythm"), ("SR", "NSR")),
           "de": (("Sinusrhythmus",), ("SR",))},
    "SBRAD": {"en": (("sinus bradycardia",), ("SB", "sinus brady")),
              "de": (("Sinusbradykardie",), ("SB", "Sinusbrady"))},
    "STACH": {"en": (("sinus tachycardia",), ("sinus tach", "STach")),
              "de": (("Sinustachykardie",), ("Sinustachy", "STach"))},
    "SARRH": {"en": (("sinus arrhythmia",), ("SA",)),
              "de": (("Sinusarrhythmie", "respiratorische Sinusarrhythmie", "Sinus Arrhythmie"), ("SA",))},
    "AFIB": {"en": (("atrial fibrillation", "atrial fibrillation with controlled ventricular response"),
                    ("AF", "AFib", "A-fib")),
             "de": (("Vorhofflimmern", "absolute Arrhythmie bei Vorhofflimmern", "Vorhofflimmern/-flattern"),
                    ("VHF", "AA bei VHF"))},
    "PAC": {"en": (("premature atrial contraction(s)", "atrial premature beats", "supraventricular extrasystoles"),
                   ("PACs", "APBs")),
            "de": (("supraventrikuläre Extrasystole(n)", "vereinzelte supraventrikuläre Extrasystolen"),
                   ("SVES", "vereinzelte SVES"))},
    "PVC": {"en": (("premature ventricular contraction(s)", "ventricular premature beats",
                    "ventricular extrasystoles"), ("PVCs", "VPBs")),
            "de": (("ventrikuläre Extrasystole(n)", "vereinzelte ventrikuläre Extrasystolen"),
                   ("VES", "monomorphe VES"))},
    "1AVB": {"en": (("first degree AV block", "1st degree atrioventricular block", "prolonged PR interval"),
                    ("1st deg AVB", "AVB I")),
             "de": (("AV-Block I. Grades", "AV-Block 1. Grades", "a-v Block I", "verlängerte PQ-Zeit"),
                    ("AVB I", "AVB I°", "AV-Block I°"))},
    "CLBBB": {"en": (("left bundle branch block", "complete left bundle branch block"), ("LBBB", "CLBBB")),
              "de": (("Linksschenkelblock", "kompletter Linksschenkelblock"), ("LSB", "kompl. LSB"))},
    "CRBBB": {"en": (("right bundle branch block", "complete right bundle branch block"), ("RBBB", "CRBBB")),
              "de": (("Rechtsschenkelblock", "kompletter Rechtsschenkelblock"), ("RSB", "kompl. RSB"))},
    "IRBBB": {"en": (("incomplete right bundle branch block",), ("IRBBB", "incomplete RBBB")),
              "de": (("unvollständiger Rechtsschenkelblock", "inkompletter Rechtsschenkelblock"),
                     ("inkompl. RSB", "iRSB"))},
    "LAFB": {"en": (("left anterior fascicular block", "left anterior hemiblock"), ("LAFB", "LAHB")),
             "de": (("linksanteriorer Hemiblock", "linksanteriorer Faszikelblock"), ("LAH", "LAHB"))},
    "LVH": {"en": (("left ventricular hypertrophy", "left ventricular hypertrophy by voltage criteria"), ("LVH",)),
            "de": (("Linkshypertrophie", "linksventrikuläre Hypertrophie", "Zeichen der Linkshypertrophie"),
                   ("LVH", "LVH-Zeichen"))},
    "IMI": {"en": (("inferior myocardial infarction", "old inferior infarct", "inferior infarct, age undetermined",
                    "Q waves in II, III, aVF consistent with old inferior myocardial infarction"),
                   ("inferior MI", "IMI", "old IMI")),
            "de": (("inferiorer Infarkt", "Hinterwandinfarkt", "QRS(T) abnorm, inferiorer Infarkt, Alter unbest.",
                    "inferiorer Infarkt, wahrscheinlich alt"), ("HWI", "inf. Infarkt", "alter HWI"))},
    "ASMI": {"en": (("anteroseptal myocardial infarction", "old anteroseptal infarct",
                     "QS complexes in V1-V3 consistent with anteroseptal infarction"), ("anteroseptal MI", "ASMI")),
             "de": (("anteroseptaler Infarkt", "QRS(T) abnorm, anteroseptaler Infarkt, Alter unbest."),
                    ("AS-Infarkt", "anteroseptaler MI"))},
    "AMI": {"en": (("anterior myocardial infarction", "old anterior infarct", "anterior infarct, age undetermined"),
                   ("anterior MI", "AMI")),
            "de": (("anteriorer Infarkt", "Vorderwandinfarkt", "QRS(T) abnorm, anteriorer Infarkt, Alter unbest."),
                   ("VWI", "VW-Infarkt"))},
    "LMI": {"en": (("lateral myocardial infarction", "high lateral infarct", "lateral infarct, age undetermined"),
                   ("lateral MI", "LMI")),
            "de": (("lateraler Infarkt", "hochlateraler Infarkt", "Seitenwandinfarkt"), ("SWI", "lat. Infarkt"))},
    "ISC_": {"en": (("ischaemic ST-T changes", "ST-T changes consistent with myocardial ischaemia",
                     "findings consistent with ischemic heart disease"), ("ischemic changes", "isch. ST-T changes")),
             "de": (("ST & T abnorm, Ischämie", "ischämische ST-Streckensenkung", "Ischämiezeichen"),
                    ("Ischämie", "isch. ST-Senkung"))},
    "STD_": {"en": (("ST segment depression", "ST segments are depressed in I, aVL, V5, V6",
                     "non-specific ST depression", "ST depression in V4-V6"), ("ST depr.", "STD V5-6")),
             "de": (("ST-Senkung", "ST-Streckensenkung in V4-V6", "deszendierende ST-Senkung in I, aVL, V5, V6",
                     "horizontale ST-Senkung lateral"), ("ST-Senk.", "ST-Senkung V5-6"))},
    "INVT": {"en": (("T wave inversion", "inverted T waves", "T waves are inverted in V4-V6"), ("TWI", "neg. T waves")),
             "de": (("T-Negativierung", "negative T-Wellen", "T negativ in V4-V6", "terminal negative T-Wellen"),
                    ("T-Neg.", "neg. T V4-6"))},
    "LNGQT": {"en": (("prolonged QT interval", "long QT interval",
                      "prolonged QT, this may be due to a drug effect or an electrolyte disturbance"),
                     ("long QT", "QTc prolonged")),
              "de": (("QT-Verlängerung", "verlängerte QT-Zeit", "QTc verlängert"), ("QTc verl.", "lange QT"))},
    "NORM": {"en": (("normal ECG", "normal electrocardiogram", "ECG within normal limits"), ("normal ECG", "WNL")),
             "de": (("normales EKG", "EKG im Normbereich", "unauffälliges EKG"), ("normales EKG", "o.B."))},
}
OTHERWISE_NORMAL = {"en": ("otherwise normal ECG", "otherwise within normal limits"),
                    "de": ("sonst normales EKG", "ansonsten unauffälliges EKG")}
# noun phrases for hedged statements; only these codes are ever hedged
HEDGE_NOUNS: dict[str, dict[str, tuple[str, ...]]] = {
    "AFIB": {"en": ("atrial fibrillation", "AF"), "de": ("Vorhofflimmern", "VHF")},
    "LAFB": {"en": ("left anterior fascicular block", "LAFB"), "de": ("linksanteriorer Hemiblock", "LAH")},
    "LVH": {"en": ("left ventricular hypertrophy", "LVH"), "de": ("Linkshypertrophie", "LVH")},
    "IMI": {"en": ("inferior infarct", "inferior myocardial infarction", "old inferior MI"),
            "de": ("inferiorer Infarkt", "Hinterwandinfarkt", "inferiorer Myokardschaden", "HWI")},
    "ASMI": {"en": ("anteroseptal infarct", "anteroseptal myocardial infarction"),
             "de": ("anteroseptaler Infarkt", "anteroseptaler Myokardschaden")},
    "AMI": {"en": ("anterior infarct", "anterior MI"), "de": ("anteriorer Infarkt", "Vorderwandinfarkt", "VWI")},
    "LMI": {"en": ("lateral infarct", "high lateral MI"), "de": ("lateraler Infarkt", "hochlateraler Infarkt")},
    "ISC_": {"en": ("myocardial ischaemia", "ischemia", "ischaemic ST-T changes"),
             "de": ("Ischämie", "Innenschichtischämie", "anterolaterale Ischämie oder Linksbelastung")},
    "LNGQT": {"en": ("QT prolongation", "long QT"), "de": ("QT-Verlängerung",)},
}
HEDGES = {"en": ("possible {}", "probable {}", "{} cannot be excluded", "cannot exclude {}", "suspected {}",
                 "consider {}"),
          "de": ("{} möglich", "V.a. {}", "Verdacht auf {}", "wahrscheinlich {}", "{} nicht auszuschließen",
                 "{} fraglich")}
# (codes stated absent, phrases per language)
NEGATIONS: tuple[tuple[tuple[str, ...], dict[str, tuple[str, ...]]], ...] = (
    (("IMI", "ASMI", "AMI", "LMI"), {"en": ("no evidence of infarction", "no signs of previous myocardial infarction"),
                                     "de": ("kein Hinweis auf Infarkt", "keine Infarktzeichen")}),
    (("IMI",), {"en": ("no evidence of inferior infarction",), "de": ("kein Hinweis auf Hinterwandinfarkt",)}),
    (("ASMI", "AMI"), {"en": ("no evidence of anterior infarction",), "de": ("kein Hinweis auf Vorderwandinfarkt",)}),
    (("ISC_",), {"en": ("no acute ischaemic changes", "no signs of ischemia"),
                 "de": ("keine Ischämiezeichen", "kein Hinweis auf Ischämie")}),
    (("ISC_", "STD_", "INVT"), {"en": ("no ST-T abnormalities", "no repolarisation abnormalities"),
                                "de": ("keine Erregungsrückbildungsstörungen", "keine ERBS")}),
    (("STD_",), {"en": ("no ST depression",), "de": ("keine ST-Senkungen",)}),
    (("AFIB",), {"en": ("no atrial fibrillation",), "de": ("kein Vorhofflimmern", "kein VHF")}),
    (("LVH",), {"en": ("no LVH", "no signs of left ventricular hypertrophy"),
                "de": ("keine Hypertrophiezeichen", "kein Hinweis auf Linkshypertrophie")}),
    (("CLBBB", "CRBBB"), {"en": ("no bundle branch block",), "de": ("kein Schenkelblock",)}),
    (("1AVB",), {"en": ("no AV block",), "de": ("kein AV-Block",)}),
    (("LNGQT",), {"en": ("no QT prolongation",), "de": ("keine QT-Verlängerung",)}),
    (("PVC", "PAC"), {"en": ("no ectopic beats",), "de": ("keine Extrasystolen",)}),
)
NEGATION_CUES = {"en": ("no ", "without"), "de": ("kein", "ohne")}
UNCERTAINTY_CUES = {"en": ("possible", "probable", "cannot", "suspected", "consider"),
                    "de": ("moeglich", "v.a.", "verdacht", "wahrscheinlich", "nicht auszuschliessen", "fraglich")}
ORDER = {"de": ("PVC", "PAC", "SR", "SBRAD", "STACH", "SARRH", "AFIB", "1AVB", "AXIS", "LAFB", "IRBBB", "CRBBB",
                "CLBBB", "LVH", "IMI", "ASMI", "AMI", "LMI", "ISC_", "STD_", "INVT", "LNGQT", "NORM"),
         "en": ("SR", "SBRAD", "STACH", "SARRH", "AFIB", "PVC", "PAC", "1AVB", "AXIS", "LAFB", "IRBBB", "CRBBB",
                "CLBBB", "LVH", "IMI", "ASMI", "AMI", "LMI", "ISC_", "STD_", "INVT", "LNGQT", "NORM")}
AXIS = {"de": (("Lagetyp normal", "Linkstyp", "Steiltyp", "Indifferenztyp"), ("überdrehter Linkstyp",)),
        "en": (("normal axis", "normal QRS axis"), ("left axis deviation",))}
SEPARATORS = {"de": ((" ", ", ", ". ", "; "), (0.45, 0.25, 0.2, 0.1)), "en": ((". ", ", ", " "), (0.7, 0.15, 0.15))}
_UMLAUT_ASCII = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
_UMLAUT_PTBXL = {"ä": "Ä", "ö": "Ö", "ü": "Ü"}


@dataclass(frozen=True)
class Report:
    """A report text, its language ("de"/"en") and the (code, status) entities it states."""

    text: str
    language: str
    entities: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ReportStyle:
    """How reports vary. Rates are probabilities per report, per hedgeable finding or per word (typos)."""

    german_share: float = 0.7  # share of reports in German when no language is forced
    abbreviation_rate: float = 0.3  # a finding written as an abbreviation
    uncertainty_rate: float = 0.2  # a hedgeable finding (HEDGE_NOUNS) written hedged
    negation_rate: float = 0.3  # the report adds a negated finding (0-2 statements)
    typo_rate: float = 0.01  # a word of >= 4 letters gets a swapped, dropped or doubled letter
    lowercase_share: float = 0.65  # the whole report lower-cased, as in PTB-XL
    omission_rate: float = 0.0  # a non-rhythm finding left unmentioned (then absent from entities)
    footer_rate: float = 0.1  # PTB-XL's machine footer ("4.46 unbestätigter Bericht") or "abnormal ECG"

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"ReportStyle.{name} = {value}: must lie in [0, 1]")


def normalise_umlauts(text: str) -> str:
    """Lower-case ``text`` and spell umlauts and ß in ASCII ("mÖglich" -> "moeglich"), for matching."""
    low = text.lower()
    return "".join(_UMLAUT_ASCII.get(ch, ch) for ch in low)


def _choice(rng: np.random.Generator, options: Sequence[str]) -> str:
    return str(options[int(rng.integers(len(options)))])


def add_typos(text: str, rate: float, rng: np.random.Generator) -> str:
    """Give each word of at least 4 letters, with probability ``rate``, one swapped, dropped or doubled letter."""
    words = text.split(" ")
    for i, w in enumerate(words):
        letters = [j for j, ch in enumerate(w) if ch.isalpha()]
        if len(letters) < 4 or rng.random() >= rate:
            continue
        op = int(rng.integers(3))
        j = letters[int(rng.integers(len(letters) - 1))]
        if op == 0 and w[j + 1] != w[j]:
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif op == 2:
            words[i] = w[:j + 1] + w[j:]
        else:
            words[i] = w[:j] + w[j + 1:]
    return " ".join(words)


def _statement(code: str, lang: str, status: str, rng: np.random.Generator, style: ReportStyle,
               sinus_variant: bool) -> str:
    if status == UNCERTAIN:
        return _choice(rng, HEDGES[lang]).format(_choice(rng, HEDGE_NOUNS[code][lang]))
    if code == "NORM" and sinus_variant and rng.random() < 0.7:
        return _choice(rng, OTHERWISE_NORMAL[lang])
    full, abbr = PHRASES[code][lang]
    return _choice(rng, abbr if abbr and rng.random() < style.abbreviation_rate else full)


def write_report(conditions: Sequence[str], rng: np.random.Generator, language: str | None = None,
                 style: ReportStyle | None = None, **style_kw: float) -> Report:
    """Write one report for a record's condition codes.

    Args:
        conditions: codes of :mod:`cardiofm.synth.conditions` (e.g. ``["SR", "CLBBB", "LVH"]``).
        rng: the only source of randomness; typos are drawn last, so changing ``typo_rate`` alone
            leaves the untyped text unchanged.
        language: "de" or "en"; ``None`` draws German with probability ``style.german_share``.
        style: a :class:`ReportStyle`; ``style_kw`` override single fields (``typo_rate=0.05``).

    Returns:
        The :class:`Report` with its text, language and ground-truth entities.
    """
    style = replace(style or ReportStyle(), **style_kw)
    unknown = [c for c in conditions if c not in PHRASES]
    if unknown:
        raise LabelError(f"write_report: no phrases for condition code(s) {unknown}; known: {', '.join(PHRASES)}")
    if language is not None and language not in ("de", "en"):
        raise ConfigError(f"write_report: language must be 'de', 'en' or None, got {language!r}")
    lang = language or ("de" if rng.random() < style.german_share else "en")
    codes = set(conditions)
    sinus_variant = bool(codes & {"SBRAD", "STACH", "SARRH"})
    parts: list[str] = []
    entities: list[tuple[str, str]] = []
    for code in ORDER[lang]:
        if code == "AXIS":
            if rng.random() < (0.55 if lang == "de" else 0.15):
                plain, lafb = AXIS[lang]
                parts.append(_choice(rng, lafb if "LAFB" in codes else plain))
            continue
        if code not in codes:
            continue
        if code not in ("NORM", "SR", "SBRAD", "STACH", "SARRH", "AFIB") and rng.random() < style.omission_rate:
            continue
        status = UNCERTAIN if code in HEDGE_NOUNS and rng.random() < style.uncertainty_rate else PRESENT
        parts.append(_statement(code, lang, status, rng, style, sinus_variant))
        entities.append((code, status))
    if rng.random() < style.negation_rate:
        negated: set[str] = set()
        for _ in range(1 if rng.random() < 0.8 else 2):
            options = [(c, p) for c, p in NEGATIONS if not (set(c) & codes) and not (set(c) & negated)]
            if not options:
                break
            neg_codes, phrases = options[int(rng.integers(len(options)))]
            pos = len(parts) - 1 if "NORM" in codes and rng.random() < 0.5 else len(parts)
            parts.insert(max(pos, 1), _choice(rng, phrases[lang]))
            negated.update(neg_codes)
            entities += [(c, NEGATED) for c in neg_codes]
    if rng.random() < style.footer_rate:
        abnormal = "NORM" not in codes
        if lang == "de":
            parts.append("pathologisches EKG" if abnormal and rng.random() < 0.4 else "4.46 unbestätigter Bericht")
        elif abnormal:
            parts.append("abnormal ECG")
    seps, probs = SEPARATORS[lang]
    sep = str(seps[int(rng.choice(len(seps), p=probs))])
    text = sep.join(parts) + ("." if sep == ". " and rng.random() < 0.8 else "")
    lower = rng.random() < style.lowercase_share
    if lower:
        text = text.lower()
    if lang == "de":
        u = rng.random()
        if u < 0.2:
            text = "".join(_UMLAUT_ASCII.get(ch, ch) for ch in text)
        elif u < 0.4 and lower:
            text = "".join(_UMLAUT_PTBXL.get(ch, ch) for ch in text)
    text = add_typos(text, style.typo_rate, rng)
    return Report(text=text, language=lang, entities=entities)


def write_reports(conditions: Sequence[Sequence[str]], rng: np.random.Generator, **kw: object) -> list[Report]:
    """:func:`write_report` for every record (``kw`` as there)."""
    return [write_report(c, rng, **kw) for c in conditions]  # type: ignore[arg-type]
