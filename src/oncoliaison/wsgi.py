import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncoliaison.settings")
application = get_wsgi_application()

# Import the URLconf (every app's urls and views) now, while the worker boots, rather than inside the first
# request it serves (0.7 s on the host of docs/benchmarks.md); it is then frozen with the rest below.
get_resolver().url_patterns  # noqa: B018 - the property imports the modules

# What start-up loaded (Django, the app, the FHIR model classes: ~100,000 objects) lives as long as the
# process.  Move it out of the garbage collector's reach, so that a full collection triggered during a
# request does not walk it (55-65 ms each time on the 2-core host of docs/benchmarks.md); with a
# pre-loading server (gunicorn --preload) the frozen pages also stay shared between workers.
gc.freeze()
