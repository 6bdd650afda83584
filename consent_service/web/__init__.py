"""HTTP helpers every surface shares: request ids, the client's address and region, JSON bodies,
and the one origin and CORS policy. Blueprints import these, never each other.
"""
