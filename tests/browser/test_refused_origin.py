"""A page whose origin the property does not list: the browser hides the service's answer
from it, so the widget's console message names the setting that would allow it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_refused_origin_tells_the_pages_console_which_setting_to_change(shop, live_server):
    visitor = shop(expect_errors=True)  # the refused request is logged by the browser
    origin = live_server.url.replace("127.0.0.1", "elsewhere.localhost")
    visitor.visit("?region=FR", origin=origin)
    with visitor.page.expect_console_message(
        lambda message: "not recorded" in message.text
    ) as logged:
        visitor.click("Accept all")
    assert logged.value.type == "warning"
    assert (
        f'add this page\'s origin {origin} to "Allowed origins" at '
        f"{live_server.url}/admin/properties/demo-shop"
    ) in logged.value.text
