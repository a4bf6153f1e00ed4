"""The chance guard in the trainer window: a model no better than guessing is flagged and not published unasked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from classifiers.card import read_card, write_card
from classifiers.metrics import classification_metrics
from tests.trainer.gui.conftest import WAIT_MS
from trainer.study_summary import StudySnapshot, TrialRow

pytestmark = pytest.mark.gui


def make_at_chance(window, model_id: str) -> Path:
    """Rewrite a model's test metrics to those of always answering the first class (as an untrained model does)."""
    workspace = window.usecases.workspace
    model_dir = workspace.models_dir / model_id
    card = read_card(model_dir)
    _, truth = window.usecases.find_pack(card.pack_id).labelled("test")
    always_first = np.tile(np.eye(len(card.classes))[0], (len(truth), 1))
    card.metrics = classification_metrics(truth, always_first, card.classes)
    write_card(card, model_dir)
    registry = workspace.registry()
    try:
        registry.finish(card, model_dir)
    finally:
        registry.close()
    return model_dir


def publish(window, qtbot, answers: dict[str, bool]):
    page = window.models_page
    asked = []
    page.confirm = lambda title, text: asked.append(title) or answers.get(title, True)
    # `published` comes before the task's end re-enables the button: a click on a disabled button does nothing
    qtbot.waitUntil(page.publish_button.isEnabled, timeout=WAIT_MS)
    with qtbot.waitSignal(page.published, timeout=WAIT_MS) as published:
        qtbot.mouseClick(page.publish_button, Qt.MouseButton.LeftButton)
    return published.args[0], asked


def test_a_model_at_chance_is_marked_unchecked_and_published_only_when_confirmed(window, qtbot) -> None:
    make_at_chance(window, "stripes-rf")
    page = window.models_page
    window.show_screen("Models")
    page.refresh()
    rows = {row.id: row for row in page.visible_rows()}
    assert rows["stripes-rf"].at_chance and not rows["stripes-logreg"].at_chance
    assert not page.is_chosen(rows["stripes-rf"]) and page.is_chosen(rows["stripes-logreg"])
    cell = page.model.item(
        next(i for i in range(page.model.rowCount()) if page.model.item(i, 0).text() == "stripes-rf"), 5
    )
    assert "at chance" in cell.text()
    page.pack_filter.setCurrentIndex(page.pack_filter.findData("stripes"))

    report, asked = publish(window, qtbot, {})
    assert [m.id for m in report.models] == ["stripes-logreg"] and report.not_chosen == ["stripes-rf"]
    assert asked == ["Publish to the game"]  # nothing at chance was checked: no question about it

    page.choose_for_publish("stripes-rf", True)
    report, asked = publish(window, qtbot, {"Publish models at chance?": False})
    assert asked == ["Publish models at chance?", "Publish to the game"]
    assert [m.id for m in report.models] == ["stripes-logreg"] and [r.id for r in report.refused] == ["stripes-rf"]
    assert "Not published, at chance: stripes-rf" in page.status.text()

    report, _ = publish(window, qtbot, {"Publish models at chance?": True})
    assert sorted(m.id for m in report.models) == ["stripes-logreg", "stripes-rf"]

    page.choose_for_publish("stripes-rf", False)
    page.choose_for_publish("stripes-logreg", False)
    page.refresh()  # the ticks survive a refresh
    reported = []
    window.tasks.reporter.problem = lambda title, text: reported.append(text)
    qtbot.waitUntil(page.publish_button.isEnabled, timeout=WAIT_MS)
    qtbot.mouseClick(page.publish_button, Qt.MouseButton.LeftButton)
    assert reported and "No active model of pack 'stripes' is checked" in reported[0]


def test_the_results_screen_warns_about_a_model_at_chance(window, qtbot) -> None:
    results = window.results_page
    results.show_model(window.usecases.workspace.models_dir / "stripes-logreg")
    assert not results.chance.is_at_chance and results.chance.isHidden()
    results.show_model(make_at_chance(window, "stripes-rf"))
    assert results.chance.is_at_chance and not results.chance.isHidden()
    assert "at chance (" in results.chance.text() and "test images" in results.chance.text()
    assert "small-data path" in results.chance.text()
    qtbot.waitUntil(lambda: not window.tasks.running, timeout=WAIT_MS)


def test_the_tune_screen_warns_when_the_best_trial_is_at_chance(window) -> None:
    window.pack_page.select_pack("stripes")
    page = window.tuning_page
    classes = len(window.usecases.find_pack("stripes").classes)
    page.show_snapshot(StudySnapshot("s", [TrialRow(0, "COMPLETE", 1 / classes, {"C": 1.0}, 1.0)]))
    assert page.chance.is_at_chance and "validation images" in page.chance.text()
    page.show_snapshot(StudySnapshot("s", [TrialRow(1, "COMPLETE", 1.0, {"C": 2.0}, 1.0)]))
    assert not page.chance.is_at_chance and page.chance.isHidden()
