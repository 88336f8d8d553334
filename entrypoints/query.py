"""The query module alone on port 8018 (PORT overrides): `uvicorn entrypoints.query:app`."""

from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(["query"], settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(("query",), settings), settings.log_level)
