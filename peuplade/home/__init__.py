"""The pages that lead to all the others: "Publier" (one chooser for every kind of post)
and "Plus" (every page that is not in the five entries of the main navigation)."""
