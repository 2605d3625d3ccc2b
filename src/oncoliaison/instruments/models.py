"""Instruments as data: every questionnaire OncoLiaison asks, whatever the domain that scores it.

An ``Instrument`` (e.g. the NCCN Distress Thermometer, ESAS-r, PRO-CTCAE) is loaded from a data file with its
publisher, source, citation and licence text as published; each ``InstrumentVersion`` keeps the file as loaded
(its definition, checksum and where it came from) and names the scoring function of its domain's ``rules.py``;
``InstrumentItem`` rows are the items of versions whose domain asks them one by one (symptom monitoring).

``InstrumentPermission`` is the history of an organisation's licence permissions and switches for an
instrument: rows are only ever added (a grant, the withdrawal of one grant, or switching the instrument off),
never changed, so the permission an administrator recorded stays on record after it ends.
``rules.permission_state`` reads the rows; see docs/architecture.md, "Instruments".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Purpose(models.TextChoices):
    """What the instrument is for; the domain that asks and scores it."""

    NEEDS_ASSESSMENT = "needs-assessment", "Needs assessment"
    SYMPTOM_MONITORING = "symptom-monitoring", "Symptom monitoring"
    DECISION_SUPPORT = "decision-support", "Shared decision-making"
    EXPERIENCE = "experience", "Patient experience"
    QUALITY_OF_LIFE = "quality-of-life", "Quality of life"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Instrument(models.Model):
    """A published instrument, independent of its versions."""

    code = models.SlugField(max_length=64, unique=True, help_text="The last part of the canonical URL.")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    title = models.CharField(max_length=250)
    publisher = models.CharField(max_length=250, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    citation = models.TextField(blank=True, help_text="Published source of the items and scoring rules.")
    licence = models.TextField(blank=True, help_text="Licence or terms of use, as published.")
    requires_permission = models.BooleanField(
        default=False,
        help_text="The owner's written permission is needed before use; off until an administrator records it.",
    )
    loinc_code = models.CharField(max_length=20, blank=True, help_text="LOINC panel code, when one exists.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=Purpose.values), name="instrument_purpose_known"),
        ]

    def __str__(self) -> str:
        return self.title


class InstrumentVersion(models.Model):
    """One published version of an instrument: the data file as loaded, and the rule set that scores it."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=60)
    number = models.PositiveIntegerField(
        help_text="n of the Questionnaire id '<domain>-<n>', counted per purpose; kept when versions moved here."
    )
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.ACTIVE)
    current = models.BooleanField(default=True, help_text="The version asked now (one per instrument).")
    scoring = models.CharField(max_length=64, help_text="Name of the scoring function in the domain's rules.py")
    recall = models.CharField(max_length=200, blank=True, help_text="The recall period, as the instrument says.")
    definition = models.JSONField(help_text="The definition file as loaded (items, options, codes, scales).")
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the definition as loaded")
    loaded_from = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["instrument__title", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "version"], name="instruments_version_unique"),
            models.UniqueConstraint(fields=["instrument"], condition=Q(current=True),
                                    name="instruments_one_current_version"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.title} (version {self.version})"


class ItemKind(models.TextChoices):
    SCALE = "scale", "Numeric rating 0-10"
    ORDINAL = "ordinal", "Ordered response options"
    PRESENCE = "presence", "Yes / no"
    TEXT = "text", "Short text"
    FREE_TEXT = "free_text", "Anything else (free text)"


class Attribute(models.TextChoices):
    NONE = "", "—"
    FREQUENCY = "frq", "Frequency"
    SEVERITY = "sev", "Severity"
    INTERFERENCE = "int", "Interference"
    AMOUNT = "amount", "Amount"
    PRESENCE = "yn", "Presence"


class InstrumentItem(models.Model):
    """One item of a version, as its publisher prints it, with the codes that score it."""

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="items")
    link_id = models.CharField(max_length=40)
    order = models.PositiveIntegerField()
    text = models.CharField(max_length=250, help_text="The question as the instrument's publisher prints it.")
    short_label = models.CharField(max_length=120, blank=True,
                                   help_text="Short name for staff views and charts (e.g. 'Pain Frequency').")
    kind = models.CharField(max_length=12, choices=ItemKind.choices)
    symptom = models.CharField(max_length=40, blank=True, help_text="Symptom code the item belongs to.")
    symptom_label = models.CharField(max_length=120, blank=True)
    attribute = models.CharField(max_length=8, choices=Attribute.choices, blank=True)
    term = models.PositiveSmallIntegerField(null=True, blank=True, help_text="PRO-CTCAE term number")
    min_value = models.SmallIntegerField(null=True, blank=True)
    max_value = models.SmallIntegerField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True, help_text="Response option labels, coded 0…n-1.")
    missing_options = models.JSONField(default=list, blank=True,
                                       help_text="Extra options stored as missing (e.g. Not applicable).")
    anchor_low = models.CharField(max_length=120, blank=True)
    anchor_high = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "link_id"], name="instruments_item_unique")]


class PermissionKind(models.TextChoices):
    GRANT = "grant", "Permission recorded, instrument on"
    WITHDRAW = "withdraw", "One recorded permission disabled"
    SWITCH_OFF = "switch-off", "Instrument switched off"


class AppendOnly(Exception):
    """A permission row is history: it is never changed once recorded."""


class InstrumentPermission(models.Model):
    """One entry in an organisation's permission history for an instrument.  Rows are never changed.

    - ``grant``: the owner's permission (reference, who granted it, who holds it, from when, until when) is
      recorded and the instrument switched on; it is in force from ``granted_on`` until ``expires_on``;
    - ``withdraw``: the grant named in ``withdraws`` is disabled (the others stay in force);
    - ``switch-off``: the instrument is switched off; every earlier grant ends.
    """

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="permissions")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.CASCADE,
                                     related_name="instrument_permissions")
    kind = models.CharField(max_length=12, choices=PermissionKind.choices)
    withdraws = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="withdrawals",
                                  help_text="The grant a withdrawal disables.")
    reference = models.CharField(max_length=200, blank=True, help_text="The owner's permission or licence reference.")
    granted_by = models.CharField(max_length=200, blank=True,
                                  help_text="Who granted it, e.g. National Cancer Institute")
    holder = models.CharField(max_length=200, blank=True, help_text="Who holds the permission.")
    granted_on = models.DateField(null=True, blank=True, help_text="In force from this day.")
    expires_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="What the permission covers.")
    reason = models.TextField(blank=True, help_text="Why it was disabled or switched off.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["organization", "instrument", "recorded_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PermissionKind.values), name="instrument_permission_kind"),
            models.CheckConstraint(
                condition=Q(kind="withdraw", withdraws__isnull=False) | (~Q(kind="withdraw") & Q(withdraws__isnull=True)),
                name="instrument_permission_withdraws_a_grant",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(granted_on__isnull=True) | Q(expires_on__gte=models.F("granted_on")),
                name="instrument_permission_period_ordered",
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("A recorded permission is never changed: record a new entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("A recorded permission is never deleted: record a withdrawal or a switch-off.")
