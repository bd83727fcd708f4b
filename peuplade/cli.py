"""flask commands."""

from flask import Flask


def register_cli(app: Flask) -> None:
    pass
