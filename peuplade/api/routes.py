from peuplade.api import bp  # noqa: F401
