"""The test runner (python3 -m tests) knows every test module once, and
make check runs each of them."""

import glob
import os
import re
import unittest

from tests.__main__ import BOOT, UNIT
from tests.lib.paths import TOP


class Runner(unittest.TestCase):

    def test_every_module_in_one_selection(self):
        found = sorted(
            os.path.relpath(p, TOP)[:-3].replace(os.sep, ".")
            for p in glob.glob(os.path.join(TOP, "tests", "*", "test_*.py")))
        self.assertEqual(sorted(UNIT + BOOT), found)
        self.assertEqual(set(UNIT) & set(BOOT), set())

    def test_make_check_runs_every_module(self):
        text = ""
        for f in [os.path.join(TOP, "Makefile")] + glob.glob(
                os.path.join(TOP, "mk", "*.mk")):
            with open(f) as fh:
                text += fh.read()
        for m in UNIT + BOOT:
            with self.subTest(module=m):
                self.assertTrue(re.search(r"\s%s(\s|$)" % re.escape(m), text),
                                "no make target runs %s" % m)


if __name__ == "__main__":
    unittest.main()
