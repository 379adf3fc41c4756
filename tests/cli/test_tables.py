"""How a table fits a width: columns in order of need, the file name cut in its middle."""

from __future__ import annotations

from rich.cells import cell_len

from lightbox_cli.ids import short_ids
from lightbox_cli.tables import fit, shorten


def test_a_long_name_keeps_its_start_and_its_end() -> None:
    assert shorten("IMG_0001.jpg", 12) == "IMG_0001.jpg"
    assert shorten("PXL_20240531_140012345.jpg", 15) == "PXL_202…345.jpg"
    # Wide letters take two columns each, and are never cut in half.
    cut = shorten("夏の湖の夕暮れの写真.jpg", 12)
    assert cut == "夏の湖….jpg" and cell_len(cut) <= 12


def test_columns_join_in_order_of_need_while_the_name_keeps_its_room() -> None:
    columns = {"ID": ["0a6f3b1e"], "File": ["a" * 40 + ".jpg"], "Size": ["1.2 MB"],
               "Taken": ["2024-05-31 14:00"], "Uploaded": ["2024-06-01 09:30"]}

    def headings(width: int, wanted: list[str]) -> list[str]:
        shown = fit(columns, width, flexible="File", needed=["ID"], wanted=wanted, flexible_room=20)
        assert sum(map(cell_len, (cells[0] for cells in shown.values()))) + 2 * (len(shown) - 1) <= width
        return list(shown)

    assert headings(60, ["Size", "Uploaded", "Taken"]) == ["ID", "File", "Size", "Uploaded"]
    assert headings(60, ["Size", "Taken", "Uploaded"]) == ["ID", "File", "Size", "Taken"]
    assert headings(90, ["Size", "Taken", "Uploaded"]) == ["ID", "File", "Size", "Taken", "Uploaded"]
    assert headings(40, ["Size", "Taken", "Uploaded"]) == ["ID", "File", "Size"]


def test_short_ids_are_prefixes_of_the_whole_ids_long_enough_to_differ() -> None:
    one, other = "0a6f3b1e-5000-4000-8000-000000000000", "0a6f3b1e-5001-4000-8000-000000000000"
    assert short_ids([one]) == {one: "0a6f3b1e"}
    assert short_ids([one, other]) == {one: "0a6f3b1e-5000", other: "0a6f3b1e-5001"}
