"""Every module in one process on one port: `uvicorn entrypoints.all:app` or `python entrypoints/all.py`."""

from homeiq_ai.app import ALL
from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(ALL, settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(ALL, settings), settings.log_level)
