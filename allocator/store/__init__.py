"""Where cases and runs live: GeoPackage + run folders (default) or PostGIS (shared).

The shared store is PostgreSQL + PostGIS, addressed by a ``postgresql://``
URL (``?case=NAME`` picks the case). Access is decided by the database —
row-level security and grants (:mod:`allocator.store.schema`) — and the
allocator signs in with the person's own database role.
"""

from __future__ import annotations

from allocator.store.url import ENV_STORE, StoreUrl, is_store_url

__all__ = ["ENV_STORE", "StoreUrl", "is_store_url"]
