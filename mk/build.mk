# Tests of the build front door itself (configure, build.sh).
UNIT_CHECKS += check-build-errors

.PHONY: check-build-errors
check-build-errors:
	$(PYTHON) -m unittest -v tests.build.test_build_errors tests.build.test_prepare \
		tests.build.test_make_help tests.build.test_series_roundtrip \
		tests.build.test_runner
