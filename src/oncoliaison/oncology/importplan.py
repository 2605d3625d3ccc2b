"""What an import produces: the plan the planner (importing.py) hands to the writer
(``services.cancer_record_import``), and the result reported to whoever sent the Bundle."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from oncoliaison.patients.services import PatientData

# --- results ------------------------------------------------------------------------------------------


@dataclass
class EntryIssue:
    index: int
    resource_type: str
    resource_id: str
    reason: str
    code: str = "invalid"  # OperationOutcome issue type

    def as_outcome_issue(self) -> dict[str, Any]:
        return {
            "severity": "error",
            "code": self.code,
            "diagnostics": f"Bundle.entry[{self.index}] ({self.resource_type or 'no resource'}"
            f"{'/' + self.resource_id if self.resource_id else ''}): {self.reason}",
            "expression": [f"Bundle.entry[{self.index}]"],
        }


@dataclass
class ImportResult:
    bundle_type: str = ""
    total: int = 0
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    unsupported: Counter[str] = field(default_factory=Counter)
    supporting: Counter[str] = field(default_factory=Counter)
    rejected: list[EntryIssue] = field(default_factory=list)
    queued: int = 0  # resources held for a patient-match review
    review_ids: list[int] = field(default_factory=list)
    patients_created: int = 0
    patients_linked: int = 0
    stored: bool = False
    entry_status: dict[int, str] = field(default_factory=dict)  # HTTP status per stored / held entry
    not_stored_entries: list[int] = field(default_factory=list)  # unsupported and supporting types

    @property
    def ok(self) -> bool:
        return not self.rejected

    def merge(self, other: ImportResult) -> None:
        """Add another bundle's counts (for files with several bundles and command runs).  Entry indexes
        stay those of each bundle, so a merged result has no response Bundle."""
        if not self.bundle_type or self.total == 0:
            self.bundle_type, self.stored = other.bundle_type, other.stored
        elif self.bundle_type != other.bundle_type:
            self.bundle_type = "mixed"
        self.stored = self.stored or other.stored
        self.total += other.total
        for name in ("created", "updated", "unchanged", "unsupported", "supporting"):
            getattr(self, name).update(getattr(other, name))
        self.rejected.extend(other.rejected)
        self.queued += other.queued
        self.review_ids.extend(other.review_ids)
        self.patients_created += other.patients_created
        self.patients_linked += other.patients_linked

    def summary(self) -> dict[str, int]:
        return {
            "imported": sum(self.created.values()) + sum(self.updated.values()),
            "created": sum(self.created.values()),
            "updated": sum(self.updated.values()),
            "unchanged": sum(self.unchanged.values()),
            "rejected": len(self.rejected),
            "unsupported": sum(self.unsupported.values()),
            "queued_for_review": self.queued,
        }

    def to_response_bundle(self) -> dict[str, Any]:
        """The transaction-response / batch-response Bundle: one response per incoming entry, in order.

        For a transaction that was not stored, answer ``to_operation_outcome()`` with HTTP 400 instead.
        An entry of a type the cancer record does not hold is refused with its own error status (422,
        issue code not-supported); supporting entries read to resolve references (Medication) answer
        "200 OK" with a note; entries held for a patient-match review answer "202 Accepted".
        """
        kind = "transaction-response" if self.bundle_type == "transaction" else "batch-response"
        issues = {i.index: i for i in self.rejected}
        not_stored = set(self.not_stored_entries)
        entries: list[dict[str, Any]] = []
        for n in range(self.total):
            issue = issues.get(n)
            if issue is not None:
                response: dict[str, Any] = {
                    "status": _ISSUE_STATUS.get(issue.code, "400 Bad Request"),
                    "outcome": {"resourceType": "OperationOutcome", "issue": [issue.as_outcome_issue()]},
                }
            elif n in not_stored:
                response = {"status": "200 OK", "outcome": {"resourceType": "OperationOutcome", "issue": [{
                    "severity": "warning", "code": "not-supported",
                    "diagnostics": "Accepted but not stored: the cancer record does not hold this resource type."}]}}
            else:
                response = {"status": self.entry_status.get(n, "200 OK")}
            entries.append({"response": response})
        return {"resourceType": "Bundle", "type": kind, "entry": entries}

    def to_operation_outcome(self) -> dict[str, Any]:
        issues = [i.as_outcome_issue() for i in self.rejected]
        if self.unsupported:
            listed = ", ".join(f"{t} x{n}" for t, n in sorted(self.unsupported.items()))
            issues.append({"severity": "warning", "code": "not-supported",
                           "diagnostics": f"Not stored (the cancer record does not hold these types): {listed}"})
        if self.queued:
            issues.append({"severity": "information", "code": "informational",
                           "diagnostics": f"{self.queued} resource(s) held for a patient-match review."})
        if not issues:
            s = self.summary()
            issues.append({"severity": "information", "code": "informational",
                           "diagnostics": f"Imported {s['imported']}, unchanged {s['unchanged']}."})
        return {"resourceType": "OperationOutcome", "issue": issues}


_ISSUE_STATUS = {
    "invalid": "400 Bad Request",
    "duplicate": "400 Bad Request",
    "required": "422 Unprocessable Entity",
    "not-supported": "422 Unprocessable Entity",
    "forbidden": "403 Forbidden",
    "not-found": "404 Not Found",
    "conflict": "409 Conflict",
}


# --- the plan handed to the service -----------------------------------------------------------------


@dataclass
class PlannedPatient:
    entry_index: int
    source_id: str
    content_hash: str
    action: str  # link | create | review | known (already linked from this source)
    patient_id: int | None
    data: PatientData | None
    reason: str = ""
    candidates: tuple[int, ...] = ()
    link_changed: bool = False


@dataclass
class PlannedRecord:
    model: str  # condition | stage | observation | genomic_variant | procedure | medication | performance | disease_status
    resource_type: str
    entry_index: int
    source_id: str
    content_hash: str
    fields: dict[str, Any]
    patient_entry: int | None = None  # index of the Patient entry in this bundle
    patient_id: int | None = None  # or an already-known patient
    condition_ref: str = ""  # source_id of the Condition it is about


@dataclass
class ReviewHold:
    patient: PlannedPatient
    given_name: str
    family_name: str
    birth_date: dt.date | None
    gender: str
    entries: list[dict[str, Any]]
    indexes: list[int] = field(default_factory=list)  # of the held entries in the incoming bundle


@dataclass
class ImportPlan:
    source_system: str
    organization_id: int
    synthetic: bool
    patients: list[PlannedPatient] = field(default_factory=list)
    records: list[PlannedRecord] = field(default_factory=list)
    reviews: list[ReviewHold] = field(default_factory=list)
    # entries about a patient already waiting in a review (from an earlier import): review id → entries
    review_additions: dict[int, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
