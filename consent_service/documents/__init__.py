"""Policy documents in versions (draft, publish, never change once published), the diff between
two versions for people, and safe rendering of their Markdown.
"""
