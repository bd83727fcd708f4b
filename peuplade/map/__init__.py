"""The neighbourhood map ("Carte"): my radius, the posts around me at their public
positions, and the same posts as a list (the list works without JavaScript or tiles)."""
