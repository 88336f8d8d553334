"""The training module alone (port 8017): `uvicorn entrypoints.training:app` or `python entrypoints/training.py`."""

from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(["training"], settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(("training",), settings), settings.log_level)
