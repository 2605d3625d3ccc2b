from __future__ import annotations

import pytest

from oncoliaison.assessments.testing import load_instruments
from oncoliaison.instruments.models import InstrumentVersion
from oncoliaison.testing import Cast


@pytest.fixture
def versions(cast: Cast) -> dict[str, InstrumentVersion]:
    return load_instruments(cast)
