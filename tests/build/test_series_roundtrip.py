"""scripts/series-checkout then scripts/series-export: with no edits,
patches/ comes back byte-identical; a new commit takes the number after
the one before it, and a number out of order is refused with nothing
written."""

import filecmp
import os
import subprocess
import unittest

from tests.lib.scratch import SERIES, TOP, ScratchRepo, run


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def tree_files(top):
    out = {}
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, top)] = p
    return out


class SeriesRoundTrip(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.scratch = ScratchRepo()
        cls.checkout = os.path.join(cls.scratch.tmp, 'qc')
        res = run([cls.scratch.path('scripts', 'series-checkout'),
                   '--only-touched', cls.checkout], cwd=cls.scratch.top)
        if res.returncode != 0:
            cls.scratch.cleanup()
            raise AssertionError('series-checkout failed:\n' + res.stdout)

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def git(self, *args):
        # An identity of its own: a fresh machine has no git configuration.
        return subprocess.run(['git', '-C', self.checkout,
                               '-c', 'user.name=qemu-cloak test',
                               '-c', 'user.email=test@qemu-cloak.invalid']
                              + list(args),
                              check=True, text=True,
                              stdout=subprocess.PIPE).stdout

    def export(self):
        return run([self.scratch.path('scripts', 'series-export'),
                    self.checkout], cwd=self.scratch.top)

    def assertSameTree(self, a, b):
        fa, fb = tree_files(a), tree_files(b)
        self.assertEqual(sorted(fa), sorted(fb))
        differ = [n for n in fa if not filecmp.cmp(fa[n], fb[n], shallow=False)]
        self.assertEqual(differ, [], 'files that changed in the round trip')

    def series(self):
        with open(self.scratch.path(SERIES, 'series')) as f:
            return f.read().split()

    def test_1_roundtrip_is_byte_identical(self):
        res = self.export()
        self.assertEqual(res.returncode, 0, res.stdout)
        self.assertSameTree(os.path.join(self.scratch.top, 'patches'),
                            os.path.join(TOP, 'patches'))

    def test_2_new_commit_takes_the_next_number(self):
        before = self.series()
        with open(os.path.join(self.checkout, 'VERSION'), 'a') as f:
            f.write('\n')
        self.git('add', 'VERSION')
        self.git('commit', '-q', '-m', 'version: a test commit')
        res = self.export()
        self.assertEqual(res.returncode, 0, res.stdout)
        after = self.series()
        last = int(before[-1][:4])
        self.assertEqual(after, before + ['%04d-version-a-test-commit.patch'
                                          % (last + 1)])

    def test_3_number_out_of_order_is_refused(self):
        before = self.series()
        snapshot = {n: read(p) for n, p in
                    tree_files(self.scratch.path(SERIES)).items()}
        self.git('commit', '-q', '--allow-empty', '-m', 'an out-of-order patch')
        self.git('notes', '--ref=cloak-series', 'add', '-m', '0005', 'HEAD')
        res = self.export()
        self.assertNotEqual(res.returncode, 0, res.stdout)
        self.assertIn('would be patch 0005, not after', res.stdout)
        self.assertEqual(self.series(), before)
        self.assertEqual({n: read(p) for n, p in
                          tree_files(self.scratch.path(SERIES)).items()}, snapshot)


if __name__ == '__main__':
    unittest.main()
