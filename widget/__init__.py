"""The embeddable consent widget (ARCHITECTURE §8): its script and stylesheet under ``/v1/``,
and a demo shop page under ``/demo/`` that shows the whole flow."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "widget",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/demo/static",
)

from widget import demo  # noqa: E402, F401
from widget import serve  # noqa: E402, F401
