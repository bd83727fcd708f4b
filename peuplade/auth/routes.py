from peuplade.auth import bp  # noqa: F401
