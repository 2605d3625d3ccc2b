"""Settings for serving OncoLiaison with gunicorn (``gunicorn -c python:oncoliaison.gunicorn_conf``).

The access log writes the path without its query string (``%(U)s``, never ``%(r)s`` or ``%(q)s``) and no
Referer (``%(f)s``: the previous page's full URL): a FHIR search such as ``GET /fhir/Patient?name=…`` is a
standard GET, so its query string can hold a name, an MRN or a birth date.  The same holds for a reverse
proxy in front: configure its access log the same way (nginx: ``$uri`` instead of ``$request``).
"""

from __future__ import annotations

import os

wsgi_app = "oncoliaison.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
errorlog = "-"
# remote address, time, method, path (no query), protocol, status, bytes, duration (ms), user agent
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
# Forwarded headers are trusted only from the local proxy (see BEHIND_PROXY in settings).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
