"""Quality gates: Great Expectations 1.x suites (``suites.py``) run as blocking asset checks
(``checks.py``) on every staged table and mart."""
