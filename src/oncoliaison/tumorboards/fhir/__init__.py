"""FHIR R4 mappers of tumor boards (registered with oncoliaison.fhir.registry; the mapping is documented in
src/oncoliaison/fhir/README.md, "Tumor boards").

- ``Appointment`` (read, search): a meeting, with its participants; the video link in an extension, for the
  people invited only.  Not patient-linked.
- ``Composition`` (read, search): the board's review of a discussed case; in the patient compartment.
- ``ServiceRequest`` (read, search): a recommendation of the board (ids ``tbr-<id>``, beside the referrals'
  ServiceRequests); in the patient compartment.
"""

from __future__ import annotations

# Importing the modules registers their mappers.
from . import appointment, composition, recommendations

__all__ = ["appointment", "composition", "recommendations"]
