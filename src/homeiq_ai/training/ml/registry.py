"""The models folder: one directory per model type and version, the file, its checksum and metadata."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from threading import Lock
from typing import Any

__all__ = ["ModelFiles", "sha256_of"]


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ModelFiles:
    """Stores trained models under `root/<type>/<version>/` and loads them, caching what loaded.

    A file that is missing or does not match its recorded checksum makes the model unavailable with
    the reason; loading failures never escape as anything but ValueError with a clear message.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = Lock()

    def work_dir(self, run_id: str) -> Path:
        """A fresh scratch folder for a run's files (removed once the run has ended)."""
        path = self.root / ".work" / run_id
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def discard(self, run_id: str) -> None:
        """Remove a run's scratch folder."""
        shutil.rmtree(self.root / ".work" / run_id, ignore_errors=True)

    def store(self, source: Path, model_type: str, version: str, metadata: dict[str, Any]) -> tuple[Path, str]:
        """Move a trained file (or folder) into place, write metadata.json beside it.

        Returns:
            (path of the stored file, its sha256).
        """
        folder = self.root / model_type / version
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        target = folder / source.name
        shutil.move(str(source), target)
        digest = sha256_of(target)
        (folder / "metadata.json").write_text(
            json.dumps({**metadata, "file": target.name, "sha256": digest}, indent=2, sort_keys=True, default=str)
        )
        return target, digest

    @staticmethod
    def problem(path: str | None, sha256: str | None) -> str | None:
        """Why a stored model cannot be used (missing file, checksum mismatch), or None when it can."""
        if not path:
            return "the model has no file"
        file = Path(path)
        if not file.is_file():
            return f"model file {file} is missing"
        if sha256 and sha256_of(file) != sha256:
            return f"model file {file} is corrupt: its checksum does not match the one recorded"
        return None

    def load(self, path: str, sha256: str | None, loader: Callable[[Path], Any]) -> Any:
        """The loaded model of a file, cached by (path, checksum).

        Raises:
            ValueError: the file is missing, corrupt, or the loader cannot read it.
        """
        key = (path, sha256 or "")
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        reason = self.problem(path, sha256)
        if reason is not None:
            raise ValueError(reason)
        try:
            loaded = loader(Path(path))
        except Exception as exc:  # any reader failure is the model's problem, never the process's
            raise ValueError(f"model file {path} cannot be read: {type(exc).__name__}: {exc}") from None
        with self._lock:
            self._cache[key] = loaded
        return loaded
