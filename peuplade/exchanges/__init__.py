"""Exchanges: requests and offers of help near me, the answers, the outcome and thanks."""
