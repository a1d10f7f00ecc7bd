"""Registries by name: built-ins and add-ons register the same way, through entry points."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from civicpulse.errors import UnknownName

T = TypeVar("T")


class Registry(Generic[T]):
    """Named factories of one kind (stages, embedders, channels ...).

    Entries come from the entry-point group ``group`` (the package's own built-ins are listed there
    too) and from ``register`` calls; an unknown name raises ``UnknownName`` listing the known ones.
    """

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, Callable[..., T]] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that registers a factory under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self._entries[name] = factory
            return factory

        return decorate

    def _load(self) -> None:
        if self._loaded:
            return
        for entry in entry_points(group=self.group):
            self._entries.setdefault(entry.name, entry.load())
        self._loaded = True

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._load()
        return sorted(self._entries)

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name``."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UnknownName(f"unknown {self.kind} {name!r}; known: {known}") from None
