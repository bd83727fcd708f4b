"""Notifications: the bell, email notifications, digests and "still needed?"."""
