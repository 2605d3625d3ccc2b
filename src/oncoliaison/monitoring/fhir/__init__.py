"""FHIR R4 mappers of symptom monitoring (registered with oncoliaison.fhir.registry).

- ``Questionnaire`` (read, search): an instrument version, canonical ``<CODE_BASE>/Questionnaire/<code>``
  with ``version``; scale items are ``integer`` (min/max value extensions), PRO-CTCAE attributes ``choice``
  with answer codes "0".."4" in ``<CODE_BASE>/CodeSystem/proctcae-response``; ``copyright`` carries the licence.
- ``QuestionnaireResponse`` (create, read, search): a symptom report.  Create goes through
  ``services.report_submit`` (source fhir), so scores, alerts and audit are the same as from the portal.
  ``identifier`` (system + value) makes the create idempotent.
- ``Observation`` (read, search): a derived score (ESAS-r item or sum, PRO-CTCAE composite grade or
  presence), category ``survey``, ``derivedFrom`` the QuestionnaireResponse.
- ``Flag`` (read, search): a symptom alert; status active until resolved; the response deadline and the
  workflow status in extensions.

``questionnaire_responses_ingest`` takes many QuestionnaireResponse resources (a batch Bundle's entries)
and stores them with set-based queries.
"""

from __future__ import annotations

# Importing the modules registers their mappers and the Bundle handler (oncoliaison.fhir.registry).
from . import alerts, common, questionnaires, responses, scores

__all__ = ["alerts", "common", "questionnaires", "responses", "scores"]
