"""An astronomer's login in a real browser: headless Chromium through the front door.

Debian's chromium, driven by Debian's chromium-driver through selenium, opens
https://<VIP>/ with TLS verified against the scenario's site CA only (a throwaway NSS
database in a temporary HOME trusts it; nothing is ignored), fills the hub's login form with
an LDAP account and follows the hub to the user's JupyterLab, which must render. A wrong
password must show the hub's login error in the page. Screenshots (and the page source) go
to <ephemeral dir>/screenshots/, on failure and of the JupyterLab the user lands on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

VIP = "10.78.5.100"
BASE = f"https://{VIP}"
EPH = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
CA = EPH / "pki" / "ca.crt"
SHOTS = EPH / "screenshots"
# bruno: test_hub.py drives ada's server (restart drill, accounting); this test starts and
# stops bruno's, so the two files never step on each other.
USER = "bruno"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _password(user: str) -> str:
    return (EPH / "secrets" / f"ldap_password_{user}").read_text().strip()


def _nss_home(home: Path) -> None:
    """A new NSS database under home/.pki/nssdb (where Chromium on Linux looks) that trusts
    the scenario's CA for TLS servers, and nothing else added."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    for argv in (
        ["certutil", "-N", "-d", f"sql:{db}", "--empty-password"],
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "jovial-molecule-ca",
            "-t",
            "C,,",
            "-i",
            str(CA),
        ],
    ):
        subprocess.run(argv, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    missing = [
        p
        for p in (CHROMIUM, CHROMEDRIVER, shutil.which("certutil"))
        if not p or not Path(p).exists()
    ]
    if missing:
        pytest.fail(
            f"headless browser test needs {CHROMIUM}, {CHROMEDRIVER} and certutil; missing "
            f"{missing}: run 'make deps' (scripts/bootstrap.sh installs chromium, "
            "chromium-driver, libnss3-tools)"
        )
    home = Path(tempfile.mkdtemp(prefix="jovial-chromium-"))
    try:
        _nss_home(home)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless",
            # The test client runs as root here (CI machine, lab host), where Chromium refuses
            # to start with its sandbox. Acceptable for this throwaway test browser only; it
            # visits nothing but the scenario's own hub.
            "--no-sandbox",
            f"--user-data-dir={home / 'profile'}",
            "--window-size=1366,900",
            "--no-first-run",
            "--disable-extensions",
        ):
            options.add_argument(arg)
        # HOME decides which NSS database Chromium reads (the one trusting the site CA only);
        # no proxy variables: the VIP is reached directly.
        env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        # Keep the console's messages for _screenshot_on_failure.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER, env=env))
        driver.set_page_load_timeout(120)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _save(driver: WebDriver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{name}.png"
    driver.save_screenshot(str(shot))
    (SHOTS / f"{name}.html").write_text(driver.page_source)
    return shot


@contextmanager
def _screenshot_on_failure(driver: WebDriver, name: str) -> Iterator[None]:
    try:
        yield
    except (AssertionError, WebDriverException, pytest.fail.Exception):
        shot = _save(driver, f"{name}-failure")
        print(f"browser at {driver.current_url!r}; screenshot {shot}")
        # What the page's JavaScript said (failed requests, plugin activation errors).
        for entry in driver.get_log("browser")[-40:]:
            print(f"console {entry.get('level')}: {entry.get('message', '')[:500]}")
        raise


def _wait(driver: WebDriver, timeout: float, condition, what: str):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.5).until(condition)
    except TimeoutException:
        pytest.fail(f"{what} not seen within {timeout:.0f} s; browser at {driver.current_url!r}")


def _submit_login(driver: WebDriver, user: str, password: str) -> None:
    """Open the front door as a user would, check the hub's login page rendered over
    verified TLS, fill the form and submit it."""
    driver.delete_all_cookies()
    driver.get(f"{BASE}/")
    _wait(driver, 60, ec.visibility_of_element_located((By.ID, "username_input")), "login form")
    assert driver.current_url.startswith(f"{BASE}/hub/login"), driver.current_url
    # An invalid certificate would have given Chromium's interstitial instead of the form.
    assert driver.execute_script("return window.isSecureContext && location.protocol") == "https:"
    driver.find_element(By.ID, "username_input").send_keys(user)
    driver.find_element(By.ID, "password_input").send_keys(password)
    driver.find_element(By.ID, "login_submit").click()


def _api_status(driver: WebDriver, with_xsrf: bool) -> int | str:
    """HTTP status of GET /user/<USER>/api/status fetched by the page's own JavaScript."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const m = document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/);"
        "const headers = arguments[0] && m ? {'X-XSRFToken': decodeURIComponent(m[1])} : {};"
        "if (arguments[0] && !m) { done('no _xsrf cookie'); return; }"
        f"fetch('/user/{USER}/api/status', {{headers}})"
        ".then(r => done(r.status), e => done(String(e)));",
        with_xsrf,
    )


def test_wrong_password_shows_the_login_error(browser):
    with _screenshot_on_failure(browser, "wrong-password"):
        _submit_login(browser, USER, "not-" + _password(USER))
        error = _wait(
            browser,
            60,
            ec.visibility_of_element_located((By.CLASS_NAME, "login_error")),
            "login error",
        )
        assert "Invalid username or password" in error.text
        assert browser.current_url.startswith(f"{BASE}/hub/login")
        assert browser.get_cookie("jupyterhub-session-id") is None


def test_login_spawns_and_lands_in_jupyterlab(browser):
    lab = f"{BASE}/user/{USER}/lab"
    with _screenshot_on_failure(browser, "login"):
        _submit_login(browser, USER, _password(USER))
        # The hub spawns the server (spawn-pending page) and sends the browser on to it.
        _wait(browser, 240, lambda d: d.current_url.startswith(lab), f"redirect to {lab}")
        # JupyterLab's shell and launcher rendered by its JavaScript, not just an HTML page.
        _wait(browser, 120, ec.presence_of_element_located((By.ID, "jp-main-dock-panel")), "lab")
        _wait(
            browser,
            120,
            ec.visibility_of_element_located((By.CLASS_NAME, "jp-Launcher")),
            "launcher",
        )
        assert "JupyterLab" in browser.title
        _save(browser, "jupyterlab")
        # The server's API with the browser's session: refused without the XSRF token (a
        # page that is not the lab cannot use the session), answered with it, the way
        # JupyterLab sends it (the _xsrf cookie echoed in X-XSRFToken).
        assert _api_status(browser, with_xsrf=False) == 403
        assert _api_status(browser, with_xsrf=True) == 200


def test_stop_my_server_from_the_hub_page(browser):
    # Leave the scenario as we found it (bruno without a server), through the hub's own UI.
    with _screenshot_on_failure(browser, "stop"):
        browser.get(f"{BASE}/hub/home")
        _wait(browser, 60, ec.element_to_be_clickable((By.ID, "stop")), "Stop My Server button")
        browser.find_element(By.ID, "stop").click()
        _wait(browser, 120, ec.invisibility_of_element_located((By.ID, "stop")), "server stopped")
