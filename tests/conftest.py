"""Suite-wide settings.

In CI (``CI`` set in the environment) hypothesis runs derandomised: the same examples every
run, so a red build always means a change broke something, never a new random draw. Locally
each run explores new examples.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
