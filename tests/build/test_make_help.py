"""`make help` lists the documented targets, each of which exists."""

import os
import re
import subprocess
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


class MakeHelp(unittest.TestCase):

    def test_help_lists_real_targets(self):
        out = subprocess.run(['make', '--no-print-directory', '-s', 'help'],
                             cwd=TOP, check=True, text=True,
                             stdout=subprocess.PIPE).stdout
        listed = re.findall(r'(?m)^  ([a-z0-9-]+)\s{2,}\S', out)
        for t in ('run', 'check', 'build', 'install', 'deb', 'bench', 'help'):
            self.assertIn(t, listed)
        # make's database: every listed name is a target with a rule.
        db = subprocess.run(['make', '-pnq', '-f', 'Makefile', 'help'],
                            cwd=TOP, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL).stdout
        targets = set(re.findall(r'(?m)^([a-z0-9-]+):', db))
        self.assertEqual([t for t in listed if t not in targets], [])
        self.assertEqual(len(listed), len(set(listed)), 'a target listed twice')


if __name__ == '__main__':
    unittest.main()
