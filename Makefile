# Two entry points: `make demo` and `make test`. Both create ./.venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= demo_output

.PHONY: install demo test lint clean

install: $(VENV)/.installed

# torch is pinned here (a CPU build available on these machines); pyproject only asks for torch>=2.3.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# One torch thread: the demo's networks are small, and several threads per core thrash on a busy machine.
demo: install
	OMP_NUM_THREADS=1 bash analyses/demo.sh $(VENV) $(DEMO_OUT)

test: install
	$(PY) -m pytest -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check heavytail_diffusion tests analyses

clean:
	rm -rf $(VENV) $(DEMO_OUT)
