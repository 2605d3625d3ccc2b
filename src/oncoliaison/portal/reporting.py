"""The portal's "report my symptoms" page: a large-text form built from the instrument's items, submitted
through ``monitoring.services.report_submit`` (which validates, scores, raises alerts and audits).

The monitoring app owns instruments, scoring and alerts; this module only turns its items into a form and
its answer into a page.  Without the monitoring app the page says reporting is not available here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError

from .rules import ProxyAction
from .selectors import PortalSubject

Render = Callable[..., HttpResponse]
PROCTCAE = "proctcae_composite"


def term_choices(instrument: Any) -> list[tuple[int, str]]:
    """(term number, symptom) pairs of a PRO-CTCAE instrument's current version, in the library's order."""
    from oncoliaison.monitoring.selectors import current_version

    version = current_version(instrument)
    seen: dict[int, str] = {}
    for term, label in version.items.exclude(term__isnull=True).order_by("term", "order").values_list(
        "term", "symptom_label"
    ):
        if term is not None:
            seen.setdefault(term, label)
    return list(seen.items())


def _item_field(item: Any) -> forms.Field:
    label = item.text
    if item.kind in ("text", "free_text"):
        return forms.CharField(
            label=label, required=False, max_length=4000 if item.kind == "free_text" else 200,
            widget=forms.Textarea(attrs={"rows": 3}) if item.kind == "free_text" else forms.TextInput(),
        )
    if item.kind == "presence" and item.options:
        # The instrument's own words (never the portal catalogue's), in the printed order: Yes before No
        # (codes stay No = 0, Yes = 1); then any answer stored as missing ("Not applicable").
        choices = [(str(i), text) for i, text in reversed(list(enumerate(item.options)))]
        choices += [("", text) for text in item.missing_options]
    elif item.kind == "ordinal" and item.options:
        choices = [(str(i), text) for i, text in enumerate(item.options)]
        choices += [("", text) for text in item.missing_options]
    else:
        lo = item.min_value if item.min_value is not None else 0
        hi = item.max_value if item.max_value is not None else 10
        choices = [(str(v), str(v)) for v in range(lo, hi + 1)]
    help_text = ""
    if item.anchor_low or item.anchor_high:
        help_text = f"{item.min_value if item.min_value is not None else 0} = {item.anchor_low} · " \
                    f"{item.max_value if item.max_value is not None else 10} = {item.anchor_high}"
    return forms.ChoiceField(label=label, choices=choices, required=False, widget=forms.RadioSelect,
                             help_text=help_text)


class SymptomReportForm(forms.Form):
    def __init__(self, *args: Any, items: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[item.link_id] = _item_field(item)

    def answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in self.items:
            value = self.cleaned_data.get(item.link_id)
            if item.kind in ("text", "free_text"):
                if value:
                    out[item.link_id] = value
            elif value not in (None, ""):
                out[item.link_id] = int(value)
            else:
                out[item.link_id] = None
        return out


def report_sent_page(request: HttpRequest, actor: Actor, subject: PortalSubject, report_id: int,
                     render: Render) -> HttpResponse:
    """The confirmation of a sent report: what to do now, from the stored report and its alert."""
    from oncoliaison.monitoring.selectors import report_outcome_for

    outcome = report_outcome_for(actor, subject.patient, report_id)
    ctx = {"subject": subject, "patient": subject.patient, "result": outcome, "guidance": outcome.guidance}
    return render(request, "portal/report_done.html", ctx)


def report_page(request: HttpRequest, actor: Actor, subject: PortalSubject, render: Render) -> HttpResponse:
    ctx: dict[str, Any] = {"subject": subject, "patient": subject.patient}
    if not apps.is_installed("oncoliaison.monitoring"):
        ctx["unavailable"] = True
        return render(request, "portal/report.html", ctx)
    from oncoliaison.monitoring import selectors as monitoring
    from oncoliaison.monitoring.services import report_submit, scoring_of

    instruments = monitoring.instruments_enabled_for_patient(subject.patient)
    if not instruments:
        ctx["unavailable"] = True
        return render(request, "portal/report.html", ctx)
    params = request.POST if request.method == "POST" else request.GET
    chosen_code = params.get("instrument") or instruments[0].code
    instrument = next((i for i in instruments if i.code == chosen_code), instruments[0])
    ctx.update({"instruments": instruments, "instrument": instrument})
    # An instrument is asked only in a language its publisher's official text exists in here; never in a
    # translation of our own.  Without one, the person is told so and given the care team's number; they
    # may still choose to answer the original (English) questions.
    language = translation.get_language() or "en"
    languages = monitoring.instrument_languages(instrument)
    if language not in languages:
        answer_in = params.get("answer_in", "")
        if answer_in not in languages:
            ctx.update({"instrument_language": languages[0], "team_phone": subject.patient.organization.phone,
                        "team_name": subject.patient.organization.name,
                        "may_message": subject.allows(ProxyAction.MESSAGE)})
            return render(request, "portal/report_language.html", ctx)
        ctx["answer_in"] = answer_in
    terms: list[int] = []
    if scoring_of(instrument) == PROCTCAE:
        # PRO-CTCAE asks only about the symptoms the person picks first (a library of 80 terms).
        choices = term_choices(instrument)
        terms = sorted({int(t) for t in params.getlist("term") if t.isdigit() and int(t) in dict(choices)})
        ctx.update({"term_choices": choices, "terms": terms})
        if not terms:
            if request.method == "POST":
                ctx["term_error"] = _("Choose at least one symptom.")
            return render(request, "portal/report_terms.html", ctx, status=400 if request.method == "POST" else 200)
    items = monitoring.form_items(instrument, terms or None)
    form = SymptomReportForm(request.POST if request.method == "POST" else None, items=items)
    ctx["form"] = form
    if form.is_bound and form.is_valid():
        answers = form.answers()
        if all(v in (None, "") for v in answers.values()):
            form.add_error(None, _("Answer at least one question, then send."))
        else:
            try:
                result = report_submit(actor=actor, patient=subject.patient, instrument=instrument, answers=answers,
                                       source="portal", channel="web")
            except DomainError as exc:
                field_errors = getattr(exc, "field_errors", {}) or {}
                placed = False
                for name, msgs in field_errors.items():
                    for m in msgs:
                        form.add_error(name if name in form.fields else None, m)
                        placed = True
                if not placed:
                    form.add_error(None, exc.message)
            else:
                # Post/redirect/get: the confirmation is a page of its own, so reloading it sends nothing.
                if subject.is_proxy:
                    return redirect("portal:report_sent_for", patient_id=subject.patient.pk,
                                    report_id=result.report.pk)
                return redirect("portal:report_sent", report_id=result.report.pk)
    return render(request, "portal/report.html", ctx, status=400 if form.errors else 200)
