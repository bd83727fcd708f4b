"""WSGI entry point: `gunicorn wsgi:app` (production), `FLASK_APP=wsgi flask run` (development:
its start-up ends with the address to open and the demo login)."""

from peuplade import create_app
from peuplade.demo.cli import announce_when_serving

app = create_app()
announce_when_serving(app)
