"""Outings ("Sorties"): events at a public place near me, and who is going."""
