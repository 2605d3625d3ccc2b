"""Validating incoming resources with the ``fhir.resources`` R4B models, without validating the same element
content twice.

Batches repeat most of their elements: a symptom batch's answer items take a handful of values, an mCODE
bundle's resources share their codes, categories, subjects, encounters and profiles.  fhir.resources
validates a nested element on its own (its validator does not depend on where the element sits) and
accepts an already validated element model as it is.  So ``validate`` validates each distinct complex
element once (remembered by its element type and exact JSON content, at every level of nesting) and then
the resource with those element models in place of their dicts: the same checks, each distinct element's
done once per ``batch()`` block.

Any failure is reported by validating the whole resource as given, so errors (messages, locations, order)
are exactly those of ``Model.model_validate(resource)``.  Only plain JSON values (dict, list, str, int,
bool, None, finite float) are remembered; anything else is validated each time.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.element import Element
from fhir_core.fhirabstractmodel import FHIRAbstractModel

# Remembered element models (about 5 kB each); emptied when it reaches this size.  The benefit is in
# repetition, which a batch or a bundle shows within itself, so elements are remembered only inside a
# ``batch()`` block and forgotten at its end: no patient's data outlives the request that brought it, and
# how long a validation takes never tells one client what another sent.
MAX_REMEMBERED = 4096
_memory = threading.local()


@contextmanager
def batch() -> Iterator[None]:
    """Remember validated elements while the block runs (one batch Bundle, one imported Bundle)."""
    outer = getattr(_memory, "elements", None)
    if outer is None:
        _memory.elements = {}
    try:
        yield
    finally:
        if outer is None:
            _memory.elements = None
_KEY_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
                | orjson.OPT_PASSTHROUGH_DATACLASS)


# The deepest real FHIR JSON is a few dozen levels (extensions in extensions, nested Questionnaire items);
# pydantic and the element cache recurse once per level, so a hostile document of a few hundred levels
# would end in a RecursionError (a 500, or an import run aborted).  Deeper documents are refused first.
MAX_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests objects/arrays more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def model_for(resource_type: str) -> type[FHIRAbstractModel]:
    """The R4B model class of a resource type (KeyError, ValueError or LookupError when there is none)."""
    return get_fhir_model_class(resource_type)


def validate(model: type[FHIRAbstractModel], resource: dict[str, Any]) -> None:
    """Raise pydantic's ValidationError exactly when ``model.model_validate(resource)`` would."""
    try:
        _build(model, resource)
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        model.model_validate(resource)  # the whole resource as given, for its own errors


def _build(model: type[FHIRAbstractModel], value: dict[str, Any]) -> FHIRAbstractModel:
    """``model.model_validate(value)`` with the complex elements of ``value`` validated once each."""
    fields = _element_fields(model)
    replaced: dict[str, Any] = {}
    for key, item in value.items():
        spec = fields.get(key)
        if spec is None:
            continue
        element_type, many = spec
        element = _element_class(element_type)
        if element is None:
            continue
        if many:
            if type(item) is list and item and all(type(v) is dict for v in item):
                replaced[key] = [_element(element, v) for v in item]
        elif type(item) is dict:
            replaced[key] = _element(element, item)
    return model.model_validate({**value, **replaced} if replaced else value)


def _element(model: type[FHIRAbstractModel], value: dict[str, Any]) -> FHIRAbstractModel:
    remembered: dict[tuple[type[FHIRAbstractModel], bytes], FHIRAbstractModel] | None = \
        getattr(_memory, "elements", None)
    key = _key(value) if remembered is not None else None
    if remembered is None or key is None:
        return _build(model, value)
    found = remembered.get((model, key))
    if found is None:
        found = _build(model, value)
        if len(remembered) >= MAX_REMEMBERED:
            remembered.clear()
        remembered[(model, key)] = found
    return found


def _key(value: dict[str, Any]) -> bytes | None:
    """The exact JSON text of a plain JSON value (sorted keys), else None.

    orjson refuses subclasses, dates and dataclasses here; what it writes for other non-JSON values (UUID,
    Enum, NaN) does not read back equal, so the round trip tells plain values from the rest."""
    try:
        text = orjson.dumps(value, option=_KEY_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    return text if orjson.loads(text) == value else None


@cache
def _element_fields(model: type[FHIRAbstractModel]) -> dict[str, tuple[Any, bool]]:
    """Input key → (element type, is a list) for the complex-typed elements of ``model``.  The element's
    model class is looked up at first use (``_element_class``), so no module is imported for elements that
    never come."""
    out: dict[str, tuple[Any, bool]] = {}
    for name, info in model.model_fields.items():
        found = _element_type(info.annotation)
        if found is not None:
            out[info.alias or name] = found
    return out


@cache
def _element_class(element_type: Any) -> type[FHIRAbstractModel] | None:
    """The model class of an element type; None for resources (``contained``), left to the model's own
    validation."""
    model = element_type.get_model_klass()
    return model if isinstance(model, type) and issubclass(model, Element) else None


def _element_type(annotation: Any, many: bool = False) -> tuple[Any, bool] | None:
    if hasattr(annotation, "get_model_klass"):
        return annotation, many
    origin = typing.get_origin(annotation)
    if origin is None:
        return None
    is_list = origin in (list, typing.List)  # noqa: UP006
    for arg in typing.get_args(annotation):
        if arg is type(None):
            continue
        found = _element_type(arg, many or is_list)
        if found is not None:
            return found
    return None
