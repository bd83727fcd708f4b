"""The neighbourhood timeline: every kind of post near a member, newest first (HTML page, JSON API, query)."""
