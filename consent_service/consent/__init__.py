"""Consent as proof: signed, hash-chained receipts, the state projection of the latest choice,
verification of the whole log, the published signing keys (JWKS) and a visitor's current choice.
"""
