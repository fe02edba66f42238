"""Hand-written descriptions and clinical synonyms of PTB-XL's 71 SCP-ECG statements.

Descriptions follow SuPreME's simplified CKEPE queries: one sentence, the condition's name, a colon
and the ECG features that identify it. Synonyms are English and German clinical wording and
abbreviations (written from clinical usage and the SCP-ECG descriptions, independently of the
synthetic report writer, whose output is used to *measure* extraction). Spelling of umlauts does
not matter here: phrases are normalised (ä = ae) before matching.
"""

from __future__ import annotations

SCP_DESCRIPTIONS: dict[str, str] = {
    "NDT": "Non-diagnostic T abnormalities: minor flattening or shape changes of the T wave that point to "
           "no specific diagnosis.",
    "NST_": "Non-specific ST changes: slight ST segment deviation or shape change without a pattern of "
            "ischemia or injury.",
    "DIG": "Digitalis effect: sagging, scooped ST depression with a short QT interval and flattened T waves "
           "under digoxin therapy.",
    "LNGQT": "Long QT interval: heart-rate-corrected QT above about 450 ms in men and 460 ms in women, from "
             "delayed ventricular repolarization.",
    "NORM": "Normal ECG: sinus rhythm with normal rate, intervals, axis, QRS complexes and ST-T segments.",
    "IMI": "Inferior myocardial infarction: pathological Q waves with ST-T changes in leads II, III and aVF.",
    "ASMI": "Anteroseptal myocardial infarction: Q waves or QS complexes with loss of R waves in leads V1 to V3.",
    "LVH": "Left ventricular hypertrophy: increased QRS voltage over the left ventricle, often with "
           "strain-type ST depression and T inversion in lateral leads.",
    "LAFB": "Left anterior fascicular block: left axis deviation beyond -45 degrees with qR in I and aVL "
            "and rS in II, III and aVF, QRS barely widened.",
    "ISC_": "Ischemic ST-T changes: horizontal or downsloping ST depression and T wave inversion indicating "
            "myocardial ischemia.",
    "IRBBB": "Incomplete right bundle branch block: rSR' pattern in V1 and V2 with a QRS duration of 100 "
             "to 120 ms.",
    "1AVB": "First degree AV block: PR interval longer than 200 ms with every P wave conducted to the "
            "ventricles.",
    "IVCD": "Non-specific intraventricular conduction disturbance: QRS wider than 110 ms without a typical "
            "right or left bundle branch block pattern.",
    "ISCAL": "Anterolateral ischemia: ischemic ST depression or T wave inversion in leads V3 to V6, I and aVL.",
    "CRBBB": "Complete right bundle branch block: QRS of 120 ms or more with rsR' in V1 and a broad slurred "
             "S wave in I and V6.",
    "CLBBB": "Complete left bundle branch block: QRS of 120 ms or more with broad notched R waves in I, aVL, "
             "V5 and V6 and no septal q waves.",
    "ILMI": "Inferolateral myocardial infarction: pathological Q waves and ST-T changes in II, III, aVF and "
            "in V5 and V6.",
    "LAO/LAE": "Left atrial enlargement: broad notched P wave longer than 120 ms in lead II (P mitrale) with "
               "a deep negative terminal P in V1.",
    "AMI": "Anterior myocardial infarction: pathological Q waves and poor R wave progression with ST-T "
           "changes in leads V2 to V4.",
    "ALMI": "Anterolateral myocardial infarction: Q waves and ST-T changes in anterior and lateral leads "
            "V3 to V6, I and aVL.",
    "ISCIN": "Inferior ischemia: ST depression or T wave inversion in leads II, III and aVF.",
    "INJAS": "Anteroseptal subendocardial injury: ST segment depression in leads V1 to V3 from "
             "subendocardial injury.",
    "LMI": "Lateral myocardial infarction: pathological Q waves with ST-T changes in leads I, aVL, V5 and V6.",
    "ISCIL": "Inferolateral ischemia: ST depression or T wave inversion in II, III, aVF and in V5 and V6.",
    "LPFB": "Left posterior fascicular block: right axis deviation with rS in I and aVL and qR in II, III "
            "and aVF, without right ventricular hypertrophy.",
    "ISCAS": "Anteroseptal ischemia: ST depression or T wave inversion in leads V1 to V3.",
    "INJAL": "Anterolateral subendocardial injury: ST segment depression in V3 to V6, I and aVL from "
             "subendocardial injury.",
    "ISCLA": "Lateral ischemia: ST depression or T wave inversion in leads I, aVL, V5 and V6.",
    "RVH": "Right ventricular hypertrophy: right axis deviation with a dominant R wave in V1 and deep S "
           "waves in V5 and V6.",
    "ANEUR": "Ventricular aneurysm: persistent ST elevation with deep Q waves weeks after a myocardial "
             "infarction.",
    "RAO/RAE": "Right atrial enlargement: tall peaked P waves above 2.5 mm in the inferior leads (P pulmonale).",
    "EL": "Electrolyte disturbance or drug effect: ST-T and QT changes such as U waves or flat or peaked T "
          "waves from electrolyte imbalance or medication.",
    "WPW": "Wolff-Parkinson-White syndrome: short PR interval, a slurred delta wave at QRS onset and a "
           "widened QRS from ventricular pre-excitation.",
    "ILBBB": "Incomplete left bundle branch block: left bundle branch block pattern with a QRS of 110 to "
             "119 ms and absent septal q waves.",
    "IPLMI": "Inferoposterolateral myocardial infarction: Q waves in inferior and lateral leads with tall R "
             "waves and ST depression in V1 to V3.",
    "ISCAN": "Anterior ischemia: ST depression or T wave inversion in leads V2 to V4.",
    "IPMI": "Inferoposterior myocardial infarction: Q waves in II, III and aVF with tall R waves and ST "
            "depression in V1 to V3.",
    "SEHYP": "Septal hypertrophy: deep narrow septal Q waves and tall right precordial R waves from a "
             "thickened interventricular septum.",
    "INJIN": "Inferior subendocardial injury: ST segment depression in leads II, III and aVF from "
             "subendocardial injury.",
    "INJLA": "Lateral subendocardial injury: ST segment depression in leads I, aVL, V5 and V6 from "
             "subendocardial injury.",
    "PMI": "Posterior myocardial infarction: tall broad R waves with ST depression and upright T waves in "
           "V1 to V3, the mirror image of posterior Q waves.",
    "3AVB": "Third degree AV block: complete AV dissociation, with P waves and a slow escape rhythm beating "
            "independently.",
    "INJIL": "Inferolateral subendocardial injury: ST segment depression in inferior and lateral leads from "
             "subendocardial injury.",
    "2AVB": "Second degree AV block: some P waves not conducted, after progressive PR prolongation (Mobitz "
            "I) or suddenly (Mobitz II).",
    "ABQRS": "Abnormal QRS: QRS complex of abnormal shape, duration or amplitude without a more specific "
             "diagnosis.",
    "PVC": "Ventricular premature complex: early wide bizarre QRS without a preceding P wave, usually "
           "followed by a compensatory pause.",
    "STD_": "Non-specific ST depression: ST segment below the baseline without a specific ischemic pattern.",
    "VCLVH": "Voltage criteria for left ventricular hypertrophy: QRS amplitudes above LVH limits, such as a "
             "Sokolow-Lyon index over 35 mm, without other signs.",
    "QWAVE": "Q waves present: pathological Q waves wider than 40 ms or deeper than a quarter of the "
             "following R wave.",
    "LOWT": "Low amplitude T waves: flattened T waves that are small relative to the QRS complex.",
    "NT_": "Non-specific T wave changes: T wave flattening or minor inversion without a specific "
           "diagnostic pattern.",
    "PAC": "Atrial premature complex: early beat with an abnormal P wave and a narrow QRS, followed by a "
           "non-compensatory pause.",
    "LPR": "Prolonged PR interval: PR interval longer than 200 ms.",
    "INVT": "Inverted T waves: negative T waves in leads where the T wave is normally upright.",
    "LVOLT": "Low QRS voltage: QRS amplitude below 5 mm in the limb leads and below 10 mm in the "
             "precordial leads.",
    "HVOLT": "High QRS voltage: QRS amplitudes above the normal limits.",
    "TAB_": "T wave abnormality: T waves of abnormal shape, amplitude or polarity.",
    "STE_": "Non-specific ST elevation: ST segment above the baseline without the pattern of acute "
            "infarction.",
    "PRC(S)": "Premature complexes: early ectopic beats of atrial or ventricular origin interrupting the "
              "underlying rhythm.",
    "SR": "Sinus rhythm: regular rhythm at 60 to 100 beats per minute with an upright P wave before every "
          "QRS in leads I and II.",
    "AFIB": "Atrial fibrillation: irregularly irregular ventricular rhythm with no P waves and a chaotic "
            "fibrillatory baseline.",
    "STACH": "Sinus tachycardia: sinus rhythm faster than 100 beats per minute with normal P waves.",
    "SARRH": "Sinus arrhythmia: sinus rhythm with normal P waves and RR intervals varying from beat to "
             "beat, usually with breathing.",
    "SBRAD": "Sinus bradycardia: sinus rhythm slower than 60 beats per minute with normal P waves.",
    "PACE": "Artificial pacemaker: pacing spikes followed by paced P waves or wide paced QRS complexes, "
            "with normal pacemaker function.",
    "SVARR": "Supraventricular arrhythmia: irregular narrow-QRS rhythm of atrial or junctional origin.",
    "BIGU": "Bigeminy: every normal beat followed by a premature beat, of supraventricular or ventricular "
            "origin.",
    "AFLT": "Atrial flutter: regular sawtooth flutter waves at about 300 per minute, often with 2:1 or 4:1 "
            "AV conduction.",
    "SVTAC": "Supraventricular tachycardia: fast regular narrow-QRS rhythm above 100 beats per minute "
             "arising above the ventricles.",
    "PSVT": "Paroxysmal supraventricular tachycardia: regular narrow-QRS tachycardia of 150 to 250 beats "
            "per minute that starts and stops suddenly.",
    "TRIGU": "Trigeminy: every third beat is premature, of supraventricular or ventricular origin.",
}

# code -> extra phrases (English, German, abbreviations); the SCP name itself is always a phrase.
SCP_SYNONYMS: dict[str, tuple[str, ...]] = {
    "NDT": ("non-diagnostic T wave abnormalities", "nichtdiagnostische T-Veränderungen",
            "nicht-diagnostische T-Wellen-Veränderungen"),
    "NST_": ("nonspecific ST changes", "non-specific ST-T changes", "nonspecific ST-T changes", "ST-T changes",
             "ST changes", "ST-T abnormality", "nonspecific ST-T abnormality", "unspezifische ST-Veränderungen",
             "unspezifische ST-T-Veränderungen", "ST-Veränderungen", "ST-T-Veränderungen",
             "ST-Streckenveränderungen", "Erregungsrückbildungsstörung", "Erregungsrückbildungsstörungen",
             "ERBS", "Repolarisationsstörung", "Repolarisationsstörungen", "repolarization abnormality",
             "repolarisation abnormality", "repolarization disturbance"),
    "DIG": ("digitalis effect", "digoxin effect", "suggests digitalis effect", "Digitaliswirkung",
            "Digitaliseffekt", "Digitalis-Effekt", "digitalistypische ST-Senkung", "muldenförmige ST-Senkung"),
    "LNGQT": ("long QT", "prolonged QT", "prolonged QT interval", "QT prolongation", "prolonged QTc",
              "QTc prolongation", "LQT", "QT-Verlängerung", "QTc-Verlängerung", "verlängertes QT-Intervall",
              "verlängerte QT-Zeit", "verlängerte QT-Dauer", "QT verlängert", "QTc verlängert", "langes QT"),
    "NORM": ("normal electrocardiogram", "normal tracing", "within normal limits", "ECG within normal limits",
             "WNL", "normales EKG", "normales Elektrokardiogramm", "Normalbefund", "EKG-Normalbefund",
             "unauffälliges EKG", "EKG im Normbereich", "EKG ohne pathologischen Befund"),
    "IMI": ("inferior infarction", "inferior infarct", "inferior MI", "inferior wall MI",
            "inferior wall myocardial infarction", "inferior wall infarction", "IMI", "diaphragmatic infarction",
            "inferiorer Infarkt", "inferiorer Myokardinfarkt", "inferiorer Myokardschaden", "Hinterwandinfarkt",
            "Hinterwand-Infarkt", "Hinterwandnarbe", "HWI", "Infarkt der Hinterwand"),
    "ASMI": ("anteroseptal infarction", "anteroseptal infarct", "anteroseptal MI", "ASMI", "septal infarct",
             "anteroseptaler Infarkt", "anteroseptaler Myokardinfarkt", "anteroseptaler Myokardschaden",
             "Anteroseptalinfarkt", "Septuminfarkt", "Vorderwandspitzeninfarkt"),
    "LVH": ("LVH", "LV hypertrophy", "left ventricular enlargement", "linksventrikuläre Hypertrophie",
            "Linkshypertrophie", "Linksherzhypertrophie", "linksventrikuläre Hypertrophiezeichen",
            "Hypertrophie des linken Ventrikels", "Zeichen der Linksherzhypertrophie"),
    "LAFB": ("left anterior hemiblock", "left anterior fascicular block", "LAFB", "LAHB", "LAH",
             "linksanteriorer Hemiblock", "linksanteriorer Faszikelblock", "linksanteriorer Block"),
    "ISC_": ("ischemic ST-T changes", "ischaemic ST-T changes", "ischemic changes", "ischaemic changes",
             "ischemic ST depression", "ischaemic ST depression", "myocardial ischemia", "myocardial ischaemia",
             "ischemia", "ischaemia", "subendocardial ischemia", "Ischämie", "Ischämiezeichen",
             "Myokardischämie", "ischämische Veränderungen", "ischämische ST-Veränderungen",
             "ischämische ST-T-Veränderungen", "ischämische ST-Senkung", "ischämietypische ST-Senkung",
             "Innenschichtischämie", "subendokardiale Ischämie", "Koronarinsuffizienz"),
    "IRBBB": ("incomplete RBBB", "IRBBB", "partial right bundle branch block", "incomplete right bundle block",
              "inkompletter Rechtsschenkelblock", "unvollständiger Rechtsschenkelblock", "inkompletter RSB",
              "unvollständiger RSB", "IRSB"),
    "1AVB": ("first degree AV block", "first-degree AV block", "1st degree AV block", "1st degree AVB",
             "first degree atrioventricular block", "first degree heart block", "AV block I", "AV block 1",
             "AVB I", "1AVB", "1° AV block", "AV-Block I°", "AV-Block I. Grades", "AV-Block 1. Grades",
             "AV-Block ersten Grades", "AV-Blockierung I. Grades", "AV-Block Grad I", "AV-Block Grad 1",
             "I° AV-Block", "AVB I°"),
    "IVCD": ("intraventricular conduction delay", "intraventricular conduction disturbance", "IVCD",
             "nonspecific intraventricular conduction delay", "non-specific intraventricular block",
             "intraventrikuläre Leitungsverzögerung", "intraventrikuläre Leitungsstörung",
             "intraventrikuläre Erregungsausbreitungsstörung", "unspezifische intraventrikuläre Leitungsstörung",
             "unspezifische intraventrikuläre Erregungsausbreitungsstörung"),
    "ISCAL": ("anterolateral ischemia", "anterolateral ischaemia", "ischemic changes in anterolateral leads",
              "anterolaterale Ischämie", "Ischämie anterolateral", "anterolaterale Innenschichtischämie"),
    "CRBBB": ("right bundle branch block", "RBBB", "CRBBB", "complete RBBB", "Rechtsschenkelblock",
              "kompletter Rechtsschenkelblock", "vollständiger Rechtsschenkelblock", "RSB", "kompletter RSB",
              "vollständiger RSB", "CRSB"),
    "CLBBB": ("left bundle branch block", "LBBB", "CLBBB", "complete LBBB", "Linksschenkelblock",
              "kompletter Linksschenkelblock", "vollständiger Linksschenkelblock", "LSB", "kompletter LSB",
              "vollständiger LSB", "CLSB"),
    "ILMI": ("inferolateral infarction", "inferolateral infarct", "inferolateral MI", "inferolateraler Infarkt",
             "inferolateraler Myokardinfarkt", "inferolateraler Myokardschaden", "Hinterseitenwandinfarkt"),
    "LAO/LAE": ("left atrial enlargement", "left atrial overload", "left atrial abnormality", "LAE",
                "P mitrale", "P sinistroatriale", "linksatriale Vergrößerung", "linksatriale Belastung",
                "linksatriale Hypertrophie", "Linksherzvorhofbelastung", "Vergrößerung des linken Vorhofs"),
    "AMI": ("anterior infarction", "anterior infarct", "anterior MI", "anterior wall MI",
            "anterior wall myocardial infarction", "AMI", "anteriorer Infarkt", "anteriorer Myokardinfarkt",
            "anteriorer Myokardschaden", "Vorderwandinfarkt", "Vorderwand-Infarkt", "Vorderwandnarbe", "VWI",
            "Infarkt der Vorderwand"),
    "ALMI": ("anterolateral infarction", "anterolateral infarct", "anterolateral MI", "anterolateraler Infarkt",
             "anterolateraler Myokardinfarkt", "anterolateraler Myokardschaden", "Vorderseitenwandinfarkt"),
    "ISCIN": ("inferior ischemia", "inferior ischaemia", "ischemic changes in inferior leads", "inferiore Ischämie",
              "Ischämie inferior", "inferiore Innenschichtischämie"),
    "INJAS": ("anteroseptal subendocardial injury", "anteroseptal injury",
              "anteroseptale Innenschichtschädigung", "subendokardiale Schädigung anteroseptal"),
    "LMI": ("lateral infarction", "lateral infarct", "lateral MI", "high lateral MI", "high lateral infarct",
            "lateral wall MI", "LMI", "lateraler Infarkt", "lateraler Myokardinfarkt", "lateraler Myokardschaden",
            "hochlateraler Infarkt", "Seitenwandinfarkt", "Lateralinfarkt"),
    "ISCIL": ("inferolateral ischemia", "inferolateral ischaemia", "inferolaterale Ischämie"),
    "LPFB": ("left posterior hemiblock", "LPFB", "LPHB", "LPH", "linksposteriorer Hemiblock",
             "linksposteriorer Faszikelblock"),
    "ISCAS": ("anteroseptal ischemia", "anteroseptal ischaemia", "anteroseptale Ischämie"),
    "INJAL": ("anterolateral subendocardial injury", "anterolateral injury", "anterolaterale Innenschichtschädigung"),
    "ISCLA": ("lateral ischemia", "lateral ischaemia", "laterale Ischämie", "Ischämie lateral"),
    "RVH": ("RVH", "RV hypertrophy", "right ventricular enlargement", "rechtsventrikuläre Hypertrophie",
            "Rechtshypertrophie", "Rechtsherzhypertrophie", "rechtsventrikuläre Hypertrophiezeichen"),
    "ANEUR": ("ventricular aneurysm", "left ventricular aneurysm", "aneurysm", "Aneurysma", "Ventrikelaneurysma",
              "Herzwandaneurysma", "Aneurysma des linken Ventrikels"),
    "RAO/RAE": ("right atrial enlargement", "right atrial overload", "right atrial abnormality", "RAE",
                "P pulmonale", "P dextroatriale", "rechtsatriale Vergrößerung", "rechtsatriale Belastung",
                "rechtsatriale Hypertrophie", "Vergrößerung des rechten Vorhofs"),
    "EL": ("electrolyte disturbance", "electrolyte abnormality", "electrolyte imbalance", "drug effect",
           "hypokalemia", "hypokalaemia", "hyperkalemia", "hyperkalaemia", "Elektrolytstörung",
           "Elektrolytverschiebung", "Medikamenteneffekt", "Medikamentenwirkung", "Hypokaliämie", "Hyperkaliämie"),
    "WPW": ("Wolff-Parkinson-White syndrome", "Wolff-Parkinson-White", "WPW", "WPW syndrome", "WPW pattern",
            "pre-excitation", "preexcitation", "delta wave", "WPW-Syndrom", "Präexzitation",
            "Präexzitationssyndrom", "Delta-Welle"),
    "ILBBB": ("incomplete LBBB", "ILBBB", "incomplete left bundle block", "inkompletter Linksschenkelblock",
              "unvollständiger Linksschenkelblock", "inkompletter LSB", "unvollständiger LSB"),
    "IPLMI": ("inferoposterolateral infarction", "inferoposterolateral infarct", "inferoposterolateral MI",
              "inferoposterolateraler Infarkt", "inferoposterolateraler Myokardinfarkt"),
    "ISCAN": ("anterior ischemia", "anterior ischaemia", "anteriore Ischämie", "Vorderwandischämie",
              "Ischämie anterior"),
    "IPMI": ("inferoposterior infarction", "inferoposterior infarct", "inferoposterior MI",
             "inferoposteriorer Infarkt", "inferoposteriorer Myokardinfarkt"),
    "SEHYP": ("septal hypertrophy", "Septumhypertrophie", "septale Hypertrophie"),
    "INJIN": ("inferior subendocardial injury", "inferior injury", "inferiore Innenschichtschädigung"),
    "INJLA": ("lateral subendocardial injury", "lateral injury", "laterale Innenschichtschädigung"),
    "PMI": ("posterior infarction", "posterior infarct", "posterior MI", "true posterior MI",
            "strictly posterior infarction", "PMI", "posteriorer Infarkt", "posteriorer Myokardinfarkt",
            "strikt posteriorer Infarkt", "Posteriorinfarkt"),
    "3AVB": ("third degree AV block", "third-degree AV block", "3rd degree AV block", "complete AV block",
             "complete heart block", "CHB", "AV block III", "AVB III", "3AVB", "AV-Block III°",
             "AV-Block III. Grades", "AV-Block 3. Grades", "AV-Block dritten Grades", "totaler AV-Block",
             "kompletter AV-Block", "AV-Block Grad III"),
    "INJIL": ("inferolateral subendocardial injury", "inferolateral injury", "inferolaterale Innenschichtschädigung"),
    "2AVB": ("second degree AV block", "second-degree AV block", "2nd degree AV block", "AV block II",
             "AVB II", "2AVB", "AV-Block II°", "AV-Block II. Grades", "AV-Block 2. Grades",
             "AV-Block zweiten Grades", "AV-Block Grad II"),
    "ABQRS": ("QRS abnormal", "QRS(T) abnormal", "QRS(T) abnorm", "abnormal QRS complex", "QRS abnorm",
              "abnormaler QRS-Komplex", "QRS-Veränderungen"),
    "PVC": ("ventricular premature beat", "ventricular premature beats", "ventricular premature complexes",
            "premature ventricular contraction", "premature ventricular contractions",
            "premature ventricular complex", "premature ventricular complexes", "ventricular extrasystole",
            "ventricular extrasystoles", "ventricular ectopic beats", "ventricular ectopy", "PVC", "PVCs",
            "VPB", "VPBs", "VPC", "VPCs", "VES", "ventrikuläre Extrasystole", "ventrikuläre Extrasystolen",
            "ventrikuläre Extrasystolie", "Kammerextrasystole", "Kammerextrasystolen", "Ventrikelextrasystolen"),
    "STD_": ("nonspecific ST depression", "ST depression", "ST segment depression", "ST-segment depression",
             "depressed ST segments", "ST segments are depressed", "ST-Senkung", "ST-Senkungen",
             "ST-Streckensenkung", "ST-Streckensenkungen", "ST-Strecken-Senkung", "ST-Depression",
             "unspezifische ST-Senkung", "unspezifische ST-Streckensenkung"),
    "VCLVH": ("voltage criteria for LVH", "LVH voltage criteria", "LVH by voltage", "voltage criteria for left "
              "ventricular hypertrophy", "positive Sokolow-Lyon index", "positiver Sokolow-Lyon-Index",
              "Sokolow-Lyon-Index positiv", "Sokolow-Index positiv", "Hypertrophie-Spannungskriterien"),
    "QWAVE": ("Q waves", "Q wave", "pathological Q waves", "pathologic Q waves", "abnormal Q waves", "Q-Zacke",
              "Q-Zacken", "pathologische Q-Zacke", "pathologische Q-Zacken", "pathologisches Q",
              "pathologische Q"),
    "LOWT": ("low T waves", "flat T waves", "flattened T waves", "T wave flattening", "low amplitude T waves",
             "T-Abflachung", "abgeflachte T-Wellen", "flache T-Wellen", "niedrige T-Wellen", "T-Wellen-Abflachung"),
    "NT_": ("nonspecific T wave changes", "non-specific T-wave changes", "nonspecific T wave abnormality",
            "unspezifische T-Veränderungen", "unspezifische T-Wellen-Veränderungen", "unspezifische T-Welle",
            "unspezifische T-Wellenveränderungen"),
    "PAC": ("atrial premature complex", "atrial premature complexes", "atrial premature beat",
            "atrial premature beats", "premature atrial contraction", "premature atrial contractions",
            "premature atrial complexes", "supraventricular premature beats", "supraventricular extrasystole",
            "supraventricular extrasystoles", "atrial extrasystoles", "PAC", "PACs", "APC", "APCs", "APB", "APBs",
            "SVPB", "SVES", "SVE", "supraventrikuläre Extrasystole", "supraventrikuläre Extrasystolen",
            "supraventrikuläre Extrasystolie", "Vorhofextrasystole", "Vorhofextrasystolen"),
    "LPR": ("prolonged PR", "PR prolongation", "long PR interval", "PR-Verlängerung", "verlängerte PQ-Zeit",
            "PQ-Zeit verlängert", "PQ-Verlängerung", "verlängertes PR-Intervall", "verlängerte PR-Zeit"),
    "INVT": ("inverted T waves", "T wave inversion", "T-wave inversion", "T inversion", "negative T waves",
             "TWI", "T-Negativierung", "T-Negativierungen", "negative T-Wellen", "negative T-Welle", "T negativ",
             "T-Wellen-Inversion", "terminal negatives T"),
    "LVOLT": ("low voltage", "low QRS voltage", "low QRS voltages", "low-voltage", "Niedervoltage",
              "Niederspannung", "Low-Voltage", "niedrige QRS-Amplituden"),
    "HVOLT": ("high voltage", "high QRS voltages", "increased QRS voltage", "hohe QRS-Amplituden",
              "erhöhte QRS-Amplituden", "Hochvoltage", "hohe Spannung"),
    "TAB_": ("T wave abnormality", "T abnormal", "abnormal T waves", "T wave abnormalities", "T-Abnormität",
             "T-Wellen-Abnormität", "T abnorm", "T-Veränderungen", "T-Wellen-Veränderungen", "auffällige T-Wellen"),
    "STE_": ("nonspecific ST elevation", "ST elevation", "ST segment elevation", "ST-segment elevation",
             "elevated ST segments", "ST segments are elevated", "ST-Hebung", "ST-Hebungen", "ST-Streckenhebung",
             "ST-Streckenhebungen", "ST-Strecken-Hebung", "ST-Elevation", "unspezifische ST-Hebung"),
    "PRC(S)": ("premature complexes", "premature complex", "premature beats", "ectopic beats", "extrasystoles",
               "Extrasystole", "Extrasystolen", "Extrasystolie", "Extraschläge"),
    "SR": ("sinus rhythm", "normal sinus rhythm", "regular sinus rhythm", "SR", "NSR", "Sinusrhythmus",
           "normofrequenter Sinusrhythmus", "regelmäßiger Sinusrhythmus"),
    "AFIB": ("atrial fibrillation", "AF", "AFib", "A-fib", "a fib", "afib", "Vorhofflimmern", "VHF", "VoFli",
             "absolute Arrhythmie", "Arrhythmia absoluta", "absolute arrhythmia", "AA"),
    "STACH": ("sinus tachycardia", "sinus tach", "STach", "Sinustachykardie", "tachykarder Sinusrhythmus"),
    "SARRH": ("sinus arrhythmia", "respiratory sinus arrhythmia", "SA", "Sinusarrhythmie",
              "respiratorische Arrhythmie", "respiratorische Sinusarrhythmie"),
    "SBRAD": ("sinus bradycardia", "sinus brady", "SB", "Sinusbradykardie", "bradykarder Sinusrhythmus"),
    "PACE": ("pacemaker", "pacemaker rhythm", "paced rhythm", "pacing", "artificial pacemaker",
             "normal functioning pacemaker", "Schrittmacher", "Herzschrittmacher", "Schrittmacherrhythmus",
             "Schrittmacher-EKG", "Schrittmacherstimulation", "Schrittmacheraktion", "PM"),
    "SVARR": ("supraventricular arrhythmia", "supraventrikuläre Arrhythmie", "supraventrikuläre Rhythmusstörung"),
    "BIGU": ("bigeminy", "bigeminal pattern", "bigeminal rhythm", "Bigeminus", "Bigeminie"),
    "AFLT": ("atrial flutter", "AFL", "Vorhofflattern"),
    "SVTAC": ("supraventricular tachycardia", "SVT", "supraventrikuläre Tachykardie"),
    "PSVT": ("paroxysmal supraventricular tachycardia", "PSVT", "paroxysmale supraventrikuläre Tachykardie"),
    "TRIGU": ("trigeminy", "trigeminal pattern", "trigeminal rhythm", "Trigeminus", "Trigeminie"),
}
