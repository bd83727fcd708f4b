"""Neighbourhood news ("Infos du quartier"): near me or for my whole quartier, with
comments; alerts are pinned on top."""
