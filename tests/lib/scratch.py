"""Scratch copies of the repository for tests of the front door
(configure, build.sh, the series scripts): they may break files freely."""

import os
import shutil
import subprocess
import tempfile

from tests.lib.paths import TOP
SERIES = 'patches/qemu-10.0.2'


def run(cmd, cwd=TOP, env=None):
    """Runs cmd with stderr folded into stdout; returns the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=cwd, env=full_env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class ScratchRepo:
    """A copy of the repository's own files (no build output)."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='cloak-build-test-')
        self.top = os.path.join(self.tmp, 'repo')
        def ignore(d, names):
            # the top level's build output, git data and configuration only
            return ({'build', '.git', 'config.mk'} & set(names)
                    if os.path.samefile(d, TOP) else set())

        shutil.copytree(TOP, self.top, ignore=ignore)

    def path(self, *parts):
        return os.path.join(self.top, *parts)

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
