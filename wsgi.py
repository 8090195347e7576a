"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi``."""

import gc

from inventory import create_app

app = create_app()
# Everything built at start-up lives as long as the worker: keep it out of the cyclic
# collector's passes, which otherwise show up as slow requests.
gc.freeze()
