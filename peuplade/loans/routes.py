from peuplade.loans import bp  # noqa: F401
