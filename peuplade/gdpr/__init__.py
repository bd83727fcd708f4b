"""GDPR rights: download my data, delete my account, and the privacy policy page."""
