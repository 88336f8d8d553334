"""The automation module alone on port 8021 (PORT overrides): `uvicorn entrypoints.automation:app`."""

from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve

settings = load_settings_or_exit()
app = boot(["automation", "web"], settings)

if __name__ == "__main__":
    serve(app, settings.host, default_port(("automation",), settings), settings.log_level)
