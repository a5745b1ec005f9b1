"""Secret keys of one installation: from a setting, a file a setting names, or a file made
once under the home.

Every process of one installation must use the same keys (pseudonyms must match across
processes; anchors must verify in any of them), so on a shared database they come from
settings, not from each process's home.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from bankml.core.errors import SettingsError

KEY_BYTES = 32


def installation_key(*, setting: str, value: SecretStr | None, file: Path | None,
                     default_file: Path) -> bytes:
    """The key `BANKML_<setting>` gives, else the file `BANKML_<setting>_FILE` names, else
    `default_file` (created with a random key on first use, readable by its owner alone)."""
    if value is not None:
        key, source = value.get_secret_value().encode("utf-8"), f"BANKML_{setting}"
    elif file is not None:
        source = f"BANKML_{setting}_FILE"
        if not file.is_file():
            raise SettingsError([(source, f"{file} does not exist")])
        key = file.read_bytes()
    else:
        source = str(default_file)
        if not default_file.exists():
            _create_key(default_file)
        key = default_file.read_bytes()
    if len(key) < KEY_BYTES:
        raise SettingsError([(source, f"holds a key shorter than {KEY_BYTES} bytes; make one "
                              "with: python -c 'import secrets; print(secrets.token_hex(32))'")])
    return key


def _create_key(path: Path) -> None:
    """Write a new random key at `path`, unless another process gets there first.

    The key is written and synced under a private name, then linked into place: a link
    fails if the name exists, so a reader never sees a half-written key and two processes
    opening a new home never end up with two keys.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it: use theirs
            os.link(draft, path)
    finally:
        draft.unlink()
