from django.apps import AppConfig


class AuditLogConfig(AppConfig):
    """The review of the audit trail: an organisation's audit report page, its JSON API and FHIR AuditEvent.

    The trail itself (writing, hash chain, checkpoints) is the kernel's: core.audit and core.checkpoints."""

    name = "oncoliaison.auditlog"
    label = "auditlog"
