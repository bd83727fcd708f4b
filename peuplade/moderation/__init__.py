"""Trust and safety: reports, the moderation queue and log, blocking, `flask make-admin`."""
