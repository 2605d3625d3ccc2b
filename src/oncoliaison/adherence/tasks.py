"""Background work of treatment adherence: the daily refresh of the current year's figures."""

from __future__ import annotations

import datetime as dt

from oncoliaison.core.schedule import scheduled_job


@scheduled_job("adherence year to date")
def scheduled_refresh(now: dt.datetime) -> str:
    """Once a day per drug: the current year's PDC, which falls on the days a patient has no supply."""
    from . import services

    return f"drugs refreshed: {services.measures_refresh_due(now)}"
