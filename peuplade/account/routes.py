from peuplade.account import bp  # noqa: F401
