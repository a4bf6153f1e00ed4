# Every target creates or updates .venv itself, so a fresh clone needs only `make run` or `make test`.
# The interpreter for .venv: PYTHON=... when given, else the first supported one that runs (3.11, then 3.12, then
# 3.13). "Runs", not "is on PATH": pyenv puts shims on PATH for versions that are installed but not selected.
SUPPORTED_PYTHONS := python3.11 python3.12 python3.13
PYTHON ?= $(firstword $(foreach py,$(SUPPORTED_PYTHONS),$(shell $(py) -c "" >/dev/null 2>&1 && echo $(py))))
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
export QT_QPA_PLATFORM ?= offscreen
PYTEST := QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

.PHONY: run test test-fast bench gpu-check screenshots bundle lint clean-venv

$(VENV)/pyvenv.cfg:
	@test -n "$(PYTHON)" || { echo "No supported Python found (tried $(SUPPORTED_PYTHONS)). Install one of them," \
		"or name an interpreter: make $(or $(MAKECMDGOALS),run) PYTHON=/path/to/python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel

# The game alone: onnxruntime + Qt, no training frameworks.
$(VENV)/.stamp-game: $(VENV)/pyvenv.cfg pyproject.toml constraints.txt
	$(PIP) -e '.[game]'
	touch $@

# Everything: the game (with the CPU onnxruntime, which the trainer and server use too), trainer (all families,
# GUI), server, dev tools. pyproject.toml says why exactly one of the extras cpu / game / gpu is named.
$(VENV)/.stamp-all: $(VENV)/pyvenv.cfg pyproject.toml constraints.txt
	$(PIP) -e '.[game,train,trainer-gui,server,dev]'
	touch $@ $(VENV)/.stamp-game

$(VENV)/.stamp-bundle: $(VENV)/.stamp-game pyproject.toml constraints.txt
	$(PIP) -e '.[bundle]'
	touch $@

run: $(VENV)/.stamp-game
	QT_QPA_PLATFORM= $(BIN)/eyevsai $(ARGS)

# Lint first: it takes seconds, the suite minutes.
test: lint
	$(PYTEST) -q

# Skips Qt, framework-heavy and slow tests: the core, the shallow family, the server.
test-fast: $(VENV)/.stamp-all
	$(PYTEST) -q -m "not gui and not torch and not tensorflow and not slow"

# One section: make bench ARGS='--only server' (make itself would take a bare --only as its own option).
bench: $(VENV)/.stamp-all
	$(BIN)/python -m benchmarks $(ARGS)

# The paths only a GPU runs (deep-v2 with and without AMP, torch.compile, ONNX on CUDA vs CPU), one table. It builds
# its own .venv-gpu (torch's CUDA wheels, onnxruntime-gpu: never beside .venv's CPU build); without an NVIDIA GPU it
# says so and exits 0. Options: make gpu-check ARGS='--pack workspace/packs/fashion-mnist --epochs 5'
gpu-check:
	$(or $(PYTHON),python3) tools/gpu_check.py $(ARGS)

screenshots: $(VENV)/.stamp-all
	$(BIN)/python -m tools.screenshots
	$(BIN)/python -m tools.trainer_screenshots

# The game as a one-folder bundle, dist/eyevsai/eyevsai (build.spec: no torch/tensorflow/scikit-learn), its size and
# ten largest parts (over 300 MB fails), and its headless self-test. It bundles the venv's onnxruntime build: the CPU
# one, or onnxruntime-gpu when that replaced it (never both: they share one package folder, and build.spec refuses
# to bundle the pair).
bundle: $(VENV)/.stamp-bundle
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller build.spec
	$(BIN)/python tools/bundle_report.py dist/eyevsai --limit-mb 300
	dist/eyevsai/eyevsai --self-test --data-dir build/self-test-data

lint: $(VENV)/.stamp-all
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean-venv:
	rm -rf $(VENV)
