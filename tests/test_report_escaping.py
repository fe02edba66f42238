"""Reports never carry live markup from data: every data-derived string is escaped, and a CSP forbids scripts."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from cardiofm.report.html import CSP, esc, write_report
from cardiofm.report.run_report import write_run_report

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "\"><svg onload=alert(3)>",
            "'><iframe src=javascript:alert(4)>", "</pre><script>alert(5)</script>"]
ALLOWED = {"html", "meta", "title", "style", "h1", "h2", "h3", "p", "b", "pre", "table", "tr", "th", "td", "figure",
           "figcaption", "img", "details", "summary"}


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _png(path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(path)
    plt.close(fig)
    return path


def _assert_inert(page: str) -> None:
    parser = _Tags()
    parser.feed(page)
    tags = {t for t, _ in parser.tags}
    assert tags <= ALLOWED, tags - ALLOWED
    for tag, attrs in parser.tags:
        assert not [a for a, _ in attrs if a.lower().startswith("on")], (tag, attrs)
        if tag == "img":  # the only images are ours, inlined
            assert dict(attrs)["src"].startswith("data:image/png;base64,"), attrs
    metas = [dict(a) for t, a in parser.tags if t == "meta" and dict(a).get("http-equiv")]
    assert metas == [{"http-equiv": "Content-Security-Policy", "content": CSP}]
    assert "script-src" not in CSP and "default-src 'none'" in CSP


def test_esc_escapes_quotes_and_brackets():
    assert esc("<a href='x' title=\"y\">&") == "&lt;a href=&#x27;x&#x27; title=&quot;y&quot;&gt;&amp;"
    assert esc(3) == "3"


def test_run_report_with_payload_labels_descriptions_notes_and_source(tmp_path: Path):
    codes, desc = PAYLOADS[:3], PAYLOADS[2:5]
    n = len(codes)
    cls = {"auroc": [0.7] * n, "auprc": [0.5] * n, "n_pos": [3] * n, "n": 10, "auroc_ci": [[0.6, 0.8]] * n,
           "macro_auroc": 0.7, "macro_auroc_ci": [0.6, 0.8], "note": PAYLOADS[0]}
    ev = {"codes": codes, "descriptions": desc, "task": PAYLOADS[1],
          "test": {"classification": cls, "n_records": 10, "n_patients": 9,
                   "per_task": {c: {"threshold": {"threshold": 0.5}} for c in codes}},
          "internal": {"note": PAYLOADS[3], "n_records": PAYLOADS[4]}}
    cfg = SimpleNamespace(name=PAYLOADS[0], variant=PAYLOADS[1], model={"name": PAYLOADS[2]},
                          method={"name": PAYLOADS[3]}, cv=SimpleNamespace(folds=3),
                          data=SimpleNamespace(source=PAYLOADS[4], root=PAYLOADS[0]),
                          to_dict=lambda: {"labels": PAYLOADS})
    run_path = tmp_path / "run"
    run_path.mkdir()
    run = SimpleNamespace(path=run_path, metrics=lambda: {"training": {PAYLOADS[0]: {"best_score": 0.5}}})
    img = _png(tmp_path / "roc.png")
    figures = SimpleNamespace(items=[(PAYLOADS[1], PAYLOADS[2], img), ("Held-out test", PAYLOADS[3], img)])
    page = write_run_report(run, cfg, ev, figures).read_text()
    _assert_inert(page)
    for p in PAYLOADS:  # the strings are shown, as text
        assert esc(p) in page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_generic_report_escapes_title_metrics_config_and_image_names(tmp_path: Path, payload: str):
    img = _png(tmp_path / "x.png")
    page = write_report(tmp_path / "report.html", payload, {"source": payload, "report": payload},
                        {"generation": {"text": payload, "retrieved_report": payload}}, [img]).read_text()
    _assert_inert(page)
    assert esc(payload) in page


def test_a_live_payload_would_be_detected():  # the check above can fail
    with pytest.raises(AssertionError):
        _assert_inert(f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">" + PAYLOADS[1])
