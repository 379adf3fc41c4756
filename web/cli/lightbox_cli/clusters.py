"""Near-duplicates as the user sees them: groups that share a photo are one cluster.

The API tells each near pair once, under the first of the two in id order, so a photo near
two others that are not near each other comes in two groups; joined (union-find), every photo
is in one cluster at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Json = dict[str, Any]


def clusters(groups: Iterable[Json]) -> list[list[Json]]:
    """The assets of joined groups, each with ``nearest``: the fewest bits from it to another
    of its cluster. Clusters come in the order their first asset was seen, assets likewise."""
    parent: dict[str, str] = {}
    assets: dict[str, Json] = {}  # in the order first seen
    nearest: dict[str, int] = {}
    seen: dict[str, int] = {}

    def root(asset_id: str) -> str:
        while parent[asset_id] != asset_id:
            parent[asset_id] = parent[parent[asset_id]]  # halve the path as it is walked
            asset_id = parent[asset_id]
        return asset_id

    for group in groups:
        first = group["asset"]
        for member in (first, *(near["asset"] for near in group["similar"])):
            if member["asset_id"] not in assets:
                parent[member["asset_id"]] = member["asset_id"]
                seen[member["asset_id"]] = len(seen)
                assets[member["asset_id"]] = member
        for near in group["similar"]:
            for asset_id in (first["asset_id"], near["asset"]["asset_id"]):
                nearest[asset_id] = min(nearest.get(asset_id, near["distance"]),
                                        near["distance"])
            # The root is a cluster's first asset: clusters keep the order they were seen in.
            low, high = sorted((root(first["asset_id"]), root(near["asset"]["asset_id"])),
                               key=seen.__getitem__)
            parent[high] = low
    joined: dict[str, list[Json]] = {}
    for asset_id, asset in assets.items():
        joined.setdefault(root(asset_id), []).append({**asset, "nearest": nearest[asset_id]})
    return list(joined.values())
