from peuplade.exchanges import bp  # noqa: F401
