"""`make screenshots` (second half): drive the trainer GUI offscreen and save a PNG of every main screen.

Makes a class-per-folder tree from the bundled Fashion-MNIST test images (plus one broken file, so the folder
check has something to report), builds a pack from it, trains a deep-v1 CNN (live curves) and a shallow model,
opens the results with a confusion-matrix cell clicked, runs a short tuning study and trains its best
parameters, compares two models and publishes the pack, all in a temporary workspace.
Writes docs/screenshots/trainer-*.png.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from classifiers.locations import bundled_assets_dir  # noqa: E402
from classifiers.pack import open_pack  # noqa: E402
from desktop.ui.waiting import wait_until  # noqa: E402
from trainer.gui.main_window import MainWindow  # noqa: E402
from trainer.usecases import TrainerUseCases  # noqa: E402
from trainer.workspace import Workspace  # noqa: E402

PER_CLASS = 60
CLASSES = 6


def make_source_folder(root: Path) -> Path:
    """root/<class>/<n>.png from the bundled game pack's test images, and one file that is not an image."""
    pack = open_pack(bundled_assets_dir() / "packs" / "fashion-mnist")
    counts: dict[str, int] = {}
    for entry in pack.available("test"):
        label = entry.label or ""
        if label not in pack.classes[:CLASSES] or counts.get(label, 0) >= PER_CLASS:
            continue
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        path = pack.image_path(entry.sha256)
        (folder / f"{counts.get(label, 0):03d}{path.suffix}").write_bytes(path.read_bytes())
        counts[label] = counts.get(label, 0) + 1
    (root / pack.classes[0] / "scan-0042.jpg").write_bytes(b"this download was interrupted")
    return root


def save(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    widget.grab().save(str(path))
    print(f"  {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the run
    temp = Path(tempfile.mkdtemp(prefix="eyevsai-trainer-shots-"))
    source = make_source_folder(temp / "fashion-photos")
    window = MainWindow(
        TrainerUseCases(Workspace(temp / "workspace")), game_data_dir=temp / "game", confirm=lambda title, text: True
    )
    window.resize(1280, 820)
    window.show()
    idle = lambda: not window.tasks.running  # noqa: E731

    # Pack: inspect the folder, then build the pack
    window.pack_page.inspect_folder(source)
    wait_until(lambda: window.pack_page.inspection is not None and idle(), 120)
    save(window, args.out / "trainer-pack-inspect.png")
    window.pack_page.build_pack(source, "fashion-demo", title="Fashion demo (6 classes)", licence="MIT")
    wait_until(lambda: window.pack_page.build_report is not None and idle(), 120)
    wait_until(lambda: window.pack_page.existing.samples.count() > 0, 30)
    save(window, args.out / "trainer-packs.png")

    # Train: a deep-v1 CNN, captured while its curves grow, then a shallow model
    train = window.train_page
    window.show_screen("Train")
    train.family_box.setCurrentIndex(train.family_box.findData("deep_v1"))
    train.form.set_values({"epochs": 8, "min_steps": 0, "width": 16, "batch_size": 32, "workers": 0, "patience": 0})
    train.start_training()
    wait_until(lambda: len(train.curves.epochs) >= 5, 300)
    save(window, args.out / "trainer-train.png")
    wait_until(lambda: not train.is_training, 300)
    results = window.results_page
    wait_until(lambda: results.predictions is not None, 120)
    matrix = results.predictions.confusion()
    wrong = matrix * (1 - np.eye(len(matrix), dtype=matrix.dtype))  # the most frequent confusion
    truth, predicted = (int(i) for i in np.unravel_index(int(wrong.argmax()), wrong.shape))
    results.matrix.setCurrentCell(truth, predicted)
    results.show_cell(truth, predicted)
    wait_until(lambda: results.shown_cell == (truth, predicted) and results.gallery.count() > 0 and idle(), 60)
    save(window, args.out / "trainer-results.png")

    window.show_screen("Train")
    train.family_box.setCurrentIndex(train.family_box.findData("shallow"))
    train.variant_box.setCurrentText("logreg")
    train.start_training()
    wait_until(lambda: not train.is_training and idle(), 300)

    # Tune: a short study of the shallow family
    tuning = window.tuning_page
    window.show_screen("Tune")
    tuning.family_box.setCurrentIndex(tuning.family_box.findData("shallow"))
    tuning.variant_box.setCurrentIndex(tuning.variant_box.findData("logreg"))
    tuning.trials.setValue(6)
    tuning.start_tuning()
    wait_until(lambda: not tuning.is_tuning and idle(), 600)
    save(window, args.out / "trainer-tuning.png")
    tuning.train_best.click()  # the best parameters go to the Train screen; the model is recorded as tuned
    train.start_training()
    wait_until(lambda: not train.is_training and idle(), 300)

    # Models: compare the two, then publish the pack to the (temporary) game folder
    models = window.models_page
    window.show_screen("Models")
    models.refresh()
    models.select_ids(*(row.id for row in models.visible_rows()[:2]))
    models.compare_selected()
    models.pack_filter.setCurrentIndex(models.pack_filter.findData("fashion-demo"))
    models.select_ids(*(row.id for row in models.visible_rows()[:2]))
    models.publish_selected_pack()
    wait_until(lambda: models.publish_report is not None and idle(), 300)
    save(window, args.out / "trainer-models.png")
    window.close()
    print(f"trainer screenshots written to {args.out.resolve()} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
