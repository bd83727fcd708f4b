"""Lending objects: the shelf near me, my objects and their calendar, and the loans."""
