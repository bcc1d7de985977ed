"""Headless Chromium for the browser tests: Debian's binary (scripts/setup --dev installs it),
driven by the pinned Playwright, never a downloaded browser."""

from __future__ import annotations

CHROMIUM = "/usr/lib/chromium/chromium"  # the binary, not the /usr/bin wrapper
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def launch(playwright):
    """A headless Chromium browser of ``sync_playwright()``'s ``playwright``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
