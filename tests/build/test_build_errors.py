"""Bad input to the build front door: each case must fail loudly, name the
cause, exit non-zero and leave nothing half-prepared."""

import os
import unittest

from tests.lib.scratch import SERIES, ScratchRepo, run


class BuildErrorTests(unittest.TestCase):

    def setUp(self):
        self.scratch = ScratchRepo()
        self.addCleanup(self.scratch.cleanup)

    def build_sh(self, *stages, env=None):
        return run([self.scratch.path('build.sh')] + list(stages),
                   cwd=self.scratch.top, env=env)

    def assertFails(self, res, *needles):
        self.assertNotEqual(res.returncode, 0, res.stdout)
        for n in needles:
            self.assertIn(n, res.stdout)

    def test_unknown_configure_option(self):
        res = run([self.scratch.path('configure'), '--enable-magic'],
                  cwd=self.scratch.top)
        self.assertFails(res, "unknown option '--enable-magic'")
        self.assertFalse(os.path.exists(self.scratch.path('config.mk')))

    def test_relative_prefix_rejected(self):
        res = run([self.scratch.path('configure'), '--prefix=usr'],
                  cwd=self.scratch.top)
        self.assertFails(res, '--prefix must be an absolute path')

    def test_missing_base(self):
        res = self.build_sh('fetch', env={'QEMU_SOURCE': '/nonexistent/qemu.tar.xz'})
        self.assertFails(res, '/nonexistent/qemu.tar.xz does not exist')

    def test_checksum_mismatch(self):
        bad = os.path.join(self.scratch.tmp, 'qemu-10.0.2.tar.xz')
        with open(bad, 'wb') as f:
            f.write(b'not a tarball\n')
        res = self.build_sh('fetch', env={'QEMU_SOURCE': bad})
        self.assertFails(res, 'checksum mismatch for ' + bad)

    def test_corrupt_cached_tarball(self):
        cache = os.path.join(self.scratch.tmp, 'cache')
        os.makedirs(os.path.join(cache, 'tarballs'))
        with open(os.path.join(cache, 'tarballs', 'qemu_10.0.2+ds.orig.tar.xz'), 'wb') as f:
            f.write(b'\0' * 1024)
        res = self.build_sh('fetch', env={'QEMU_CLOAK_CACHE': cache})
        self.assertFails(res, 'is corrupt')
        self.assertEqual(os.listdir(os.path.join(cache, 'tarballs')),
                         ['qemu_10.0.2+ds.orig.tar.xz'])

    def test_wrong_version_tree(self):
        tree = os.path.join(self.scratch.tmp, 'qemu-9.9.9')
        os.makedirs(tree)
        with open(os.path.join(tree, 'VERSION'), 'w') as f:
            f.write('9.9.9\n')
        res = self.build_sh('fetch', env={'QEMU_SOURCE': tree})
        self.assertFails(res, 'is QEMU 9.9.9, the series needs 10.0.2')

    def test_missing_dependency(self):
        with open(self.scratch.path('mk', 'test.packages'), 'w') as f:
            f.write('qemu-cloak-no-such-package\n')
        res = self.build_sh('deps-check')
        self.assertFails(res, 'missing dependencies: qemu-cloak-no-such-package')

    def test_non_root_check_names_make_deps(self):
        """`make check` as another user on a machine that lacks something:
        it stops at once and names `make deps` (root would install)."""
        with open(self.scratch.path('mk', 'test.packages'), 'w') as f:
            f.write('qemu-cloak-no-such-package\n')
        cmd = ['make', '--no-print-directory', '-C', self.scratch.top,
               'setup-deps']
        if os.geteuid() == 0:
            for d in (self.scratch.tmp, self.scratch.top):
                os.chmod(d, 0o755)
            cmd = ['setpriv', '--reuid=65534', '--regid=65534',
                   '--clear-groups'] + cmd
        res = run(cmd, cwd=self.scratch.top)
        self.assertFails(res, 'missing dependencies: qemu-cloak-no-such-package',
                         "run 'make deps' as root")
        with open(self.scratch.path('Makefile')) as f:
            self.assertRegex(f.read(), r'(?m)^check: setup-deps ')

    def corrupt_patch(self, transform):
        # The patch that wires our directories into meson.build.
        series = self.scratch.path(SERIES, 'series')
        with open(series) as f:
            names = [l.strip() for l in f if l.strip() and not l.startswith('#')]
        def text_of(n):
            with open(self.scratch.path(SERIES, n)) as f:
                return f.read()
        name = next(n for n in names if "subdir('plugins')" in text_of(n))
        p = self.scratch.path(SERIES, name)
        with open(p) as f:
            text = f.read()
        new = transform(text)
        self.assertNotEqual(new, text, 'test did not change the patch')
        with open(p, 'w') as f:
            f.write(new)
        return name

    def test_patch_that_does_not_apply(self):
        # Change a context line: the hunk no longer matches the base.
        name = self.corrupt_patch(
            lambda t: t.replace(" subdir('plugins')\n", " subdir('plugins-moved')\n", 1))
        res = self.build_sh('check-series')
        self.assertFails(res, 'patch %s does not apply' % name, 'meson.build')

    def test_failed_prepare_leaves_tree_alone(self):
        build = self.scratch.path('build')
        src = os.path.join(build, 'qemu-src')
        os.makedirs(src)
        marker = os.path.join(src, 'previous-tree')
        open(marker, 'w').close()
        name = self.corrupt_patch(
            lambda t: t.replace(" subdir('plugins')\n", " subdir('plugins-moved')\n", 1))
        res = self.build_sh('prepare', env={'BUILD_DIR': build})
        self.assertFails(res, 'patch %s does not apply' % name)
        self.assertTrue(os.path.exists(marker), 'previous tree was touched')
        self.assertEqual(sorted(os.listdir(build)), ['qemu-src'],
                         'half-prepared tree left behind')

    def test_series_names_missing_patch(self):
        with open(self.scratch.path(SERIES, 'series'), 'a') as f:
            f.write('9999-no-such.patch\n')
        res = self.build_sh('check-series')
        self.assertFails(res, 'series names 9999-no-such.patch')

    def test_unknown_stage(self):
        res = self.build_sh('frobnicate')
        self.assertFails(res, "unknown stage 'frobnicate'")


if __name__ == '__main__':
    unittest.main()
