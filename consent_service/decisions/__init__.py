"""The decision rule (may this subject's data be processed for this purpose?), the look-ups that
load its facts for one subject or ten thousand, the access log of every look-up, and
``answer.answer_lookup``, the integrations' look-up use case that ties them together.
"""
