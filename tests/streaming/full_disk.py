"""A full disk at the OS boundary, for the mixer's files: files opened for writing under `root`
(through pathlib, as the playlist writer and the recorder open theirs) write until the disk's
`capacity` is used up, then fail with ENOSPC as the kernel does, after writing what fitted."""

from __future__ import annotations

import errno
import os
import pathlib


class FullDisk:
    def __init__(self, root: pathlib.Path, capacity: int | None = None) -> None:
        self.root = root.resolve()
        self.capacity = capacity  # None: room for everything
        self.refusals = 0
        self.fills_at: str | None = None  # the disk fills when a file of this name is opened

    def fill_when_opening(self, name: str) -> None:
        """Fill the disk the moment a file whose name starts with `name` is opened for writing."""
        self.fills_at = name

    def used(self) -> int:
        return sum(path.stat().st_size for path in self.root.rglob("*") if path.is_file())

    def fill(self) -> None:
        """No more room from now on."""
        self.capacity = self.used()

    def make_room(self) -> None:
        self.capacity = None

    def install(self, monkeypatch) -> None:
        opened = pathlib.Path.open
        disk = self

        def open_on_disk(path, mode="r", *args, **kwargs):
            file = opened(path, mode, *args, **kwargs)
            if any(flag in mode for flag in "wax") and disk.root in pathlib.Path(path).resolve().parents:
                if disk.fills_at is not None and pathlib.Path(path).name.startswith(disk.fills_at):
                    disk.fills_at = None
                    disk.fill()
                return _OnDisk(file, disk)
            return file

        monkeypatch.setattr(pathlib.Path, "open", open_on_disk)


class _OnDisk:
    """A file whose writes stop where the disk does."""

    def __init__(self, file, disk: FullDisk) -> None:
        self._file = file
        self._disk = disk

    def write(self, data) -> int:
        data = memoryview(data).cast("B")
        room = len(data) if self._disk.capacity is None else max(0, self._disk.capacity - self._disk.used())
        written = self._file.write(data[:room]) if room else 0
        if hasattr(self._file, "flush"):
            self._file.flush()  # what was written is on the disk now, as the kernel would count it
        if written < len(data):
            self._disk.refusals += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return written

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._file.close()
