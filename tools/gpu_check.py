"""`make gpu-check`: run the GPU paths nobody runs on a CPU machine, and print one table.

On a machine with an NVIDIA GPU (`nvidia-smi -L` lists one) it builds a separate environment, .venv-gpu, with the
CUDA builds (PyPI's Linux torch wheels are CUDA builds; onnxruntime-gpu uses the CUDA and cuDNN libraries those
wheels install), exactly:

    python3 -m venv .venv-gpu
    .venv-gpu/bin/python -m pip install --upgrade pip
    .venv-gpu/bin/python -m pip install -c constraints.txt -e '.[gpu,torch]'

then, inside it: trains deep-v2 for a few epochs on the bundled game pack's labelled images (or `--pack`, e.g. the
full Fashion-MNIST pack) on CUDA without mixed precision, with bf16 and fp16 autocast, and with bf16 plus
torch.compile; and times batch-1 and batch-64 ONNX inference of every bundled model on CUDAExecutionProvider and
on the CPU. Without a GPU it says so and exits 0. The main .venv is never touched: it keeps the CPU onnxruntime
(the two onnxruntime builds cannot share an environment).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GPU_VENV = REPO / ".venv-gpu"
INSTALL = ("-m", "pip", "install", "--disable-pip-version-check", "-c", "constraints.txt", "-e", ".[gpu,torch]")
# deep-v2 runs: (label, extra hyperparameters)
TRAINING_RUNS = (
    ("fp32", {}),
    ("bf16 autocast", {"amp": "bf16"}),
    ("fp16 autocast", {"amp": "fp16"}),
    ("bf16 + torch.compile", {"amp": "bf16", "compile": True}),
)


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    check: str  # "train deep-v2" or "infer <model id>"
    setting: str
    device: str
    result: str
    detail: str


def gpu_names() -> list[str]:
    """The NVIDIA GPUs `nvidia-smi -L` lists (none when it is missing or fails)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in listing.stdout.splitlines() if line.startswith("GPU ")]


def ensure_gpu_venv() -> Path:
    """.venv-gpu's interpreter, creating the environment and installing the CUDA builds when it is missing."""
    python = GPU_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(GPU_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--upgrade", "pip"], check=True, cwd=REPO)
    subprocess.run([str(python), *INSTALL], check=True, cwd=REPO)  # quick when everything is installed already
    return python


def training_rows(pack_path: str | None, epochs: int) -> list[Row]:
    """deep-v2 on CUDA, `epochs` epochs per TRAINING_RUNS entry."""
    import torch  # lazy: torch, installed in .venv-gpu only

    from benchmarks.training import _training_pack  # lazy: trainer code, after the venv check
    from classifiers.pack import open_pack  # lazy: as above
    from classifiers.registry import get_family  # lazy: as above

    if not torch.cuda.is_available():
        return [Row("train deep-v2", "-", "cpu", "skipped", f"torch {torch.__version__} sees no CUDA device")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="eyevsai-gpu-check-") as tmp:
        pack = open_pack(pack_path) if pack_path else _training_pack(Path(tmp))
        for label, extra in TRAINING_RUNS:
            estimator = get_family("deep_v2").create(epochs=epochs, patience=0, device="cuda", workers=4, **extra)
            for _ in estimator.fit(pack):
                pass
            info = estimator.training_info_
            val = info["history"][-1].get("val_accuracy") if info["history"] else None
            rows.append(
                Row(
                    "train deep-v2",
                    f"{label} (ran: amp {info['amp']}, compiled {info['compiled']})",
                    f"{info['device']} {torch.cuda.get_device_name(0)}",
                    f"{info['images_per_s']:,.0f} img/s",
                    f"{epochs} epochs on {len(pack.splits['train'])} images, last val acc {val}, "
                    f"GPU peak {info.get('gpu_peak_mb', '-')} MB",
                )
            )
    return rows


def inference_rows(repeats: int) -> list[Row]:
    """Every bundled model on CUDA ("auto") and on the CPU, through the game's runtime."""
    from benchmarks.inference import measure_model  # lazy: after the venv check
    from benchmarks.workload import bundled_model_dirs, load_pack_images  # lazy: as above

    images, _ = load_pack_images(200)
    rows = []
    for model_dir in bundled_model_dirs():
        for device in ("auto", "cpu"):
            result = measure_model(model_dir, images, repeats=repeats, device=device)
            rows.append(
                Row(
                    f"infer {result.model}",
                    "batch 1 / batch 64",
                    result.provider.removesuffix("ExecutionProvider"),
                    f"{result.b1_median_ms:.2f} ms / {result.b64_images_per_s:,.0f} img/s",
                    f"batch-1 p95 {result.b1_p95_ms:.2f} ms, session.run alone {result.b1_run_only_ms:.2f} ms",
                )
            )
    return rows


def print_table(rows: list[Row], gpus: list[str]) -> None:
    from rich.console import Console  # lazy: a core dependency, imported once the environment is settled
    from rich.table import Table  # lazy: as above

    table = Table(title=f"GPU check on {'; '.join(gpus)}")
    for column in ("check", "setting", "device", "result", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.check, row.setting, row.device, row.result, row.detail)
    Console(width=220).print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make gpu-check", description=__doc__.splitlines()[0])
    parser.add_argument("--pack", help="train on this pack folder instead of the bundled game pack's images")
    parser.add_argument("--epochs", type=int, default=3, help="deep-v2 epochs per training run (default 3)")
    parser.add_argument("--repeats", type=int, default=5, help="inference repeats (batch 1 makes 50 calls each)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)  # already running in .venv-gpu
    args = parser.parse_args(argv)
    gpus = gpu_names()
    if not gpus:
        print("gpu-check: no NVIDIA GPU on this machine (nvidia-smi lists none); nothing to check.")
        return 0
    if not args.inside:
        python = ensure_gpu_venv()
        forwarded = [*(["--pack", args.pack] if args.pack else []), "--epochs", str(args.epochs)]
        command = [str(python), "-m", "tools.gpu_check", "--inside", *forwarded, "--repeats", str(args.repeats)]
        return subprocess.run(command, cwd=REPO, check=False).returncode
    print_table(training_rows(args.pack, args.epochs) + inference_rows(args.repeats), gpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
