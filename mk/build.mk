# Tests of the build front door itself (configure, build.sh).
UNIT_CHECKS += check-build-errors

.PHONY: check-build-errors
check-build-errors:
	$(PYTHON) -m unittest -v tests/build/test_build_errors.py tests/build/test_prepare.py \
		tests/build/test_make_help.py tests/build/test_series_roundtrip.py
