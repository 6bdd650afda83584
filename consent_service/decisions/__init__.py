"""The decision rule (may this subject's data be processed for this purpose?), the look-ups that
load its facts for one subject or ten thousand, and the access log of every look-up.
"""
