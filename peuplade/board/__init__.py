"""The lobby board ("affiche pour le hall"): a one-page printout of the open requests
and upcoming outings around a member's building, for the neighbours who are not online."""
