"""Real engines: Chromium over CDP and Firefox over WebDriver BiDi, running the rows in a page."""
