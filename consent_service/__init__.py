"""Consent and cookie management service for online shops."""

from consent_service.app import create_app

__all__ = ["create_app"]
