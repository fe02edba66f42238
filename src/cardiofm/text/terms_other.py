"""Terms beyond the SCP statements: CinC SNOMED CT codes, heart-axis types and matching rules.

``CINC_MERGE`` sends a CinC SNOMED CT code to the term that means the same thing (its name then
becomes a synonym of that term); every other CinC code becomes a term of its own, described by
``CINC_TERMS``. ``CARDIOFM_TERMS`` adds statements that neither vocabulary has as a code: the
heart-axis types PTB-XL records in its ``heart_axis`` column (same codes) and a few summaries.
"""

from __future__ import annotations

# CinC SNOMED CT code -> code of the term it is merged into (an SCP code, or another CinC code)
CINC_MERGE: dict[str, str] = {
    "270492004": "1AVB", "164889003": "AFIB", "164890007": "AFLT", "733534002": "CLBBB", "164909002": "CLBBB",
    "713427006": "CRBBB", "59118001": "CRBBB", "713426002": "IRBBB", "445118002": "LAFB", "39732003": "LAD",
    "251146004": "LVOLT", "698252002": "IVCD", "10370003": "PACE", "284470004": "PAC", "63593006": "PAC",
    "427172004": "PVC", "17338001": "PVC", "164884008": "PVC", "164947007": "LPR", "111975006": "LNGQT",
    "164917005": "QWAVE", "47665007": "RAD", "427393009": "SARRH", "426177001": "SBRAD", "426783006": "SR",
    "427084000": "STACH", "164934002": "TAB_", "59931005": "INVT", "195042002": "2AVB", "164951009": "ABQRS",
    "54329005": "AMI", "27885002": "3AVB", "251120003": "ILBBB", "445211001": "LPFB", "164873001": "LVH",
    "55827005": "VCLVH", "164861001": "ISC_", "428750005": "NST_", "55930002": "NST_", "67198005": "PSVT",
    "253352002": "LAO/LAE", "67741000119109": "LAO/LAE", "446813000": "LAO/LAE", "253339007": "RAO/RAE",
    "446358003": "RAO/RAE", "67751000119106": "RAO/RAE", "89792004": "RVH", "429622005": "STD_",
    "164931005": "STE_", "426761007": "SVTAC", "74390002": "WPW", "195060002": "WPW", "425419005": "ISCIN",
    "425623009": "ISCLA", "426434006": "ISCAN", "426183003": "28189009",
}

# CinC-only terms: code -> (name, description, synonyms, kind). Codes missing here get their CinC name.
CINC_TERMS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "426627000": ("bradycardia", "Bradycardia: heart rate below 60 beats per minute.",
                  ("Bradykardie", "bradykarder Rhythmus"), "rhythm"),
    "6374002": ("bundle branch block", "Bundle branch block: QRS of 120 ms or more from blocked conduction in "
                "the right or left bundle branch.", ("BBB", "Schenkelblock", "Schenkelblockierung"), "other"),
    "365413008": ("poor R wave progression", "Poor R wave progression: R waves that fail to grow from V1 to V4.",
                  ("PRWP", "verzögerte R-Progression", "mangelnde R-Progression", "R-Reduktion",
                   "R-Verlust"), "other"),
    "233892002": ("accelerated atrial escape rhythm", "Accelerated atrial escape rhythm: ectopic atrial rhythm "
                  "slightly faster than the sinus rate.", (), "rhythm"),
    "61277005": ("accelerated idioventricular rhythm", "Accelerated idioventricular rhythm: wide-QRS ventricular "
                 "rhythm at 50 to 110 beats per minute.", ("AIVR", "akzelerierter idioventrikulärer Rhythmus"),
                 "rhythm"),
    "426664006": ("accelerated junctional rhythm", "Accelerated junctional rhythm: narrow-QRS junctional rhythm at "
                  "60 to 100 beats per minute without preceding P waves.", (), "rhythm"),
    "57054005": ("acute myocardial infarction", "Acute myocardial infarction: ST elevation with hyperacute T "
                 "waves and developing Q waves over the infarcted territory.",
                 ("acute MI", "STEMI", "akuter Myokardinfarkt", "akuter Infarkt", "frischer Infarkt",
                  "frischer Myokardinfarkt"), "other"),
    "413444003": ("acute myocardial ischemia", "Acute myocardial ischemia: new ST depression or T wave inversion "
                  "from acute lack of myocardial blood supply.", ("akute Ischämie", "acute ischemia"), "other"),
    "251173003": ("atrial bigeminy", "Atrial bigeminy: every sinus beat followed by an atrial premature beat.",
                  ("atrialer Bigeminus", "supraventrikulärer Bigeminus"), "rhythm"),
    "251187003": ("atrial escape beat", "Atrial escape beat: late ectopic P wave and beat after a sinus pause.",
                  (), "other"),
    "195080001": ("atrial fibrillation and flutter", "Atrial fibrillation and flutter: alternating fibrillatory "
                  "and sawtooth flutter waves without regular P waves.", (), "rhythm"),
    "195126007": ("atrial hypertrophy", "Atrial hypertrophy: enlarged P waves from enlargement of one or both "
                  "atria.", ("Vorhofhypertrophie", "Vorhofbelastung"), "other"),
    "251268003": ("atrial pacing pattern", "Atrial pacing: pacing spikes each followed by a paced P wave.",
                  ("atrial pacing", "Vorhofstimulation"), "other"),
    "106068003": ("atrial rhythm", "Atrial rhythm: ectopic atrial rhythm with abnormal P wave shape or axis.",
                  ("ektoper Vorhofrhythmus", "ectopic atrial rhythm"), "rhythm"),
    "713422000": ("atrial tachycardia", "Atrial tachycardia: regular rhythm above 100 beats per minute with "
                  "abnormal P waves from an ectopic atrial focus.", ("atriale Tachykardie",), "rhythm"),
    "50799005": ("atrioventricular dissociation", "AV dissociation: atria and ventricles beating independently, "
                 "P waves marching through the QRS complexes.", ("AV dissociation", "AV-Dissoziation"), "rhythm"),
    "29320008": ("junctional rhythm", "Junctional rhythm: regular narrow-QRS rhythm at 40 to 60 beats per minute "
                 "with absent or retrograde P waves.", ("atrioventricular junctional rhythm", "nodal rhythm",
                                                         "AV-Knotenrhythmus", "Knotenrhythmus", "junktionaler "
                                                         "Rhythmus", "Ersatzrhythmus"), "rhythm"),
    "251166008": ("atrioventricular node reentrant tachycardia", "AV nodal reentrant tachycardia: regular "
                  "narrow-QRS tachycardia with hidden or retrograde P waves.",
                  ("AVNRT", "AV-Knoten-Reentrytachykardie"), "rhythm"),
    "233897008": ("atrioventricular reentrant tachycardia", "AV reentrant tachycardia: regular narrow-QRS "
                  "tachycardia over an accessory pathway with retrograde P waves after the QRS.",
                  ("AVRT", "AV-Reentrytachykardie"), "rhythm"),
    "233917008": ("AV block", "AV block: delayed or interrupted conduction from the atria to the ventricles.",
                  ("atrioventricular block", "heart block", "AV-Block", "AV-Blockierung",
                   "atrioventrikulärer Block"), "other"),
    "251170000": ("blocked premature atrial contraction", "Blocked premature atrial contraction: early P wave "
                  "not followed by a QRS complex.", ("blocked PAC", "blockierte SVES"), "other"),
    "74615001": ("brady tachy syndrome", "Bradycardia-tachycardia syndrome: alternating slow sinus or junctional "
                 "rhythm and paroxysmal atrial tachyarrhythmias.",
                 ("tachycardia-bradycardia syndrome", "Bradykardie-Tachykardie-Syndrom"), "rhythm"),
    "418818005": ("Brugada pattern", "Brugada pattern: coved ST elevation of 2 mm or more with T inversion in V1 "
                  "and V2 and a right bundle branch block-like QRS.", ("Brugada", "Brugada syndrome",
                                                                       "Brugada-Syndrom", "Brugada-Muster"),
                  "other"),
    "698247007": ("cardiac dysrhythmia", "Cardiac arrhythmia: heart rhythm other than normal sinus rhythm.",
                  ("arrhythmia", "cardiac arrhythmia", "Herzrhythmusstörung", "Rhythmusstörung", "Arrhythmie"),
                  "rhythm"),
    "426749004": ("chronic atrial fibrillation", "Chronic atrial fibrillation: long-standing atrial fibrillation "
                  "with absent P waves and irregular RR intervals.",
                  ("permanent atrial fibrillation", "permanentes Vorhofflimmern", "chronisches Vorhofflimmern"),
                  "rhythm"),
    "413844008": ("chronic myocardial ischemia", "Chronic myocardial ischemia: persistent ST depression and T wave "
                  "changes from longstanding coronary insufficiency.", ("chronische Ischämie",), "other"),
    "78069008": ("chronic rheumatic pericarditis", "Chronic pericarditis: diffuse low voltage and ST-T changes "
                 "from pericardial inflammation.", ("Perikarditis", "pericarditis"), "other"),
    "61721007": ("clockwise or counterclockwise vectorcardiographic loop", "Vectorcardiographic loop rotation: "
                 "clockwise or counterclockwise rotation of the QRS loop.", (), "other"),
    "251198002": ("clockwise rotation", "Clockwise rotation: transition zone shifted to the left precordial leads "
                  "with late R wave progression.", ("Uhrzeigersinnrotation",), "other"),
    "204384007": ("congenital incomplete atrioventricular heart block", "Congenital incomplete AV block: inborn "
                  "partial failure of AV conduction.", (), "other"),
    "53741008": ("coronary heart disease", "Coronary heart disease: ischemic ST-T changes or infarct Q waves "
                 "from coronary artery disease.", ("coronary artery disease", "CAD", "KHK",
                                                    "koronare Herzkrankheit"), "other"),
    "251199005": ("counterclockwise rotation", "Counterclockwise rotation: early precordial transition with tall "
                  "R waves already in V1 to V2.", ("countercolockwise rotation", "Gegenuhrzeigersinnrotation"),
                  "other"),
    "77867006": ("decreased QT interval", "Short QT interval: corrected QT shorter than about 350 ms.",
                 ("short QT", "short QT interval", "QT-Verkürzung", "verkürzte QT-Zeit", "kurzes QT"), "other"),
    "82226007": ("diffuse intraventricular block", "Diffuse intraventricular block: widened QRS from slow "
                 "conduction throughout the ventricles.", (), "other"),
    "428417006": ("early repolarization", "Early repolarization: J point elevation with concave ST elevation and "
                  "notched QRS end, usually benign.", ("early repolarisation", "frühe Repolarisation",
                                                       "vorzeitige Repolarisation"), "other"),
    "251143007": ("ECG artefacts", "ECG artefacts: noise, baseline wander or electrode problems distorting the "
                  "tracing.", ("artefacts", "artifacts", "artifact", "Artefakte", "Artefakt", "Störsignale"),
                  "other"),
    "423863005": ("electrical alternans", "Electrical alternans: beat-to-beat alternation of QRS amplitude.",
                  ("elektrischer Alternans",), "other"),
    "164942001": ("fragmented QRS", "Fragmented QRS: extra notches in the R or S wave of a narrow QRS complex.",
                  ("fQRS", "fqrs wave", "fragmentierter QRS-Komplex"), "other"),
    "13640000": ("fusion beats", "Fusion beat: QRS complex intermediate between a normal and a ventricular "
                 "ectopic or paced beat.", ("fusion beat", "Fusionsschläge"), "other"),
    "84114007": ("heart failure", "Heart failure: clinical syndrome of impaired cardiac pump function.",
                 ("Herzinsuffizienz",), "other"),
    "368009": ("heart valve disorder", "Heart valve disorder: disease of a cardiac valve.",
               ("valvular heart disease", "Herzklappenerkrankung", "Vitium"), "other"),
    "251259000": ("high T-voltage", "High T wave voltage: tall T waves of large amplitude.",
                  ("tall T waves", "peaked T waves", "hohe T-Wellen", "überhöhte T-Wellen", "zeltförmige T-Wellen"),
                  "other"),
    "49260003": ("idioventricular rhythm", "Idioventricular rhythm: slow wide-QRS ventricular escape rhythm below "
                 "50 beats per minute.", ("idioventrikulärer Rhythmus",), "rhythm"),
    "251200008": ("indeterminate cardiac axis", "Indeterminate axis: QRS axis that cannot be determined from "
                  "equiphasic limb leads.", ("indeterminate axis", "unbestimmbare Herzachse",
                                             "nicht bestimmbarer Lagetyp", "unbestimmbarer Lagetyp",
                                             "schwierig bestimmbare QRS-Achse"), "other"),
    "704997005": ("inferior ST segment depression", "Inferior ST depression: ST segment depression in leads II, "
                  "III and aVF.", ("inferiore ST-Senkung",), "other"),
    "426995002": ("junctional escape", "Junctional escape beat: late narrow QRS without a preceding P wave after "
                  "a pause.", ("junctional escape beat", "AV-Knoten-Ersatzschlag"), "other"),
    "251164006": ("junctional premature complex", "Junctional premature complex: early narrow QRS with absent or "
                  "retrograde P wave.", ("junctional extrasystole", "AV-Knoten-Extrasystole"), "other"),
    "426648003": ("junctional tachycardia", "Junctional tachycardia: narrow-QRS rhythm from the AV junction above "
                  "100 beats per minute.", ("junktionale Tachykardie",), "rhythm"),
    "370365005": ("left ventricular strain", "Left ventricular strain: downsloping ST depression with asymmetric T "
                  "inversion in left precordial leads from pressure overload.",
                  ("LV strain", "strain pattern", "Linksbelastung", "Linksherzbelastung",
                   "linksventrikuläre Schädigung"), "other"),
    "251147008": ("low QRS voltages in the limb leads", "Low limb-lead voltage: QRS amplitude below 5 mm in all "
                  "limb leads.", ("peripheral low voltage", "periphere Niedervoltage", "periphere Niederspannung",
                                  "Niedervoltage in den Extremitätenableitungen"), "other"),
    "251148003": ("low QRS voltages in the precordial leads", "Low precordial voltage: QRS amplitude below 10 mm "
                  "in all precordial leads.", ("präkordiale Niedervoltage", "Niedervoltage in den "
                                               "Brustwandableitungen"), "other"),
    "28189009": ("Mobitz type II second degree AV block", "Mobitz II AV block: constant PR interval with "
                 "sudden non-conducted P waves.", ("Mobitz II", "Mobitz type II", "mobitz type 2 second degree "
                                                   "atrioventricular block", "AV-Block II° Typ Mobitz",
                                                   "Mobitz-Block"), "other"),
    "54016002": ("Wenckebach AV block", "Mobitz I (Wenckebach) AV block: progressive PR prolongation until a P "
                 "wave is not conducted.", ("Mobitz I", "Mobitz type I", "Wenckebach", "Wenckebach block",
                                            "Wenckebach-Periodik", "AV-Block II° Typ Wenckebach",
                                            "mobitz type i wenckebach atrioventricular block"), "other"),
    "713423005": ("multifocal atrial tachycardia", "Multifocal atrial tachycardia: irregular rhythm above 100 "
                  "beats per minute with three or more P wave shapes.", ("MAT", "multifokale atriale Tachykardie"),
                  "rhythm"),
    "164865005": ("myocardial infarction", "Myocardial infarction: pathological Q waves and ST-T changes in the "
                  "leads over the infarcted wall.", ("MI", "infarction", "infarct", "heart attack", "Infarkt",
                                                     "Myokardinfarkt", "Herzinfarkt", "Infarktzeichen",
                                                     "Infarktnarbe", "Myokardschaden"), "other"),
    "164867002": ("old myocardial infarction", "Old myocardial infarction: persistent pathological Q waves without "
                  "acute ST elevation.", ("old MI", "old infarct", "prior infarct", "previous infarction",
                                          "alter Infarkt", "abgelaufener Infarkt", "Infarktnarbe alt",
                                          "alter Myokardinfarkt", "Z.n. Infarkt"), "other"),
    "164912004": ("P wave change", "P wave change: abnormal P wave shape, duration or axis.",
                  ("P wave abnormality", "P-Wellen-Veränderung", "P-Veränderung"), "other"),
    "251182009": ("paired ventricular premature complexes", "Ventricular couplet: two consecutive ventricular "
                  "premature beats.", ("couplet", "couplets", "ventricular couplet", "Couplet", "Couplets"), "other"),
    "282825002": ("paroxysmal atrial fibrillation", "Paroxysmal atrial fibrillation: self-terminating episodes of "
                  "irregular rhythm without P waves.", ("PAF", "paroxysmales Vorhofflimmern"), "rhythm"),
    "425856008": ("paroxysmal ventricular tachycardia", "Paroxysmal ventricular tachycardia: sudden runs of wide-"
                  "QRS ventricular tachycardia.", ("paroxysmale ventrikuläre Tachykardie",), "rhythm"),
    "164903001": ("2:1 AV block", "2:1 AV block: every second P wave not conducted to the ventricles.",
                  ("partial atrioventricular block 2:1", "2:1 AV-Block", "AV-Block 2:1"), "other"),
    "251205003": ("prolonged P wave", "Prolonged P wave: P wave longer than 120 ms.", ("verbreiterte P-Welle",),
                  "other"),
    "164921003": ("R wave abnormal", "R wave abnormality: R wave of abnormal amplitude or progression.", (), "other"),
    "314208002": ("rapid atrial fibrillation", "Rapid atrial fibrillation: atrial fibrillation with a fast "
                  "ventricular response above 100 beats per minute.",
                  ("atrial fibrillation with rapid ventricular response", "AF with RVR", "Tachyarrhythmia absoluta",
                   "Tachyarrhythmie", "tachykardes Vorhofflimmern"), "rhythm"),
    "49578007": ("shortened PR interval", "Short PR interval: PR interval shorter than 120 ms.",
                 ("short PR", "short PR interval", "verkürzte PQ-Zeit", "PQ-Verkürzung", "kurze PQ-Zeit"), "other"),
    "65778007": ("sinoatrial block", "Sinoatrial block: pauses that are multiples of the sinus cycle from "
                 "blocked sinus impulses.", ("SA block", "SA-Block", "sinuatrialer Block", "SA-Blockierung"),
                 "rhythm"),
    "5609005": ("sinus arrest", "Sinus arrest: pause without P waves not a multiple of the sinus cycle.",
                ("sinus pause", "Sinusarrest", "Sinusknotenstillstand", "Sinuspause"), "rhythm"),
    "17366009": ("wandering atrial pacemaker from the sinus node", "Sinus-to-atrial wandering rhythm: P wave shape "
                 "changing gradually between sinus and atrial origin.",
                 ("sinus atrium to atrial wandering rhythm",), "rhythm"),
    "60423000": ("sinus node dysfunction", "Sinus node dysfunction: inappropriate sinus bradycardia, pauses or "
                 "sinoatrial block.", ("sick sinus syndrome", "SSS", "Sinusknotensyndrom", "Sinusknotendysfunktion",
                                       "Sick-Sinus-Syndrom"), "rhythm"),
    "164930006": ("ST interval abnormal", "ST segment abnormality: abnormal level or shape of the ST segment.",
                  ("ST abnormality", "ST segment abnormality"), "other"),
    "251168009": ("supraventricular bigeminy", "Supraventricular bigeminy: every sinus beat followed by a "
                  "supraventricular premature beat.", (), "rhythm"),
    "251139008": ("suspect arm ECG leads reversed", "Arm lead reversal: negative P, QRS and T in lead I with "
                  "swapped II and III from reversed arm electrodes.",
                  ("lead reversal", "arm lead reversal", "Elektrodenvertauschung", "Extremitätenvertauschung",
                   "Verpolung"), "other"),
    "251223006": ("tall P wave", "Tall P wave: P wave amplitude above 2.5 mm.", ("hohe P-Welle",), "other"),
    "251242005": ("tall U wave", "Tall U wave: prominent U wave after the T wave, often from hypokalemia.",
                  ("prominent U waves", "prominente U-Wellen", "hohe U-Welle"), "other"),
    "266257000": ("transient ischemic attack", "Transient ischemic attack: brief neurological deficit from "
                  "cerebral ischemia.", ("TIA",), "other"),
    "164937009": ("U wave abnormal", "U wave abnormality: U waves of abnormal size or polarity.",
                  ("U wave", "U waves", "U-Welle", "U-Wellen"), "other"),
    "11157007": ("ventricular bigeminy", "Ventricular bigeminy: every sinus beat followed by a ventricular "
                 "premature beat.", ("ventrikulärer Bigeminus", "Kammerbigeminus"), "rhythm"),
    "75532003": ("ventricular escape beat", "Ventricular escape beat: late wide QRS after a pause, without a "
                 "preceding P wave.", ("ventrikulärer Ersatzschlag",), "other"),
    "81898007": ("ventricular escape rhythm", "Ventricular escape rhythm: slow regular wide-QRS rhythm below 40 "
                 "beats per minute.", ("Kammerersatzrhythmus", "ventrikulärer Ersatzrhythmus"), "rhythm"),
    "164896001": ("ventricular fibrillation", "Ventricular fibrillation: chaotic irregular deflections without "
                  "identifiable QRS complexes.", ("VF", "Kammerflimmern"), "rhythm"),
    "111288001": ("ventricular flutter", "Ventricular flutter: very fast regular sine-wave-like ventricular "
                  "oscillations of about 250 to 350 per minute.", ("Kammerflattern",), "rhythm"),
    "266249003": ("ventricular hypertrophy", "Ventricular hypertrophy: increased QRS voltages from a thickened "
                  "ventricular wall.", ("hypertrophy", "Hypertrophie", "Hypertrophiezeichen",
                                        "Kammerhypertrophie"), "other"),
    "251266004": ("ventricular pacing pattern", "Ventricular pacing: pacing spikes each followed by a wide paced "
                  "QRS complex.", ("ventricular pacing", "ventrikuläre Stimulation", "Kammerstimulation"), "other"),
    "164895002": ("ventricular tachycardia", "Ventricular tachycardia: three or more consecutive wide-QRS "
                  "ventricular beats above 100 per minute.", ("VT", "VTach", "ventrikuläre Tachykardie",
                                                              "Kammertachykardie"), "rhythm"),
    "251180001": ("ventricular trigeminy", "Ventricular trigeminy: every third beat a ventricular premature beat.",
                  ("ventrikulärer Trigeminus",), "rhythm"),
    "195101003": ("wandering atrial pacemaker", "Wandering atrial pacemaker: at least three P wave shapes at a "
                  "rate below 100 beats per minute.", ("wandernder Schrittmacher", "WAP"), "rhythm"),
}

# cardiofm codes (PTB-XL heart_axis codes for the axis types): code -> (name, description, synonyms, kind)
CARDIOFM_TERMS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "MID": ("normal axis", "Normal heart axis: frontal QRS axis between -30 and +90 degrees.",
            ("normal QRS axis", "normal heart axis", "normal electrical axis", "Normaltyp", "Lagetyp normal",
             "normaler Lagetyp", "Indifferenztyp", "Mitteltyp", "normale Herzachse"), "other"),
    "LAD": ("left axis deviation", "Left axis: frontal QRS axis turned to the left, positive in I and "
            "negative in II, III and aVF.", ("left axis", "LAD", "Linkstyp", "Linkslagetyp", "Linksachse",
                                             "Linkslage"), "other"),
    "ALAD": ("marked left axis deviation", "Marked left axis deviation: frontal QRS axis beyond -30 degrees, deep "
             "S waves in II, III and aVF.", ("abnormal left axis deviation", "extreme left axis deviation",
                                              "überdrehter Linkstyp", "überdrehte Linkslage"), "other"),
    "RAD": ("right axis deviation", "Right axis: frontal QRS axis beyond +90 degrees, negative in I and positive "
            "in III and aVF.", ("right axis", "RAD", "Rechtstyp", "Rechtslagetyp", "Rechtslage"), "other"),
    "ARAD": ("marked right axis deviation", "Marked right axis deviation: frontal QRS axis beyond +120 degrees.",
             ("extreme right axis deviation", "überdrehter Rechtstyp", "überdrehte Rechtslage"), "other"),
    "VERT": ("vertical axis", "Vertical heart axis: frontal QRS axis between +60 and +90 degrees.",
             ("vertical heart position", "Steiltyp", "Steillagetyp", "Steillage"), "other"),
    "SAG": ("sagittal axis", "Sagittal axis: S waves in I, II and III with the QRS vector pointing backwards.",
            ("Sagittaltyp", "S1S2S3-Typ", "SI-SII-SIII-Typ"), "other"),
    "ABNECG": ("abnormal ECG", "Abnormal ECG: tracing with at least one finding outside normal limits.",
               ("abnormal electrocardiogram", "pathologisches EKG", "abnormales EKG", "auffälliges EKG",
                "pathologischer Befund"), "other"),
    "BIFAS": ("bifascicular block", "Bifascicular block: right bundle branch block together with left anterior or "
              "posterior fascicular block.", ("bifaszikulärer Block", "bifaszikuläre Blockierung"), "other"),
}

# phrases matched only where the report writes them in exactly this case (they are words or other
# abbreviations in lower case: "as", "lad", "pm", "std" for Stunden ...)
CASE_SENSITIVE: frozenset[str] = frozenset({"SA", "AA", "LAD", "RAD", "PM", "CAD", "SSS", "MAT", "WAP"})
# findings of a normal ECG, and statements that alone make a report neither normal nor abnormal
NORMAL_CODES: frozenset[str] = frozenset({"NORM", "SR", "MID"})
NEUTRAL_CODES: frozenset[str] = frozenset({"SBRAD", "STACH", "SARRH", "LAD", "RAD", "VERT", "251200008"})
