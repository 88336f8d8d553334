"""The query module alone (port 8018): `uvicorn entrypoints.query:app` or `python entrypoints/query.py`."""

from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(["query"], settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(("query",), settings), settings.log_level)
