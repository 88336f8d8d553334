"""The pattern module alone on port 8016 (PORT overrides): `uvicorn entrypoints.pattern:app`."""

from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(["pattern"], settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(("pattern",), settings), settings.log_level)
