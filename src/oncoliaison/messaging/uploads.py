"""Attachments are recorded as metadata only: this upload handler counts a file's bytes as they stream in
and keeps none of them — nothing reaches memory beyond one chunk, nothing reaches the disk."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from oncoliaison.core.middleware import form_post_once


class MetadataOnlyUploadHandler(FileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        return None  # swallow the chunk

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        return InMemoryUploadedFile(
            file=io.BytesIO(b""), field_name=self.field_name, name=self.file_name or "",
            content_type=self.content_type or "application/octet-stream", size=file_size or self.received,
            charset=self.charset, content_type_extra=self.content_type_extra,
        )


def metadata_only_uploads(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Install the handler before the body is read.  CSRF is still checked: by ``csrf_protect`` once the
    handler is in place (the middleware would otherwise read the body first)."""
    protected = csrf_protect(view)

    @csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.upload_handlers = [MetadataOnlyUploadHandler(request)]
        if request.method == "POST":  # the form's one-time key, now that the body may be read
            once = form_post_once(request, lambda: protected(request, *args, **kwargs))
            if once is not None:
                return once  # type: ignore[return-value]  # a page view answers an HttpResponse, and so does its replay
        return protected(request, *args, **kwargs)

    wrapper.__name__ = getattr(view, "__name__", "view")
    wrapper.__doc__ = view.__doc__
    return wrapper
