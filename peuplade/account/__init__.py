"""Members: my profile, password, home and settings, other members' public profiles, and
what protects homes (crowd-blurred public positions, limits that bind a person)."""
