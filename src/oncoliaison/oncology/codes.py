"""Code tables of the cancer record's entry pages: the choices a clinician picks from, each a real code with
its published display text, and the names of the code systems for showing a code to a person.

Sources (no code or display here is made up):

- mCODE STU4 conformance examples (HL7, CC0; npm ``hl7.fhir.us.mcode@4.0.0``, ``package/example/``): cancer
  conditions, body sites, SNOMED CT morphologies, TNM categories and stage-group values, the AJCC 8th edition
  staging method, tumor-marker tests and their answers, surgical procedures, the radiotherapy course, procedure
  intent, the laterality qualifier and RxNorm medications.
- Synthea R4 sample bundles (smart-on-fhir/generated-sample-data, Apache-2.0): colon and prostate surgery,
  the PSA test and RxNorm chemotherapy drugs of the colorectal, prostate and lung cancer modules.
- The demo's cancer types (SNOMED CT disorders with their body sites), which the seed and these tables share.
- ICD-O-3 (WHO, International Classification of Diseases for Oncology, 3rd edition) morphology terms, and
  LOINC (Regenstrief) names of the common serum tumor markers listed in ``rules.TUMOR_MARKER_LOINC``.
- ECOG performance status: Oken MM, Creech RH, Tormey DC, et al. Toxicity and response criteria of the Eastern
  Cooperative Oncology Group. Am J Clin Oncol 1982;5(6):649-655 (wording as published by ECOG-ACRIN), with
  the LOINC answer codes of LOINC 89247-1 (answer list LL529-9).
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import HGNC, ICD10CM, ICDO3, LOINC, NCIT, RXNORM, SNOMED, UCUM

SYSTEM_NAMES: dict[str, str] = {
    SNOMED: "SNOMED CT",
    ICD10CM: "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    ICDO3: "ICD-O-3",
    LOINC: "LOINC",
    RXNORM: "RxNorm",
    HGNC: "HGNC",
    UCUM: "UCUM",
    NCIT: "NCI Thesaurus",
    "http://ncit.nci.nih.gov": "NCI Thesaurus",
}


def system_name(system: str) -> str:
    """A code system as a person knows it ('SNOMED CT'), never its URI; '' when there is none."""
    if not system:
        return ""
    return SYSTEM_NAMES.get(system, "local code" if system.startswith("urn:") else system.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str


@dataclass(frozen=True)
class CancerType:
    snomed: str
    display: str
    icd10: str
    site_code: str
    site: str
    sex: str | None  # restricted to one sex, or None


# The demo's cancer types (also the first choices of the diagnosis picker).
CANCER_TYPES = [
    CancerType("254837009", "Malignant neoplasm of breast", "C50.911", "76752008", "Breast structure", "female"),
    CancerType("254637007", "Non-small cell lung cancer", "C34.90", "39607008", "Lung structure", None),
    CancerType("363406005", "Malignant neoplasm of colon", "C18.9", "71854001", "Colon structure", None),
    CancerType("399068003", "Malignant tumor of prostate", "C61", "41216001", "Prostatic structure", "male"),
    CancerType("363418001", "Malignant tumor of pancreas", "C25.9", "15776009", "Pancreatic structure", None),
    CancerType("372244006", "Malignant melanoma", "C43.9", "39937001", "Skin structure", None),
    CancerType("93143009", "Leukemia, disease", "C95.90", "14016003", "Bone marrow structure", None),
    CancerType("363443007", "Malignant tumor of ovary", "C56.9", "15497006", "Ovarian structure", "female"),
]

CONDITIONS: list[Code] = [
    *(Code(SNOMED, c.snomed, c.display) for c in CANCER_TYPES),
    # mCODE STU4 examples
    Code(SNOMED, "353431000119107", "Primary malignant neoplasm of female left breast"),
    Code(SNOMED, "92814006", "Chronic lymphoid leukemia, disease"),
    Code(SNOMED, "277571004", "B-cell acute lymphoblastic leukemia"),
    Code(SNOMED, "363346000", "Malignant neoplastic disease"),
    Code(SNOMED, "94225005", "Secondary malignant neoplasm of brain"),
    Code(SNOMED, "128462008", "Metastatic malignant neoplasm"),
]

BODY_SITES: list[Code] = [
    *(Code(SNOMED, c.site_code, c.site) for c in CANCER_TYPES),
    Code(SNOMED, "80248007", "Left breast structure"),
    Code(SNOMED, "31094006", "Structure of lobe of lung"),
    Code(SNOMED, "78904004", "Chest wall structure"),
]

# mCODE LateralityQualifierVS (the examples use "Left"; the value set's other members are SNOMED CT's
# "Right" and "Right and left" qualifiers).
LATERALITY: list[Code] = [
    Code(SNOMED, "7771000", "Left"),
    Code(SNOMED, "24028007", "Right"),
    Code(SNOMED, "51440002", "Right and left"),
]

HISTOLOGY: list[Code] = [
    Code(ICDO3, "8140/3", "Adenocarcinoma, NOS"),
    Code(ICDO3, "8500/3", "Infiltrating duct carcinoma, NOS"),
    Code(ICDO3, "8520/3", "Lobular carcinoma, NOS"),
    Code(ICDO3, "8070/3", "Squamous cell carcinoma, NOS"),
    Code(ICDO3, "8046/3", "Non-small cell carcinoma"),
    Code(ICDO3, "8041/3", "Small cell carcinoma, NOS"),
    Code(ICDO3, "8720/3", "Malignant melanoma, NOS"),
    Code(ICDO3, "8441/3", "Serous cystadenocarcinoma, NOS"),
    Code(ICDO3, "9800/3", "Leukemia, NOS"),
    # SNOMED CT morphologies of the mCODE examples
    Code(SNOMED, "82711006", "Infiltrating duct carcinoma"),
    Code(SNOMED, "1187332001", "Adenocarcinoma"),
    Code(SNOMED, "77284006", "Lobular carcinoma in situ"),
]

# --- staging ---------------------------------------------------------------------------------------------

AJCC_8 = Code(SNOMED, "897275008", "American Joint Commission on Cancer, Cancer Staging Manual, 8th edition "
                                   "neoplasm staging system (tumor staging)")
T_CATEGORIES = ["TX", "T0", "Tis", "T1", "T1a", "T1b", "T1c", "T2", "T2a", "T2b", "T3", "T4", "T4a", "T4b", "T4c",
                "T4d"]
N_CATEGORIES = ["NX", "N0", "N1", "N1a", "N1b", "N1c", "N2", "N2a", "N2b", "N3", "N3a", "N3b", "N3c"]
M_CATEGORIES = ["M0", "M1", "M1a", "M1b", "M1c"]
STAGE_GROUPS = ["0", "I", "IA", "IB", "II", "IIA", "IIB", "IIC", "III", "IIIA", "IIIB", "IIIC", "IV", "IVA", "IVB",
                "IVC"]
# SNOMED CT value codes the mCODE examples carry (the category with its c/p prefix → code).  Other values are
# kept as text (valueCodeableConcept.text) rather than given a code we cannot cite.
TNM_VALUE_CODES: dict[str, Code] = {
    "cT3": Code(SNOMED, "1228938002", "American Joint Committee on Cancer cT3"),
    "cN0": Code(SNOMED, "1229967007", "American Joint Committee on Cancer cN0"),
    "cN3": Code(SNOMED, "1229984001", "American Joint Committee on Cancer cN3"),
    "cM0": Code(SNOMED, "1229901006", "American Joint Committee on Cancer cM0"),
    "pT3": Code(SNOMED, "1229859000", "American Joint Committee on Cancer pT3"),
    "pN0": Code(SNOMED, "1229947003", "American Joint Committee on Cancer pN0"),
    "IIB": Code(SNOMED, "1222769001", "American Joint Committee on Cancer stage IIB"),
    "IIIC": Code(SNOMED, "1222806003", "American Joint Committee on Cancer stage IIIC"),
}

# --- biomarkers --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerTest:
    code: Code
    qualitative: bool  # answered Positive / Negative
    unit: str = ""  # UCUM unit of a measured result


TUMOR_MARKERS: list[MarkerTest] = [
    MarkerTest(Code(LOINC, "85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain"),
               True),
    MarkerTest(Code(LOINC, "85339-0",
                    "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain"), True),
    MarkerTest(Code(LOINC, "48676-1", "HER2 [Interpretation] in Tissue"), True),
    MarkerTest(Code(LOINC, "39004-7", "Epidermal growth factor receptor Ag [Presence] in Tissue"), True),
    MarkerTest(Code(LOINC, "2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma"), False, "ng/mL"),
    MarkerTest(Code(LOINC, "2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma"), False, "ng/mL"),
    MarkerTest(Code(LOINC, "10334-1", "Cancer Ag 125 [Units/volume] in Serum or Plasma"), False, "U/mL"),
    MarkerTest(Code(LOINC, "24108-3", "Cancer Ag 19-9 [Units/volume] in Serum or Plasma"), False, "U/mL"),
    MarkerTest(Code(LOINC, "1834-1", "Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma"), False, "ng/mL"),
]
MARKER_ANSWERS: list[Code] = [Code(LOINC, "LA6576-8", "Positive"), Code(LOINC, "LA6577-6", "Negative")]

# --- treatments -----------------------------------------------------------------------------------------------

SURGERIES: list[Code] = [
    Code(SNOMED, "64368001", "Excision of part of breast"),
    Code(SNOMED, "359615001", "Partial lobectomy of lung"),
    Code(SNOMED, "43075005", "Partial resection of colon"),
    Code(SNOMED, "90470006", "Prostatectomy"),
]
RADIOTHERAPY_COURSE = Code(SNOMED, "1217123003", "Radiotherapy course of treatment")
RADIOTHERAPY_MODALITIES: list[Code] = [
    Code(SNOMED, "1156506007", "External beam radiation therapy using photons"),
    Code(SNOMED, "45643008", "Teleradiotherapy using electrons"),
    Code(SNOMED, "1162782007", "Three dimensional external beam radiation therapy"),
    Code(SNOMED, "1156530009", "Volumetric Modulated Arc Therapy"),
]
MEDICATIONS: list[Code] = [
    Code(RXNORM, "84857", "anastrozole"),
    Code(RXNORM, "3002", "cyclophosphamide"),
    Code(RXNORM, "3639", "DOXOrubicin"),
    Code(RXNORM, "56946", "PACLitaxel"),
    Code(RXNORM, "11202", "vincristine"),
    Code(RXNORM, "5650", "IDArubicin"),
    Code(RXNORM, "8640", "predniSONE"),
    Code(RXNORM, "349472", "gefitinib 250 MG Oral Tablet"),
    Code(RXNORM, "309311", "cisplatin 1 MG/ML Injectable Solution"),
    Code(RXNORM, "1736776", "10 ML oxaliplatin 5 MG/ML Injection"),
    Code(RXNORM, "1803932", "Leucovorin 100 MG Injection"),
    Code(RXNORM, "1860480", "1 ML DOCEtaxel 20 MG/ML Injection"),
    Code(RXNORM, "752899", "0.25 ML Leuprolide Acetate 30 MG/ML Prefilled Syringe"),
    Code(RXNORM, "1734340", "Etoposide 100 MG Injection"),
]
# mCODE procedure intent (the examples use "Curative"; "Palliative" is the value set's other treatment intent).
TREATMENT_INTENTS: list[Code] = [
    Code(SNOMED, "373808002", "Curative - procedure intent"),
    Code(SNOMED, "363676003", "Palliative - procedure intent"),
]

# --- performance status ------------------------------------------------------------------------------------------

ECOG_DEFINITIONS: dict[int, str] = {
    0: "Fully active, able to carry on all pre-disease performance without restriction",
    1: "Restricted in physically strenuous activity but ambulatory and able to carry out work of a light or "
       "sedentary nature, e.g., light house work, office work",
    2: "Ambulatory and capable of all selfcare but unable to carry out any work activities. Up and about more "
       "than 50% of waking hours",
    3: "Capable of only limited selfcare, confined to bed or chair more than 50% of waking hours",
    4: "Completely disabled. Cannot carry on any selfcare. Totally confined to bed or chair",
    5: "Dead",
}
ECOG_LOINC_ANSWERS: dict[int, str] = {0: "LA9622-7", 1: "LA9623-5", 2: "LA9624-3", 3: "LA9625-0", 4: "LA9626-8",
                                      5: "LA9627-6"}


def find(table: list[Code], code: str) -> Code | None:
    return next((c for c in table if c.code == code), None)


def choices(table: list[Code], *, blank: str | None = None) -> list[tuple[str, str]]:
    out = [(c.code, c.display) for c in table]
    return [("", blank), *out] if blank is not None else out


def display_for(system: str, code: str) -> str:
    """The display text of a code these tables know, else ''."""
    for table in (CONDITIONS, BODY_SITES, HISTOLOGY, SURGERIES, MEDICATIONS, TREATMENT_INTENTS, LATERALITY,
                  MARKER_ANSWERS, RADIOTHERAPY_MODALITIES):
        for c in table:
            if c.code == code and (not system or c.system == system):
                return c.display
    for m in TUMOR_MARKERS:
        if m.code.code == code:
            return m.code.display
    return ""
