"""The texts of symptom monitoring's e-mail notices (sent by monitoring.tasks).  No patient details: links only."""

from __future__ import annotations

from oncoliaison.core.notices import Notice


def alert_overdue_escalated(alert_url: str) -> Notice:
    """To the CLP or physician an alert went to when nobody acknowledged it in time."""
    return Notice("OncoLiaison: a symptom alert passed its response deadline",
                  "A symptom alert was not acknowledged in time and has been escalated to you.  "
                  f"Open the alert: {alert_url}")


def check_in_due(portal_url: str, urgent_phone: str) -> Notice:
    """To a patient whose symptom report is due, with the number to call when they feel very unwell."""
    call = (f"If you feel very unwell, call your care team's 24-hour line now: {urgent_phone}.  In an emergency "
            "call 911." if urgent_phone else "If you feel very unwell and cannot reach your care team, call 911.  "
            "If you are thinking of harming yourself, call or text 988.")
    return Notice("Your symptom check-in is due",
                  "Your care team asks you to report how you are feeling.  Please sign in to the OncoLiaison portal "
                  f"to answer a few questions: {portal_url}\n\n{call}")


def severe_alerts(alert_urls: list[str]) -> Notice:
    """To the navigator severe alerts were assigned to: one notice, a link per alert."""
    links = "\n".join(alert_urls)
    return Notice("OncoLiaison: severe symptom alert on your worklist",
                  f"A severe symptom alert needs a response within the hour.  Open it:\n{links}")


def alert_escalated_to_you(alert_url: str) -> Notice:
    """To the physician or CLP a navigator escalated an alert to (the note is shown on the alert's page)."""
    return Notice("OncoLiaison: a symptom alert was escalated to you",
                  f"A navigator escalated a symptom alert to you and left you a note.  Open the alert: {alert_url}")
