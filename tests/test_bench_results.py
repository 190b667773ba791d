"""benchmarks/_results.py: each benchmark rewrites only its own section of RESULTS.md."""
import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_results", Path(__file__).resolve().parents[1] / "benchmarks" / "_results.py")
results = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(results)


def test_section_is_replaced_in_place_and_others_kept(tmp_path):
    path = tmp_path / "RESULTS.md"
    start, end = results.markers("a")
    results.write_block(f"{start}\nFIRST\n{end}", start, end, path)
    s2, e2 = results.markers("b")
    results.write_block(f"{s2}\nother\n{e2}", s2, e2, path)
    results.write_block(f"{start}\nSECOND\n{end}", start, end, path)
    text = path.read_text()
    assert "FIRST" not in text and text.count("SECOND") == 1 and "other" in text
    assert text.index("SECOND") < text.index("other")


@pytest.mark.parametrize("broken", ["<!-- a:start -->\nx\n", "<!-- a:end -->\n<!-- a:start -->\n"])
def test_broken_markers_raise_naming_the_file(tmp_path, broken):
    path = tmp_path / "RESULTS.md"
    path.write_text(broken)
    start, end = results.markers("a")
    with pytest.raises(ValueError, match="RESULTS.md: markers"):
        results.write_block(f"{start}\nnew\n{end}", start, end, path)
    assert path.read_text() == broken
