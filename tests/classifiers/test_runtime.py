"""The game's runtime: a model card plus its ONNX file, predicting through onnxruntime."""

from __future__ import annotations

import shutil
from collections.abc import Generator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import onnxruntime
import pytest

from classifiers import runtime
from classifiers.card import ONNX_FILE, file_sha256, read_card, write_card
from classifiers.errors import ModelCardError
from classifiers.pack import Pack
from classifiers.progress import run_to_end
from classifiers.runtime import (
    CPU,
    CUDA,
    GAME_THREADS,
    OnnxClassifier,
    SessionThreads,
    device_label,
    preferred_providers,
)
from tests.helpers.synthetic import make_synthetic_pack
from trainer.training import TrainResult, train_model


def _drive(generator: Generator[Any, None, Any]) -> Any:
    return run_to_end(generator)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), per_class=25)


@pytest.fixture(scope="module")
def trained(pack: Pack, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    models_dir = tmp_path_factory.mktemp("models")
    return _drive(
        train_model(
            "shallow", pack, models_dir, variant="logreg", params={"feature_size": 32}, model_id="synthetic-logreg"
        )
    )


@pytest.fixture(scope="module")
def classifier(trained: TrainResult) -> OnnxClassifier:
    return OnnxClassifier(trained.model_dir, device="cpu")


@pytest.fixture(scope="module")
def held_out(pack: Pack) -> tuple[list[np.ndarray], np.ndarray]:
    shas, labels = pack.labelled("test")
    return [pack.load_image(sha) for sha in shas], labels


def _fake_ort(available: list[str]) -> SimpleNamespace:
    """onnxruntime as seen by runtime.py, but claiming other providers (no preload_dlls)."""
    return SimpleNamespace(
        get_available_providers=lambda: list(available),
        SessionOptions=onnxruntime.SessionOptions,
        InferenceSession=onnxruntime.InferenceSession,
    )


def test_predict_gives_a_probability_per_class(classifier: OnnxClassifier, held_out) -> None:
    images, _ = held_out
    probs = classifier.predict(images[0])
    assert list(probs) == classifier.card.classes
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in probs.values())
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)


def test_predict_batch_shape_and_accuracy(classifier: OnnxClassifier, held_out) -> None:
    images, labels = held_out
    probs = classifier.predict_batch(images)
    assert probs.shape == (len(images), len(classifier.card.classes))
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert (probs.argmax(1) == labels).mean() >= 0.8  # chance is 0.25


def test_predict_batch_agrees_with_predict(classifier: OnnxClassifier, held_out) -> None:
    images, _ = held_out
    batch = classifier.predict_batch(images[:3])
    for row, image in zip(batch, images[:3], strict=True):
        np.testing.assert_allclose(list(classifier.predict(image).values()), row, atol=1e-6)


def test_empty_batch(classifier: OnnxClassifier) -> None:
    assert classifier.predict_batch([]).shape == (0, len(classifier.card.classes))


def held_out_of_any_size_are_accepted(classifier: OnnxClassifier, held_out) -> None:
    image = held_out[0][0]
    for size in ((30, 70), (200, 120)):
        resized = cv2.resize(image, (size[1], size[0]))
        assert sum(classifier.predict(resized).values()) == pytest.approx(1.0, abs=1e-5)


def test_metadata_reports_card_and_provider(classifier: OnnxClassifier, trained: TrainResult) -> None:
    meta = classifier.metadata()
    assert meta["id"] == "synthetic-logreg"
    assert meta["family"] == "shallow"
    assert meta["variant"] == "logreg"
    assert meta["pack_id"] == "synthetic"
    assert meta["classes"] == trained.card.classes
    assert meta["provider"] == CPU
    assert meta["device"] == "CPU"
    assert meta["fell_back_to_cpu"] is False
    assert meta["onnx_sha256"] == file_sha256(trained.model_dir / ONNX_FILE)
    assert meta["test_accuracy"] == trained.card.test_accuracy


def test_device_cpu_uses_the_cpu_provider(trained: TrainResult) -> None:
    classifier = OnnxClassifier(trained.model_dir, device="cpu")
    assert classifier.requested_providers == [CPU]
    assert classifier.session.get_providers()[0] == CPU


def test_environment_variable_forces_the_cpu(monkeypatch: pytest.MonkeyPatch, trained: TrainResult) -> None:
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_ort([CUDA, CPU]))
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    assert OnnxClassifier(trained.model_dir).requested_providers == [CPU]


@pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider':UserWarning")
def test_cuda_that_does_not_load_is_reported_as_a_fallback(
    monkeypatch: pytest.MonkeyPatch, trained: TrainResult
) -> None:
    # onnxruntime runs on the CPU when CUDA cannot start; the classifier must say so rather than claim a GPU.
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_ort([CUDA, CPU]))
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    classifier = OnnxClassifier(trained.model_dir, device="auto")
    assert classifier.requested_providers == [CUDA, CPU]
    if classifier.provider == CUDA:  # pragma: no cover - only on a machine with a working GPU
        pytest.skip("CUDA really loaded here")
    assert classifier.fell_back_to_cpu
    assert classifier.metadata()["device"] == "CPU"


@pytest.mark.parametrize(
    ("available", "device", "expected"),
    [
        ([CUDA, CPU], None, [CUDA, CPU]),
        ([CPU, CUDA], "auto", [CUDA, CPU]),
        (["TensorrtExecutionProvider", CUDA, CPU], "AUTO", [CUDA, CPU]),
        ([CUDA, CPU], "cpu", [CPU]),
        ([CUDA, CPU], "CPU", [CPU]),
        ([CPU], "auto", [CPU]),
        (["AzureExecutionProvider", CPU], None, [CPU]),
        (["AzureExecutionProvider"], None, [CPU]),
    ],
)
def test_preferred_providers(
    monkeypatch: pytest.MonkeyPatch, available: list[str], device: str | None, expected: list[str]
) -> None:
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_ort(available))
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    assert preferred_providers(device) == expected


def test_preferred_providers_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_ort([CUDA, CPU]))
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    assert preferred_providers() == [CPU]
    assert preferred_providers("auto") == [CUDA, CPU]  # an explicit argument wins


def test_preferred_providers_on_this_machine() -> None:
    providers = preferred_providers("auto")
    assert providers[-1] == CPU
    assert set(providers) <= set(onnxruntime.get_available_providers())


def test_device_label() -> None:
    assert device_label(CUDA) == "CUDA (GPU)"
    assert device_label(CPU) == "CPU"
    assert device_label("DmlExecutionProvider") == "Dml"


def test_tampered_onnx_file_is_refused(trained: TrainResult, tmp_path: Path) -> None:
    model_dir = shutil.copytree(trained.model_dir, tmp_path / "model")
    (model_dir / ONNX_FILE).write_bytes(b"not a graph")
    with pytest.raises(ModelCardError, match="does not match its card"):
        OnnxClassifier(model_dir, device="cpu")


def test_corrupt_onnx_file_is_a_model_card_error(trained: TrainResult, tmp_path: Path) -> None:
    model_dir = shutil.copytree(trained.model_dir, tmp_path / "model")
    (model_dir / ONNX_FILE).write_bytes(b"not a graph")
    card = read_card(model_dir, check_onnx=False)
    card.onnx_sha256 = file_sha256(model_dir / ONNX_FILE)
    write_card(card, model_dir)
    with pytest.raises(ModelCardError, match="could not be loaded by onnxruntime"):
        OnnxClassifier(model_dir, device="cpu")


def test_card_with_wrong_class_count_is_caught(trained: TrainResult, held_out) -> None:
    card = read_card(trained.model_dir)
    card.classes = [*card.classes, "extra"]
    classifier = OnnxClassifier(trained.model_dir, device="cpu", card=card)
    with pytest.raises(ModelCardError, match="expected \\(N, 5\\)"):
        classifier.predict(held_out[0][0])


# -- GPU provider choice and fallback (no GPU here: onnxruntime is replaced by fakes around the real CPU build) --
def _fake_gpu_ort(session_class: type, *, preload=None) -> SimpleNamespace:
    """onnxruntime-gpu as seen by runtime.py: lists CUDA, sessions made by session_class, optional preload_dlls."""
    fake = SimpleNamespace(
        get_available_providers=lambda: [CUDA, CPU],
        SessionOptions=onnxruntime.SessionOptions,
        InferenceSession=session_class,
    )
    if preload is not None:
        fake.preload_dlls = preload
    return fake


class _CudaFailsToStart(onnxruntime.InferenceSession):
    """What onnxruntime-gpu does when the CUDA provider raises: print an "EP Error", retry on the CPU."""

    def __init__(self, path: str, options: Any, providers: list[str]) -> None:
        print("*************** EP Error ***************")
        print(f"EP Error CUDA failure 100: no CUDA-capable device is detected when using {providers}")
        print("Falling back to ['CPUExecutionProvider'] and retrying.")
        super().__init__(path, options, providers=[CPU])


class _CudaRuns(onnxruntime.InferenceSession):
    """A session that reports CUDA as its first provider (as on a machine with a working GPU)."""

    def __init__(self, path: str, options: Any, providers: list[str]) -> None:
        self.asked_for = list(providers)
        super().__init__(path, options, providers=[CPU])

    def get_providers(self) -> list[str]:
        return [CUDA, CPU]


@pytest.fixture
def gpu_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend onnxruntime-gpu is the installed build, and forget an earlier preload."""
    monkeypatch.setattr(runtime, "installed_builds", lambda: ["onnxruntime-gpu"])
    monkeypatch.setattr(runtime, "_dlls_preloaded", False)
    monkeypatch.setattr(runtime, "_preload_error", None)
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)


def test_cuda_that_fails_to_start_falls_back_with_the_reason(monkeypatch, gpu_build, trained, capsys) -> None:
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_gpu_ort(_CudaFailsToStart))
    classifier = OnnxClassifier(trained.model_dir, device="auto")
    assert classifier.provider == CPU and classifier.fell_back_to_cpu
    assert "no CUDA-capable device is detected" in classifier.fallback_reason
    assert classifier.metadata()["fallback_reason"] == classifier.fallback_reason
    assert "EP Error" not in capsys.readouterr().out  # onnxruntime's banner became the reason, not console noise
    assert classifier.predict_batch([np.zeros((8, 8, 3), np.uint8)]).shape == (1, len(classifier.card.classes))


def test_cuda_is_used_when_the_session_runs_on_it(monkeypatch, gpu_build, trained) -> None:
    calls = []
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_gpu_ort(_CudaRuns, preload=lambda: calls.append(1)))
    classifier = OnnxClassifier(trained.model_dir, device="auto")
    assert classifier.session.asked_for == [CUDA, CPU]
    assert classifier.provider == CUDA
    assert classifier.fallback_reason is None and not classifier.fell_back_to_cpu
    assert classifier.metadata()["device"] == "CUDA (GPU)"
    OnnxClassifier(trained.model_dir, device="auto")
    assert calls == [1]  # CUDA libraries are preloaded once per process


def test_cpu_device_neither_preloads_nor_asks_for_cuda(monkeypatch, gpu_build, trained) -> None:
    calls = []
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_gpu_ort(_CudaRuns, preload=lambda: calls.append(1)))
    classifier = OnnxClassifier(trained.model_dir, device="cpu")
    assert classifier.session.asked_for == [CPU]
    assert calls == [] and classifier.fallback_reason is None  # the player asked for the CPU: no notice


def test_a_failed_preload_is_the_reason_when_onnxruntime_says_nothing(monkeypatch, gpu_build, trained) -> None:
    def preload() -> None:
        raise OSError("libcudnn.so.9: cannot open shared object file")

    class SilentCpuFallback(onnxruntime.InferenceSession):  # a CUDA provider library that fails to load
        def __init__(self, path: str, options: Any, providers: list[str]) -> None:
            super().__init__(path, options, providers=[CPU])

    monkeypatch.setattr(runtime, "_ort", lambda: _fake_gpu_ort(SilentCpuFallback, preload=preload))
    classifier = OnnxClassifier(trained.model_dir, device="auto")
    assert classifier.provider == CPU
    assert "did not start" in classifier.fallback_reason
    assert "libcudnn.so.9" in classifier.fallback_reason


def test_gpu_build_without_a_cuda_provider_is_reported(monkeypatch, gpu_build, trained) -> None:
    # What a CPU onnxruntime installed over onnxruntime-gpu looks like: GPU metadata, CPU-only files.
    monkeypatch.setattr(runtime, "_ort", lambda: _fake_ort([CPU]))
    classifier = OnnxClassifier(trained.model_dir, device="auto")
    assert classifier.provider == CPU and not classifier.fell_back_to_cpu
    assert "onnxruntime-gpu is installed but offers no CUDA execution provider" in classifier.fallback_reason
    assert OnnxClassifier(trained.model_dir, device="cpu").fallback_reason is None


def test_the_cpu_build_gives_no_notice(trained: TrainResult) -> None:
    if runtime.expects_gpu():  # pragma: no cover - a GPU build installed on this machine
        pytest.skip("onnxruntime-gpu is installed here")
    assert OnnxClassifier(trained.model_dir, device="auto").fallback_reason is None


def test_installed_builds_reads_package_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    present = {"onnxruntime", "onnxruntime-gpu"}

    def distribution(name: str) -> object:
        if name not in present:
            raise runtime.metadata.PackageNotFoundError(name)
        return object()

    monkeypatch.setattr(runtime.metadata, "distribution", distribution)
    assert runtime.installed_builds() == ["onnxruntime", "onnxruntime-gpu"]
    assert runtime.expects_gpu()


def test_exactly_one_build_is_installed_here() -> None:
    assert len(runtime.installed_builds()) == 1
    assert runtime.install_problem() is None


def test_two_builds_installed_together_is_a_problem_with_a_fix() -> None:
    message = runtime.install_problem(["onnxruntime", "onnxruntime-gpu"])
    assert "onnxruntime and onnxruntime-gpu are installed together" in message
    assert message.endswith("pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu")
    assert runtime.install_problem(["onnxruntime-gpu"]) is None
    assert runtime.install_problem([]) is None


def test_the_game_sessions_thread_pool_is_set_and_predicts_the_same(
    trained: TrainResult, classifier: OnnxClassifier, held_out: tuple[list[np.ndarray], np.ndarray]
) -> None:
    game = OnnxClassifier(trained.model_dir, device="cpu", threads=GAME_THREADS)
    options = game.session.get_session_options()
    assert options.intra_op_num_threads == GAME_THREADS.intra_op
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    images, _ = held_out
    np.testing.assert_allclose(game.predict_batch(images), classifier.predict_batch(images), atol=1e-6)


def test_the_thread_benchmark_times_every_setting_idle_and_busy_and_stops_its_burners(trained: TrainResult) -> None:
    from benchmarks.inference import THREAD_SETTINGS, cpu_burners, measure_session_threads

    with cpu_burners(1) as burners:
        assert burners[0].poll() is None  # spinning while the busy half is timed
    assert burners[0].poll() is not None  # and gone afterwards

    rows = measure_session_threads([trained.model_dir], [np.zeros((32, 32, 3), np.uint8)], calls=3, burners=1)
    assert len(rows) == 2 * len(THREAD_SETTINGS)
    assert {row.load for row in rows} == {"idle", "busy (1 burners)"}
    assert all(0 < row.p50_ms <= row.p99_ms for row in rows)
    assert SessionThreads() in THREAD_SETTINGS  # onnxruntime's own default is always in the comparison
