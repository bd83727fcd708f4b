"""The home page (a welcome, or the timeline) and the neighbours within my radius, by
skill."""
