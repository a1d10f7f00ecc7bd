"""Write an output file whole or not at all.

``atomic_output(path)`` hands out a fresh temporary file next to ``path`` (same directory, so the
final rename stays on one file system). When the ``with`` block ends normally the temporary file
replaces ``path`` in one ``os.replace``; when it raises (or is interrupted), the temporary file is
removed and whatever was at ``path`` before stays untouched. A shared module: it imports no layer.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a new, empty temporary path beside ``path``; move it onto ``path`` only on success.

    The temporary file is created with the usual permissions (``0o666`` less the umask) and its
    name starts with a dot and ends in ``.part``. Write it by path or open it with mode ``"w"``.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
