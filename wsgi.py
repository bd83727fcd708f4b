"""WSGI entry point: `gunicorn wsgi:app` (production), `FLASK_APP=wsgi flask run` (development)."""

from peuplade import create_app

app = create_app()
