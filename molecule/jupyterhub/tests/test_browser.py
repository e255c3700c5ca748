"""An astronomer's login in a real browser: headless Chromium through the front door.

Chromium (molecule/resources/jovial_browser.py) opens https://<VIP>/ with TLS verified
against the scenario's site CA only, fills the hub's login form with an LDAP account and
follows the hub to the user's JupyterLab, which must render. A wrong password must show the
hub's login error in the page. Screenshots (and the page source) go to
<ephemeral dir>/screenshots/, on failure and of the JupyterLab the user lands on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from jovial_browser import (
    api_status,
    chromium,
    lands_in_jupyterlab,
    login_error,
    screenshot_on_failure,
    stop_my_server,
    submit_login,
)
from selenium.webdriver.remote.webdriver import WebDriver

VIP = "10.78.5.100"
HUB = f"https://{VIP}"
EPH = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
SHOTS = EPH / "screenshots"
# bruno: test_hub.py drives ada's server (restart drill, accounting); this test starts and
# stops bruno's, so the two files never step on each other.
USER = "bruno"


def _password(user: str) -> str:
    return (EPH / "secrets" / f"ldap_password_{user}").read_text().strip()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium(EPH / "pki" / "ca.crt") as driver:
        yield driver


def test_wrong_password_shows_the_login_error(browser):
    with screenshot_on_failure(browser, SHOTS, "wrong-password"):
        submit_login(browser, HUB, USER, "not-" + _password(USER))
        assert "Invalid username or password" in login_error(browser)
        assert browser.current_url.startswith(f"{HUB}/hub/login")
        assert browser.get_cookie("jupyterhub-session-id") is None


def test_login_spawns_and_lands_in_jupyterlab(browser):
    with screenshot_on_failure(browser, SHOTS, "login"):
        submit_login(browser, HUB, USER, _password(USER))
        lands_in_jupyterlab(browser, HUB, USER, SHOTS, "jupyterlab")
        # The server's API with the browser's session: refused without the XSRF token (a
        # page that is not the lab cannot use the session), answered with it.
        assert api_status(browser, HUB, USER, with_xsrf=False) == 403
        assert api_status(browser, HUB, USER, with_xsrf=True) == 200


def test_stop_my_server_from_the_hub_page(browser):
    # Leave the scenario as we found it (bruno without a server), through the hub's own UI.
    with screenshot_on_failure(browser, SHOTS, "stop"):
        stop_my_server(browser, HUB)
