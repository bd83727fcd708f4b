"""Signing up, confirming the e-mail address, logging in and out, the forgotten password,
and the server-side sessions."""
