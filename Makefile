# make demo: create .venv, install, solve the heat problem, write runs/heat1d.
# make test: create .venv, install, run the test suite, then the kernel-dependent tests
# once more with the C kernels off (PINNKAN_NATIVE=0), so that the fallback stays correct.
# make docs: build the documentation site into site/ in strict mode (a warning fails it).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs install clean

demo: $(STAMP)
	$(BIN)/pinnkan solve heat1d --out runs/heat1d

test: $(STAMP)
	$(BIN)/python -m pytest -q
	PINNKAN_NATIVE=0 $(BIN)/python -m pytest -q -p no:cacheprovider tests/models tests/pde/test_engines.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,mesh,xarray,tensorboard,docs]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) runs site
