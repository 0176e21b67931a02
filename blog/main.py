"""What `uvicorn blog.main:app` serves: the factory's product, configured from the environment."""

import sys

from blog.app import create_app
from blog.config import UnsafeSettings

try:
    app = create_app()
except UnsafeSettings as error:
    # One line naming the setting, not a traceback, and no server started.
    print(f"blog: refusing to start: {error}", file=sys.stderr)
    raise SystemExit(1) from None
