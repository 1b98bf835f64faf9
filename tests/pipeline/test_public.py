"""The library's public face: `from extractor import ...` gives what README documents, and nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import extractor

README = Path(__file__).resolve().parents[2] / "README.md"


def documented() -> set[str]:
    """The names in the first column of README's Library table."""
    section = README.read_text(encoding="utf-8").split("## Library", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Za-z_]+)", section, flags=re.MULTILINE))


def test_all_is_what_readme_documents() -> None:
    assert set(extractor.__all__) == documented()
    for name in extractor.__all__:
        assert getattr(extractor, name) is not None


def test_import_is_lazy() -> None:
    # A script that only parses pages must not pay for the fetcher, the model client or Prefect.
    code = "import sys, extractor; print(sorted(m for m in ('openai', 'prefect', 'httpx', 'extractor.pipeline') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_functions_stay_functions_after_submodule_imports() -> None:
    # `extractor.parse` etc. are also submodules: importing them must not shadow the public functions.
    code = (
        "import extractor.parse, extractor.render, extractor.check\n"
        "from extractor import parse, render, check, Scan\n"
        "text = open(sys.argv[1], encoding='utf-8').read()\n"
        "scan = parse(text)\n"
        "assert isinstance(scan, Scan) and render(scan) == text and check(text).roundtrip\n"
        "print('ok')"
    )
    seed = Path(__file__).resolve().parents[2] / "fixtures" / "scans" / "2025-accents-emoji.md"
    out = subprocess.run([sys.executable, "-c", "import sys\n" + code, str(seed)], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        extractor.scan_everything  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "scan_everything" in str(exc)
    else:
        raise AssertionError("an undocumented name resolved")
