"""Re-preparing the tree after a series change keeps ninja honest: a file
the new series no longer patches goes back to its pristine content with a
new mtime (the pristine one is older than its object file), while files
that come out the same keep theirs, so nothing else is rebuilt."""

import os
import subprocess
import time
import unittest

from tests.lib.scratch import SERIES, ScratchRepo, run


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def patched_files(patch):
    with open(patch) as f:
        return {l[6:].rstrip('\n') for l in f if l.startswith('+++ b/')}


class PrepareTests(unittest.TestCase):

    def setUp(self):
        self.scratch = ScratchRepo()
        self.addCleanup(self.scratch.cleanup)
        self.build = self.scratch.path('build')
        self.src = os.path.join(self.build, 'qemu-src')

    def prepare(self):
        res = run([self.scratch.path('build.sh'), 'prepare'],
                  cwd=self.scratch.top, env={'BUILD_DIR': self.build})
        self.assertEqual(res.returncode, 0, res.stdout)
        return res

    def test_series_change_marks_reverted_files(self):
        series = self.scratch.path(SERIES, 'series')
        with open(series) as f:
            lines = f.read().splitlines()
        patches = [l for l in lines if l.strip() and not l.startswith('#')]
        last = patches[-1]
        others = set()
        for p in patches[:-1]:
            others |= patched_files(self.scratch.path(SERIES, p))
        only_last = sorted(patched_files(self.scratch.path(SERIES, last)) - others)
        self.assertTrue(only_last, '%s shares all its files' % last)
        same = sorted(others - patched_files(self.scratch.path(SERIES, last)))
        self.assertTrue(same, 'every file is also patched by %s' % last)
        kept = same[0]

        self.prepare()
        past = time.time() - 3600
        for f in only_last + [kept]:
            os.utime(os.path.join(self.src, f), (past, past))
        reverted_before = {f: read(os.path.join(self.src, f))
                           for f in only_last}

        with open(series, 'w') as f:
            f.write('\n'.join(l for l in lines if l != last) + '\n')
        started = time.time()
        self.prepare()

        pristine = subprocess.run(
            [self.scratch.path('build.sh'), 'fetch'], cwd=self.scratch.top,
            text=True, stdout=subprocess.PIPE).stdout
        pristine = [l.split(': ', 1)[1] for l in pristine.splitlines()
                    if 'pristine tree: ' in l][0]
        for f in only_last:
            path = os.path.join(self.src, f)
            content = read(path)
            self.assertEqual(content, read(os.path.join(pristine, f)),
                             '%s is not pristine' % f)
            self.assertNotEqual(content, reverted_before[f])
            self.assertGreaterEqual(os.stat(path).st_mtime, started - 1,
                                    '%s reverted with an old mtime' % f)
        # Patched the same way by both series: untouched, no rebuild.
        self.assertAlmostEqual(os.stat(os.path.join(self.src, kept)).st_mtime,
                               past, delta=1)


if __name__ == '__main__':
    unittest.main()
