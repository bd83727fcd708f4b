"""Small shared tools of the test suite, imported as ``tests.helpers.<module>``.

- ``pages``: reading an HTML page as a member sees it (text, field errors, input
  values, the "Voir plus" link, coordinates that must not be written).
- ``browsers``: a test client of its own, logged in as a member.
- ``quartiers``: a square quartier (``add_quartier``; the ``make_quartier`` fixture of
  tests/conftest.py is the same in a test's app).
- ``mail``: an app's settings to send its e-mails to the ``smtp`` fixture's server, and
  the plain-text body of a received message.
- ``servers``: a free loopback port, and gunicorn started as deployed.
- ``crowds``: established members and the daily privacy job, for crowd-blurring.

Fixtures stay in tests/conftest.py; these are plain functions.
"""
