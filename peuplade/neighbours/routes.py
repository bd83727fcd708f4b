from peuplade.neighbours import bp  # noqa: F401
