"""``with`` and ``async with`` for objects with ``close()`` and ``aclose()`` (httpx's names)."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["Closing"]

C = TypeVar("C", bound="Closing")


class Closing:
    """Mixin: ``with obj:`` calls ``close()``; ``async with obj:`` calls ``aclose()`` too.

    The async exit closes both faces, since one object may have served both (a CLI
    that verified with the sync face inside an event loop's program).
    """

    def close(self) -> None:
        """Release synchronous resources (threads, sync HTTP clients)."""

    async def aclose(self) -> None:
        """Release asynchronous resources (async HTTP clients)."""

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()
        self.close()
