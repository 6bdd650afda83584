"""Plumbing every domain package may use and none owns: database behaviour (and the one
commit-or-roll-back), per-process caches, rate limits, server-side session records, receipt
signing, timed tokens, the PII vault, coarse network data, the audit log, and the one way to
format times and build public URLs. Nothing here knows a business rule.
"""
