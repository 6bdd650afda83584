"""Plumbing every domain package may use and none owns: database behaviour, per-process caches,
rate limits, receipt signing, the PII vault, coarse network data, the audit log, and the one
way to format times and build public URLs. Nothing here knows a business rule.
"""
