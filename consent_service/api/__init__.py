"""The public and integration HTTP API: parse, call one domain function, serialize."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)

from consent_service.api import banner  # noqa: E402, F401
from consent_service.api import consents  # noqa: E402, F401
from consent_service.api import decisions  # noqa: E402, F401
from consent_service.api import health  # noqa: E402, F401
from consent_service.api import keys  # noqa: E402, F401
from consent_service.api import openapi  # noqa: E402, F401
from consent_service.api import policies  # noqa: E402, F401
from consent_service.api import problem_docs  # noqa: E402, F401
from consent_service.api import subjects  # noqa: E402, F401
from consent_service.api import visitor_choice  # noqa: E402, F401
from consent_service.api import webhooks  # noqa: E402, F401
