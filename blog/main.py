"""What `uvicorn blog.main:app` serves: the factory's product, configured from the environment."""

from blog.app import create_app

app = create_app()
