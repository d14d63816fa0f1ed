"""A thin helper over selenium's driver: log in, find, click and wait, screenshot, and fail on any
error the page logged (a Content-Security-Policy violation, a missing asset, a script error)."""

import os
import tempfile
from pathlib import Path

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.factories import PASSWORD

# Outside the repository: a run leaves its pages where anyone can look at them, and nothing to commit.
SCREENSHOTS = Path(os.environ.get("NEXUS_SCREENSHOTS", Path(tempfile.gettempdir()) / "nexus-browser-screenshots"))
WIDTH, HEIGHT = 1400, 900
WAIT_SECONDS = 60  # generous: CI machines are shared and sometimes slow
# Set on the page before a click that leaves it; a new document does not have it.
MARK = "window.nxOldPage = true"
NEW_PAGE = "return window.nxOldPage === undefined && document.readyState === 'complete'"


class Browser:
    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url

    # navigation

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self.wait_for("body")

    def login(self, user) -> None:
        """Log in as ``user`` (a fresh session: whoever was logged in before is forgotten)."""
        self.open("/admin/login/")
        self.driver.delete_all_cookies()
        self.open("/admin/login/")
        self.type("#id_username", user.email)
        self.type("#id_password", PASSWORD)
        self.click_and_wait('input[type="submit"]', "#site-name")
        assert "/admin/login/" not in self.driver.current_url, "login failed"

    def wait_for(self, selector: str):
        return WebDriverWait(self.driver, WAIT_SECONDS).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def click_and_wait(self, selector: str, then: str, *, by: str = By.CSS_SELECTOR) -> None:
        """Click, wait until the next page is loaded and shows ``then``.

        No element is held across the page change (Chromium may answer for an element of the page being left
        that its node "does not belong to the document"): the page is marked by a script variable, and the
        next document is the one without the mark.
        """
        self.driver.execute_script(MARK)
        self.driver.find_element(by, selector).click()
        WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.execute_script(NEW_PAGE))
        self.wait_for(then)

    def click_link(self, text: str, then: str) -> None:
        self.click_and_wait(text, then, by=By.LINK_TEXT)

    # reading and typing

    def find(self, selector: str):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def shown(self, selector: str) -> int:
        """How many elements matching ``selector`` are shown (laid out: not hidden, nor inside something hidden)."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).filter(e => e.getClientRects().length).length",
            selector)

    def text(self, selector: str = "#content") -> str:
        return self.find(selector).text

    def type(self, selector: str, value: str) -> None:
        field = self.find(selector)
        field.clear()
        field.send_keys(value)

    def choose(self, selector: str, value: str) -> None:
        Select(self.find(selector)).select_by_value(value)

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    # evidence

    def screenshot(self, name: str, *, status: int | None = None) -> None:
        """The whole page at 1400 px wide, then a check that the page logged no error (but the page's own
        ``status`` when it is an error page on purpose)."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(WIDTH, max(HEIGHT, min(height, 6000)))
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        self.driver.set_window_size(WIDTH, HEIGHT)
        self.assert_no_console_errors(name, status=status)

    def assert_no_console_errors(self, where: str, *, status: int | None = None) -> None:
        expected = f"{self.driver.current_url} - Failed to load resource: the server responded with a status of {status} "
        errors = [entry["message"] for entry in self.driver.get_log("browser")
                  if entry["level"] == "SEVERE" and not (status and entry["message"].startswith(expected))]
        assert not errors, f"{where}: the page logged errors: {errors}"

    def assert_no_horizontal_scroll(self, where: str) -> None:
        """At 1400 px every column fits: neither the page nor a list's table scrolls sideways."""
        for selector in ("html", "#changelist .results"):
            for element in self.find_all(selector):
                overflow = self.driver.execute_script("return arguments[0].scrollWidth - arguments[0].clientWidth",
                                                      element)
                assert overflow <= 0, f"{where}: {selector} is {overflow}px wider than its box"
