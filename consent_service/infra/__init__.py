"""Plumbing every domain package may use and none owns: database behaviour (time limits and
the one commit-or-roll-back), per-process caches, rate limits, server-side session records,
receipt signing, timed tokens, the PII vault, coarse network data, what an IP address reaches
(the SSRF guard), the audit log, and the one way to format times and build public URLs.
Nothing here knows a business rule.
"""
