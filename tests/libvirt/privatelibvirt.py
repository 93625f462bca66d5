"""A libvirtd of the test's own, started without systemd and stopped on exit.

The daemon runs as a child of the test inside a private mount namespace in
which the test's scratch directories are bind-mounted over /etc/libvirt,
/run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt.
Nothing of the host's libvirt configuration or state is read or changed,
and the daemon cannot meet another libvirtd.  virsh reaches it through
qemu:///system?socket=<scratch>/run/libvirt/libvirt-sock.

Where mount namespaces are not allowed (mode "global", or
CLOAK_LIBVIRT_MODE=global), the daemon uses the real paths instead:
/etc/libvirt/qemu.conf is backed up, rewritten and restored on exit, and
every file or directory that appeared under /run/libvirt, /var/lib/libvirt,
/var/log/libvirt and /var/cache/libvirt while the daemon ran is removed.

qemu.conf settings (see research/libvirt-notes.md): QEMU runs as root with no
security driver, cgroups, per-domain namespaces or file relabelling, and
libvirtd writes the domain log itself, so virtlogd is not needed.
"""

import ctypes
import os
import shutil
import signal
import stat
import subprocess
import time

QEMU_CONF = """\
# Written by the qemu-cloak libvirt test.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""

LIBVIRTD_CONF = """\
# Written by the qemu-cloak libvirt test.
log_outputs = "3:file:{log}"
"""

# Host paths that the daemon sees replaced by the scratch directory's.
PRIVATE_DIRS = {
    "etc": "/etc/libvirt",
    "run": "/run/libvirt",
    "lib": "/var/lib/libvirt",
    "log": "/var/log/libvirt",
    "cache": "/var/cache/libvirt",
}

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child: get SIGTERM when the test process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    os.setsid()


class VirshError(Exception):
    def __init__(self, args, proc):
        self.proc = proc
        super().__init__("virsh %s: exit %d: %s" % (" ".join(args), proc.returncode,
                                                    proc.stderr.strip()))


def namespaces_allowed():
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc.returncode == 0


def process_state(pid):
    """'R', 'S', 'Z', ... or None when gone; /proc, since kill -0 sees zombies."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1]
    except OSError:
        return None
    return None


class PrivateLibvirtd:
    def __init__(self, scratch, cache_dir=None, mode=None, log=print):
        self.scratch = os.path.abspath(scratch)
        self.mode = mode or os.environ.get("CLOAK_LIBVIRT_MODE") or \
            ("namespace" if namespaces_allowed() else "global")
        if self.mode not in ("namespace", "global"):
            raise ValueError("CLOAK_LIBVIRT_MODE must be namespace or global, not %r" % self.mode)
        self.cache_dir = cache_dir
        self.log = log
        self.proc = None
        self.restore = []           # (path, backup or None) to undo in stop()
        self.created_dirs = []
        self.before = None          # global mode: what existed before start()
        if self.mode == "namespace":
            self.paths = {k: os.path.join(self.scratch, k) for k in PRIVATE_DIRS}
            if cache_dir:
                self.paths["cache"] = cache_dir
        else:
            self.paths = dict(PRIVATE_DIRS)
        self.socket = os.path.join(self.paths["run"], "libvirt-sock")
        self.uri = "qemu:///system?socket=%s" % self.socket
        self.daemon_log = os.path.join(self.scratch, "libvirtd.log")
        self.pidfile = os.path.join(self.scratch, "libvirtd.pid")

    # ------------------------------------------------------------ paths

    def domain_log(self, name):
        return os.path.join(self.paths["log"], "qemu", name + ".log")

    def domain_pid(self, name):
        """PID of the domain's QEMU from libvirt's pidfile, or None."""
        try:
            with open(os.path.join(self.paths["run"], "qemu", name + ".pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------ start/stop

    def _write(self, path, text):
        if self.mode == "global" and os.path.exists(path):
            backup = path + ".cloak-test-orig"
            shutil.copy2(path, backup)
            self.restore.append((path, backup))
        elif self.mode == "global":
            self.restore.append((path, None))
        with open(path, "w") as f:
            f.write(text)

    def _existing(self):
        """{path: (uid, gid, mode)} under the daemon's global directories."""
        seen = {}
        for key in ("run", "lib", "log", "cache"):
            for root, dirs, files in os.walk(PRIVATE_DIRS[key]):
                for p in [root] + [os.path.join(root, n) for n in dirs + files]:
                    try:
                        st = os.lstat(p)
                    except FileNotFoundError:
                        continue
                    seen[p] = (st.st_uid, st.st_gid, st.st_mode)
        return seen

    def _remove_new(self):
        """Global mode: remove what the daemon added, put back owners and modes
        it changed (libvirt chowns its state directories to the QEMU user)."""
        now = self._existing()
        for path in sorted(set(now) - set(self.before), key=len, reverse=True):
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except FileNotFoundError:
                pass
        for path, (uid, gid, mode) in self.before.items():
            if path in now and now[path] != (uid, gid, mode) and not os.path.islink(path):
                os.chown(path, uid, gid)
                os.chmod(path, stat.S_IMODE(mode))
        self.before = None

    def start(self, timeout=60):
        os.makedirs(self.scratch, exist_ok=True)
        if self.mode == "global":
            self.before = self._existing()
        if self.mode == "namespace":
            for key, host in PRIVATE_DIRS.items():
                os.makedirs(self.paths[key], exist_ok=True)
                if not os.path.isdir(host):
                    # A bind mount needs a mount point; remove it again if empty.
                    os.makedirs(host)
                    self.created_dirs.append(host)
            os.makedirs(os.path.join(self.paths["etc"], "qemu"), exist_ok=True)
            os.makedirs(os.path.join(self.paths["log"], "qemu"), exist_ok=True)
        self._write(os.path.join(self.paths["etc"], "qemu.conf"), QEMU_CONF)
        conf = os.path.join(self.scratch, "libvirtd.conf")
        with open(conf, "w") as f:
            f.write(LIBVIRTD_CONF.format(log=self.daemon_log))
        argv = ["libvirtd", "-f", conf, "-p", self.pidfile]
        env = dict(os.environ)
        if self.mode == "namespace":
            script = ['set -e']
            for key, host in PRIVATE_DIRS.items():
                script.append('mount --bind "$CLOAK_%s" %s' % (key.upper(), host))
                env["CLOAK_%s" % key.upper()] = self.paths[key]
            script.append('exec "$@"')
            argv = ["unshare", "--mount", "--propagation", "private", "--",
                    "/bin/sh", "-c", "\n".join(script), "sh"] + argv
        self.log("starting libvirtd (%s mode, scratch %s)" % (self.mode, self.scratch))
        self.stderr = open(os.path.join(self.scratch, "libvirtd.stderr"), "w")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("libvirtd exited with %d: %s" % (self.proc.returncode,
                                                                    self.tail_logs()))
            if os.path.exists(self.socket):
                probe = self.virsh("uri", check=False)
                if probe.returncode == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("libvirtd did not answer on %s within %d s: %s"
                                   % (self.socket, timeout, self.tail_logs()))
            time.sleep(0.1)

    def tail_logs(self, lines=15):
        out = []
        for p in (os.path.join(self.scratch, "libvirtd.stderr"), self.daemon_log):
            try:
                with open(p) as f:
                    out += f.read().splitlines()[-lines:]
            except OSError:
                pass
        return "\n".join(out)

    def virsh(self, *args, check=True, timeout=120):
        proc = subprocess.run(["virsh", "-c", self.uri, "-q"] + list(args),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise VirshError(args, proc)
        return proc

    def domains(self):
        out = self.virsh("list", "--all", "--name", check=False).stdout
        return [n for n in out.split() if n]

    def stop(self):
        """Destroy and undefine every domain, stop the daemon, restore files.

        Safe to call more than once and after a failed start.
        """
        errors = []
        if self.proc and self.proc.poll() is None:
            for name in self.domains():
                self.virsh("destroy", name, check=False)
                self.virsh("undefine", "--snapshots-metadata", "--nvram", name, check=False)
        # QEMU outlives libvirtd: kill any the daemon did not.
        qemu_run = os.path.join(self.paths["run"], "qemu")
        if self.mode == "namespace" and os.path.isdir(qemu_run):
            for f in os.listdir(qemu_run):
                if f.endswith(".pid"):
                    self._kill_pidfile(os.path.join(qemu_run, f), errors)
        if self.proc:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    errors.append("libvirtd ignored SIGTERM; killed")
                    self.proc.kill()
                    self.proc.wait()
            self.stderr.close()
            self.proc = None
        if self.before is not None:
            self._remove_new()
        for path, backup in reversed(self.restore):
            if backup:
                os.replace(backup, path)
            elif os.path.exists(path):
                os.unlink(path)
        self.restore = []
        for d in reversed(self.created_dirs):
            try:
                os.rmdir(d)
            except OSError:
                pass
        self.created_dirs = []
        return errors

    def _kill_pidfile(self, pidfile, errors):
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        state = process_state(pid)
        if state and state != "Z":
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read().split(b"\0")[0].decode(errors="replace")
            except OSError:
                return
            if "qemu" in os.path.basename(cmd):
                errors.append("QEMU pid %d was still running; killed" % pid)
                os.kill(pid, signal.SIGKILL)
