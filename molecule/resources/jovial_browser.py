"""Headless Chromium for the hub tests: an astronomer's login in a real browser.

Shared by the Molecule `jupyterhub` scenario (the systemd hub behind the VIP) and the lab's
hubs on Kubernetes (tests/lab, `make lab-check`). Debian's chromium, driven by Debian's
chromium-driver through selenium, opens the hub's URL with TLS verified against the site CA
only (a throwaway NSS database in a temporary HOME trusts it; nothing is ignored). A hub is
named by its URL prefix (``https://<VIP>`` for a hub at ``/``, ``https://<VIP>/science`` for a
hub under ``/science/``). Screenshots and the page source go to ``shots``, on failure and of
what the tests choose to keep.
"""

from __future__ import annotations

import contextlib
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

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _nss_home(home: Path, ca: Path) -> None:
    """A new NSS database under home/.pki/nssdb (where Chromium on Linux looks) that trusts
    the site CA for TLS servers, and nothing else added."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    for argv in (
        ["certutil", "-N", "-d", f"sql:{db}", "--empty-password"],
        ["certutil", "-A", "-d", f"sql:{db}", "-n", "jovial-site-ca", "-t", "C,,", "-i", str(ca)],
    ):
        subprocess.run(argv, check=True, capture_output=True, text=True)


@contextmanager
def chromium(ca: Path) -> Iterator[WebDriver]:
    """A headless Chromium that trusts ``ca`` only."""
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
        _nss_home(home, ca)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless",
            # The test client runs as root here (CI machine, lab host), where Chromium refuses
            # to start with its sandbox. Acceptable for this throwaway test browser only; it
            # visits nothing but the platform's own hubs.
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
        # Keep the console's messages for screenshot_on_failure.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER, env=env))
        driver.set_page_load_timeout(120)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def save(driver: WebDriver, shots: Path, name: str) -> Path:
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / f"{name}.png"
    driver.save_screenshot(str(shot))
    (shots / f"{name}.html").write_text(driver.page_source)
    return shot


@contextmanager
def screenshot_on_failure(driver: WebDriver, shots: Path, name: str) -> Iterator[None]:
    try:
        yield
    except (AssertionError, WebDriverException, pytest.fail.Exception):
        shot = save(driver, shots, f"{name}-failure")
        print(f"browser at {driver.current_url!r}; screenshot {shot}")
        # What the page's JavaScript said (failed requests, plugin activation errors).
        for entry in driver.get_log("browser")[-40:]:
            print(f"console {entry.get('level')}: {entry.get('message', '')[:500]}")
        raise


def wait(driver: WebDriver, timeout: float, condition, what: str):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.5).until(condition)
    except TimeoutException:
        pytest.fail(f"{what} not seen within {timeout:.0f} s; browser at {driver.current_url!r}")


def submit_login(driver: WebDriver, hub: str, user: str, password: str) -> None:
    """Open the hub as a user would, check its login page rendered over verified TLS, fill
    the form and submit it."""
    driver.delete_all_cookies()
    driver.get(f"{hub}/")
    wait(driver, 60, ec.visibility_of_element_located((By.ID, "username_input")), "login form")
    assert driver.current_url.startswith(f"{hub}/hub/login"), driver.current_url
    # An invalid certificate would have given Chromium's interstitial instead of the form.
    assert driver.execute_script("return window.isSecureContext && location.protocol") == "https:"
    driver.find_element(By.ID, "username_input").send_keys(user)
    driver.find_element(By.ID, "password_input").send_keys(password)
    driver.find_element(By.ID, "login_submit").click()


def login_error(driver: WebDriver) -> str:
    """The hub's login error shown in the page."""
    error = wait(
        driver, 60, ec.visibility_of_element_located((By.CLASS_NAME, "login_error")), "login error"
    )
    return error.text


def api_status(driver: WebDriver, hub: str, user: str, with_xsrf: bool) -> int | str:
    """HTTP status of GET <hub>/user/<user>/api/status fetched by the page's own JavaScript,
    with the _xsrf cookie echoed in X-XSRFToken (as JupyterLab sends it) or without."""
    path = f"{hub.split('://', 1)[1].partition('/')[2].rstrip('/')}"
    prefix = f"/{path}" if path else ""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const m = document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/);"
        "const headers = arguments[0] && m ? {'X-XSRFToken': decodeURIComponent(m[1])} : {};"
        "if (arguments[0] && !m) { done('no _xsrf cookie'); return; }"
        f"fetch('{prefix}/user/{user}/api/status', {{headers}})"
        ".then(r => done(r.status), e => done(String(e)));",
        with_xsrf,
    )


def lands_in_jupyterlab(driver: WebDriver, hub: str, user: str, shots: Path, name: str) -> None:
    """After a login: the hub spawns the server (spawn-pending page) and sends the browser on
    to JupyterLab, whose shell and launcher its JavaScript renders (not just an HTML page). A
    hub with server sizes (profiles) first shows its spawn form: the user starts the size it
    preselects."""
    lab = f"{hub}/user/{user}/lab"
    forms = wait(
        driver,
        120,
        lambda d: d.current_url.startswith(lab) or d.find_elements(By.ID, "spawn_form"),
        f"the spawn form or a redirect to {lab}",
    )
    if forms is not True:
        save(driver, shots, f"{name}-spawn-form")
        forms[0].find_element(By.CSS_SELECTOR, "[type=submit]").click()
    wait(driver, 240, lambda d: d.current_url.startswith(lab), f"redirect to {lab}")
    wait(driver, 120, ec.presence_of_element_located((By.ID, "jp-main-dock-panel")), "lab")
    wait(driver, 120, ec.visibility_of_element_located((By.CLASS_NAME, "jp-Launcher")), "launcher")
    assert "JupyterLab" in driver.title
    save(driver, shots, name)


def stop_my_server(driver: WebDriver, hub: str) -> None:
    """Stop the user's server through the hub's own home page.

    The button is in the HTML before the page's JavaScript (require.js, then home.js) binds
    its handler: a click that comes first does nothing (seen once under load: the hub never
    got the request). So the user's click is repeated until the button goes, as a person
    would click again."""
    driver.get(f"{hub}/hub/home")
    wait(driver, 60, ec.element_to_be_clickable((By.ID, "stop")), "Stop My Server button")
    gone = ec.invisibility_of_element_located((By.ID, "stop"))
    for _ in range(8):
        # Hidden or replaced meanwhile (WebDriverException): the stop is under way.
        with contextlib.suppress(WebDriverException):
            driver.find_element(By.ID, "stop").click()
        try:
            WebDriverWait(driver, 15, poll_frequency=0.5).until(gone)
            return
        except TimeoutException:
            continue
    pytest.fail(f"server not stopped within 120 s; browser at {driver.current_url!r}")
