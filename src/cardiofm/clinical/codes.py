"""Clinical code vocabularies: the ICD-10 (WHO) diagnoses, ATC medications (substance level) and procedure codes
that EHR histories use, each mapped to its name.

The synthetic cohort draws its EHR codes from these (:mod:`cardiofm.synth.outcomes`), and the retrieved-report
summaries name codes with them (:mod:`cardiofm.text.summary`).
"""

from __future__ import annotations

ICD10 = {
    "I10": "essential (primary) hypertension", "I11.9": "hypertensive heart disease without heart failure",
    "E11.9": "type 2 diabetes mellitus without complications", "E78.0": "pure hypercholesterolaemia",
    "E78.5": "hyperlipidaemia, unspecified", "E66.9": "obesity, unspecified", "F17.2": "nicotine dependence",
    "Z72.0": "tobacco use", "I20.9": "angina pectoris, unspecified", "I25.1": "atherosclerotic heart disease",
    "I25.2": "old myocardial infarction", "I25.9": "chronic ischaemic heart disease, unspecified",
    "I48.0": "paroxysmal atrial fibrillation", "I48.1": "persistent atrial fibrillation",
    "I48.2": "permanent atrial fibrillation", "I44.0": "atrioventricular block, first degree",
    "I44.4": "left anterior fascicular block", "I44.7": "left bundle-branch block, unspecified",
    "I45.1": "other right bundle-branch block", "I45.8": "other specified conduction disorders (long QT)",
    "I49.1": "atrial premature depolarization", "I49.3": "ventricular premature depolarization",
    "I51.7": "cardiomegaly", "R00.0": "tachycardia, unspecified", "R00.1": "bradycardia, unspecified",
    "Z95.0": "presence of cardiac pacemaker", "Z95.1": "presence of aortocoronary bypass graft",
    "Z95.5": "presence of coronary angioplasty implant and graft",
}
ATC = {
    "B01AF01": "rivaroxaban", "B01AF02": "apixaban", "B01AF03": "edoxaban", "B01AA04": "phenprocoumon",
    "B01AC06": "acetylsalicylic acid", "B01AC04": "clopidogrel", "C07AB07": "bisoprolol", "C07AB02": "metoprolol",
    "C10AA05": "atorvastatin", "C10AA01": "simvastatin", "A10BA02": "metformin", "A10AE04": "insulin glargine",
    "A10BK01": "dapagliflozin", "C09AA05": "ramipril", "C09CA01": "losartan", "C08CA01": "amlodipine",
    "C03AA03": "hydrochlorothiazide", "C01AA05": "digoxin", "N07BA01": "nicotine",
}
PROCEDURES = {
    "ECHO": "transthoracic echocardiography", "HOLTER": "ambulatory ECG (Holter) monitoring",
    "ABPM": "24 h ambulatory blood pressure monitoring", "EXECG": "exercise ECG", "CCTA": "coronary CT angiography",
    "CAG": "invasive coronary angiography", "PCI": "percutaneous coronary intervention with stent",
    "CABG": "coronary artery bypass grafting", "DCCV": "electrical cardioversion",
    "PM": "pacemaker implantation",
}
