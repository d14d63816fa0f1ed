"""Headless Chromium (Debian's chromium and chromium-driver) driven by selenium against the live server.

No browser is downloaded at run time: scripts/test.py installs the Debian packages when they are
missing and it can (root, apt-get). The tests skip only when no browser could be installed, and
the skip says why. Every page visited is saved as a screenshot in $NEXUS_SCREENSHOTS, by default
/tmp/nexus-browser-screenshots/ (outside the repository): look at them.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .pages import HEIGHT, SCREENSHOTS, WIDTH, Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Set by scripts/test.py when it could not install the browser.
UNAVAILABLE_VARIABLE = "NEXUS_BROWSER_UNAVAILABLE"


def unavailable_reason() -> str | None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return None
    return "no headless browser: " + os.environ.get(
        UNAVAILABLE_VARIABLE,
        f"{CHROMIUM} or {CHROMEDRIVER} is missing (scripts/test.py installs Debian's chromium and "
        "chromium-driver with apt-get when it runs as root)",
    )


@pytest.fixture(scope="session")
def driver():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)  # the -ra summary prints it
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="nexus-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     # The machine's network is closed: no background calls home, no update checks.
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-default-apps", "--disable-extensions", f"--window-size={WIDTH},{HEIGHT}",
                     f"--user-data-dir={profile}", "--force-device-scale-factor=1", "--lang=en-US"):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(transactional_db, live_server, driver):
    """A logged-out browser on the live server, whose database each test fills and the next one empties.

    The database fixture comes first: set up before the live server, it is torn down after it, once
    the server has closed its connections.
    """
    driver.delete_all_cookies()
    driver.set_window_size(WIDTH, HEIGHT)
    driver.get_log("browser")  # forget what the previous test left
    return Browser(driver, live_server.url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test leaves what the browser showed: FAILED-<test>.png and .html."""
    outcome = yield
    report = outcome.get_result()
    browser = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and browser is not None:
        browser.driver.save_screenshot(str(SCREENSHOTS / f"FAILED-{item.name}.png"))
        (SCREENSHOTS / f"FAILED-{item.name}.html").write_text(browser.driver.page_source)
