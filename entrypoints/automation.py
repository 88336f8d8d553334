"""The automation module alone (port 8021): `uvicorn entrypoints.automation:app` or `python entrypoints/automation.py`."""

from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(["automation"], settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(("automation",), settings), settings.log_level)
