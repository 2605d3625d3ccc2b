"""A party's contact details — phone, e-mail and postal address — written once for every party that has them
(organisations, patients): the columns (``ContactDetails``), the service input (``ContactData``) and the JSON
API's shapes (``ContactIn``, ``ContactPatch``, ``ContactOut``).

``country`` is an ISO 3166 alpha-2 code; each party says its own default (an organisation's is ``US``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from ninja import Field, Schema

from .schemas import PatchSchema

CONTACT_FIELDS = ("phone", "email", "address_line", "city", "state", "postal_code", "country")


class ContactDetails(models.Model):
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        abstract = True


@dataclass(kw_only=True)
class ContactData:
    phone: str = ""
    email: str = ""
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


class ContactOut(Schema):
    """The contact fields of a party's output shape.  Pydantic lists a base's fields before the class's own,
    so a party whose shape starts with other fields puts those in a base listed after this one:
    ``class PartyOut(ContactOut, _PartyHead)`` gives the head's fields, the contact fields, then its own."""

    phone: str
    email: str
    address_line: str
    city: str
    state: str
    postal_code: str
    country: str


class ContactIn(Schema):
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    address_line: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("", max_length=2)


class ContactPatch(PatchSchema):
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    address_line: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
