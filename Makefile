# The two entry points: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export JAX_PLATFORMS ?= cpu

.PHONY: demo test lint format venv clean wheelhouse

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the project and its dependencies into $(VENV) (once; a few minutes on a fresh machine)..."
	$(BIN)/python -m pip install --quiet --progress-bar off -e '.[test,dev,cpu-kernel]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m toymodels.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# worksteal: a long test (a notebook, the GPU check's dry run) never leaves one worker idle at the end.
test: lint
	$(BIN)/python -m pytest -n 2 --dist worksteal

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The wheels the GPU check's machine may lack (benchmarks/device_requirements.txt, role `carry`),
# for Python 3.12 on x86-64 Linux, into .whl/ (git-ignored): carry .whl with the tree, and
# benchmarks/device_check.sh installs what is missing offline.
WHEEL_PLATFORMS := manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
wheelhouse:
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
	  --implementation cp $(foreach p,$(WHEEL_PLATFORMS),--platform $(p)) -d .whl \
	  $$(awk '!/^#/ && $$3 == "carry" {print $$1}' benchmarks/device_requirements.txt)
	@ls .whl | wc -l | xargs echo "wheels in .whl:"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
