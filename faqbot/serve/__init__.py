"""The web service: Flask app and API, admin pages and re-index jobs, limits, OpenAPI, gunicorn."""
