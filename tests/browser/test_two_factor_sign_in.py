"""An agent turns on two-factor authentication in Settings → Security, signs in again with a code from
their app, and signs out another browser from the session list, whose console goes to the sign-in page.
Entry points: /console/settings/security/, /console/login/ (docs/console.md, "Signing in and security")."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import DEMO_LOGIN, sign_in

pytestmark = pytest.mark.browser


def test_an_agent_turns_on_two_factor_and_signs_in_with_a_code(stack, people, screenshot):
    laptop = people.new_page()
    sign_in(laptop)
    other_browser = people.new_page()
    sign_in(other_browser)

    laptop.get_by_role("link", name="Security").click()
    expect(laptop).to_have_url(re.compile(r"/console/settings/security/$"))
    expect(laptop.get_by_text("this device")).to_be_visible()
    laptop.get_by_role("link", name="Set up two-factor authentication").click()
    expect(laptop.locator(".qr-code svg")).to_be_visible()
    screenshot(laptop, "two-factor-setup")
    laptop.get_by_text("Can't scan it? Enter this key instead").click()
    secret = laptop.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    laptop.get_by_role("textbox", name="Code").fill(totp.now())
    laptop.get_by_role("button", name="Turn on").click()

    expect(laptop.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(laptop.locator(".recovery-codes li")).to_have_count(10)
    laptop.get_by_role("link", name="I saved them").click()
    expect(laptop.get_by_text("10 of 10 recovery codes left")).to_be_visible()
    screenshot(laptop, "settings-security")

    # The other browser is signed out from the list: its open console goes to the sign-in page.
    other_browser.goto("/console/")
    expect(other_browser.locator("#connection")).to_have_text("Live")
    laptop.get_by_role("button", name="Sign out everywhere else").click()
    expect(laptop.get_by_role("status")).to_contain_text("Signed out everywhere else")
    expect(other_browser).to_have_url(re.compile(r"/console/login/"))

    # Signing in again now takes the password, then a code (a newer one: each code works once).
    username, password = DEMO_LOGIN
    other_browser.get_by_label("Username").fill(username)
    other_browser.get_by_label("Password").fill(password)
    other_browser.get_by_role("button", name="Sign in").click()
    expect(other_browser).to_have_url(re.compile(r"/console/login/code/$"))
    screenshot(other_browser, "console-login-code")
    other_browser.get_by_role("textbox", name="Code").fill(totp.at(time.time() + 30))
    other_browser.get_by_role("button", name="Verify").click()
    expect(other_browser).to_have_url(re.compile(r"/console/$"))
    expect(other_browser.locator("#connection")).to_have_text("Live")
