"""The trainer window's main flows, driven offscreen: build a pack, train, inspect results, tune, manage, publish."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from classifiers.card import read_card
from tests.helpers.synthetic import CLASS_STYLES
from tests.trainer.conftest import write_image_folder
from tests.trainer.gui.conftest import WAIT_MS, make_window
from trainer.model_registry import DONE

pytestmark = pytest.mark.gui


def test_build_a_pack_from_a_folder(empty_window, qtbot, image_folder: Path) -> None:
    window = empty_window
    page = window.pack_page
    page.inspect_folder(image_folder)
    qtbot.waitUntil(lambda: page.inspection is not None and not window.tasks.running, timeout=WAIT_MS)

    builder = page.builder
    names = list(CLASS_STYLES)[:3]
    rows = {
        builder.classes.item(r, 0).text(): (builder.classes.item(r, 1).text(), builder.classes.item(r, 2).text())
        for r in range(builder.classes.rowCount())
    }
    assert rows == {names[0]: ("17", "16"), names[1]: ("17", "16"), names[2]: ("4", "4")}
    notes = builder.notes.text()
    assert builder.notes.isVisible()
    assert f"class '{names[2]}' has only 4 image(s)" in notes and "broken.jpg" in notes and "unbalanced" in notes
    assert builder.samples.count() == 4 + 4 + 4  # up to four samples of each class
    assert builder.pack_id.text() == "photos" and builder.build.isEnabled()

    builder.pack_id.setText("holiday")
    builder.title.setText("Holiday photos")
    qtbot.mouseClick(builder.build, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.build_report is not None and not window.tasks.running, timeout=WAIT_MS)

    assert page.tabs.currentWidget() is page.existing
    assert page.current_pack is not None and page.current_pack.id == "holiday"
    assert "Pack 'holiday' built from 36 images." in page.existing.notes.text()
    assert "the test split holds only" in page.existing.notes.text()  # 36 images cannot measure a model
    assert page.existing.counts.item(page.existing.counts.rowCount() - 1, 0).text() == "total"
    assert page.existing.samples.count() > 0
    assert window.train_page.pack is not None and window.train_page.pack.id == "holiday"
    assert (window.usecases.workspace.packs_dir / "holiday" / "pack.json").is_file()


def test_a_folder_that_cannot_make_a_pack_disables_build(empty_window, qtbot, tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "one-class", {"red_horizontal": 5})
    page = empty_window.pack_page
    page.inspect_folder(folder)
    qtbot.waitUntil(lambda: page.inspection is not None and not empty_window.tasks.running, timeout=WAIT_MS)
    assert not page.builder.build.isEnabled()
    assert "a pack needs at least two" in page.builder.notes.text()


def test_train_shallow_then_click_a_confusion_cell(window, qtbot, stripes_pack) -> None:
    window.pack_page.select_pack("stripes")
    train = window.train_page
    window.show_screen("Train")
    assert train.pack is not None and train.pack.id == "stripes"
    train.family_box.setCurrentIndex(train.family_box.findData("embedding"))
    assert train.small_pack_note.isHidden()  # the small-data path itself needs no hint
    train.family_box.setCurrentIndex(train.family_box.findData("shallow"))
    assert train.small_pack_note.isVisible() and "The Embedding family" in train.small_pack_note.text()
    train.variant_box.setCurrentText("logreg")
    assert not train.form.editors["n_estimators"].widget.isEnabled()  # an rf-only parameter
    train.form.set_values({"feature_size": 32})
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    assert train.is_training and train.cancel_button.isEnabled() and not train.start_button.isEnabled()
    with qtbot.waitSignal(train.training_stopped, timeout=WAIT_MS) as stopped:
        pass
    assert stopped.args == ["finished"]

    card = train.result.card
    assert card.family == "shallow" and card.variant == "logreg" and card.training["params"]["feature_size"] == 32
    assert window.current_screen == "Results"
    results = window.results_page
    assert results.card is not None and results.card.id == card.id
    assert f"{card.metrics['test_accuracy']:.1%}" in results.summary.text()
    assert not train.curves_view.shows_plots  # shallow: one step, no epoch curves
    assert set(results.per_class.values) == set(stripes_pack.classes)
    qtbot.waitUntil(lambda: results.predictions is not None, timeout=WAIT_MS)
    assert results.predictions.confusion().tolist() == card.metrics["confusion"]

    # click the off-diagonal cell with the most images, else the first diagonal one
    matrix = card.metrics["confusion"]
    cells = sorted(
        ((matrix[t][p], t, p) for t in range(len(matrix)) for p in range(len(matrix)) if t != p), reverse=True
    )
    _, truth, predicted = cells[0] if cells[0][0] else (0, 0, 0)
    rect = results.matrix.visualItemRect(results.matrix.item(truth, predicted))
    with qtbot.waitSignal(results.cell_shown, timeout=WAIT_MS):
        qtbot.mouseClick(results.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    classes = card.classes
    assert results.shown_cell == (truth, predicted)
    assert results.gallery.count() == matrix[truth][predicted] == len(results.shown_items)
    for caption, item in zip(results.gallery.captions(), results.shown_items, strict=True):
        assert caption == f"true: {classes[truth]}\npred: {classes[predicted]} {item.confidence:.0%}"
    assert f"'{classes[truth]}' test image(s)" in results.cell_label.text()


def test_models_screen_sorts_filters_compares_deletes_and_publishes(window, qtbot, tmp_path: Path) -> None:
    from desktop.services.catalog import load_catalog

    page = window.models_page
    window.show_screen("Models")
    shown = page.visible_rows()
    assert {row.id for row in shown} == {"stripes-logreg", "stripes-rf"}
    accuracies = [row.test_accuracy for row in shown]
    assert accuracies == sorted(accuracies, reverse=True)  # sorted by test accuracy, best first
    page.family_filter.setCurrentIndex(page.family_filter.findData("shallow"))
    page.search.setText("rf")
    assert [row.id for row in page.visible_rows()] == ["stripes-rf"]
    page.search.setText("")

    page.select_ids("stripes-logreg", "stripes-rf")
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    compared = {(row.section, row.label) for row in page.comparison}
    assert {("metrics", "test accuracy"), ("settings that differ", "n_estimators")} <= compared
    assert page.compare_table.rowCount() == len(page.comparison)
    assert page.compare_table.item(0, 1).text() in ("stripes-logreg", "stripes-rf")

    page.pack_filter.setCurrentIndex(page.pack_filter.findData("stripes"))
    with qtbot.waitSignal(page.published, timeout=WAIT_MS) as published:
        qtbot.mouseClick(page.publish_button, Qt.MouseButton.LeftButton)
    report = published.args[0]
    game = tmp_path / "game"
    assert report.destination == str(game)
    assert {m.id: m.difficulty for m in report.models} == {"stripes-logreg": "hard", "stripes-rf": "easy"} or {
        m.id: m.difficulty for m in report.models
    } == {"stripes-logreg": "easy", "stripes-rf": "hard"}
    assert "Published 2 model(s) of stripes" in page.status.text()
    catalog = load_catalog([game])  # the game finds the pack and both opponents
    assert "stripes" in catalog.packs
    assert {entry.card.id for entry in catalog.opponents["stripes"]} == {"stripes-logreg", "stripes-rf"}

    page.select_ids("stripes-rf")
    model_dir = Path(page.selected_rows()[0].model_dir)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert not model_dir.exists()
    assert [row.id for row in page.visible_rows()] == ["stripes-logreg"]
    survivor = page.rows[0]
    assert survivor.status == DONE and survivor.difficulty == "medium"  # re-ranked alone
    assert read_card(survivor.model_dir).difficulty == "medium"
    assert window.results_page.model_box.count() == 1


def test_open_a_model_from_the_models_screen(window, qtbot) -> None:
    page = window.models_page
    page.select_ids("stripes-rf")
    with qtbot.waitSignal(window.results_page.predictions_ready, timeout=WAIT_MS):
        qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert window.current_screen == "Results"
    assert window.results_page.card.id == "stripes-rf"
    assert "stripes-rf" in window.results_page.model_box.currentText()


def test_a_tuning_study_shows_its_trials_and_sends_the_best_to_training(window, qtbot, tmp_path: Path) -> None:
    page = window.tuning_page
    window.pack_page.select_pack("stripes")
    window.show_screen("Tune")
    page.family_box.setCurrentIndex(page.family_box.findData("shallow"))
    page.variant_box.setCurrentIndex(page.variant_box.findData("logreg"))
    assert not page.epochs.isEnabled()  # shallow trials have no epochs
    page.trials.setValue(3)
    snapshots = []
    page.study_updated.connect(snapshots.append)
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.tuning_stopped, timeout=WAIT_MS) as stopped:
        pass
    assert stopped.args == ["finished"]
    final = snapshots[-1]
    assert final.count("COMPLETE") == 3 and page.table.rowCount() == 3
    assert [len(s.completed) for s in snapshots] == sorted(len(s.completed) for s in snapshots)
    best = final.best
    assert f"{best.value:.1%}" in page.best_label.text()
    assert page.history.dots.getData()[1].tolist() == [t.value for t in final.completed]
    assert set(page.importances.values) <= set(best.params) and (page.importances.values or page.importance_note.text())
    assert page.train_best.isEnabled()
    qtbot.mouseClick(page.train_best, Qt.MouseButton.LeftButton)
    train = window.train_page
    assert window.current_screen == "Train"
    assert train.family.name == "shallow" and train.variant == "logreg"
    values = train.form.values()
    assert values["feature_size"] == page.result.params["feature_size"]
    assert values["C"] == pytest.approx(page.result.params["C"], rel=1e-3)
    assert train._tuning_notes("shallow", "logreg", values)["tuning"]["best_trial"] == best.number

    # the study is stored: a new window shows its trials for the same pack, family and variant
    again = make_window(qtbot, window.usecases.workspace, tmp_path / "game")
    again.pack_page.select_pack("stripes")
    stored = again.tuning_page
    stored.family_box.setCurrentIndex(stored.family_box.findData("shallow"))
    stored.variant_box.setCurrentIndex(stored.variant_box.findData("logreg"))
    qtbot.waitUntil(lambda: stored.snapshot is not None and not again.tasks.running, timeout=WAIT_MS)
    assert stored.table.rowCount() == 3 and "holds 3 finished trial(s)" in stored.status.text()
    stored.variant_box.setCurrentIndex(stored.variant_box.findData("svm"))  # no study yet
    qtbot.waitUntil(lambda: stored.snapshot is None and stored.table.rowCount() == 0, timeout=WAIT_MS)
    assert not again.tasks.shutdown()
