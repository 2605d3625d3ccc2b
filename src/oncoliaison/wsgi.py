import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncoliaison.settings")
application = get_wsgi_application()

# What start-up loaded (Django, the app, the FHIR model classes: ~100,000 objects) lives as long as the
# process.  Move it out of the garbage collector's reach, so that a full collection triggered during a
# request does not walk it (55-65 ms each time on the 2-core host of docs/benchmarks.md); with a
# pre-loading server (gunicorn --preload) the frozen pages also stay shared between workers.
gc.freeze()
