"""The training module alone on port 8017 (PORT overrides): `uvicorn entrypoints.training:app`."""

from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(["training"], settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(("training",), settings), settings.log_level)
