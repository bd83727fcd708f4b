"""What every post type shares: where it is shown, who sees it, expiry, pagination."""
