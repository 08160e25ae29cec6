"""servers.py -- the integration-test harness.

Starts the responder behind a real web server on a free loopback port and
stops everything it started by PID:

  lighttpd   mod_fastcgi spawns build/mfa.fcgi ("bin-path", "max-procs" 1)
             with the listening socket on FD 0; the responder's supervisor
             pre-forks MFA_WORKERS workers on it.
  nginx      spawn-fcgi spawns build/mfa.fcgi on a unix socket (FD 0, same
             supervisor), nginx passes requests to it with fastcgi_pass.

Both configurations come from the templates in contrib/ (the demo uses the
lighttpd one too). Every process started for a server is found again
through the server's private directory: it appears in the process's
command line (lighttpd, nginx) or environment (MFA_DB of the responder and
its workers), so teardown can prove nothing is left.

Also here: Store (a store directory driven with "mfactl --json"), the HTTP
helpers shared by the tests, and a raw-socket request for what an HTTP
library will not send.
"""

import base64
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
FCGI_BIN = Path(os.environ.get("MFA_FCGI_BIN",
                               REPO / "build" / "mfa.fcgi")).resolve()
MFACTL = Path(os.environ.get("MFACTL_BIN",
                             REPO / "build" / "mfactl")).resolve()
# MFA_ASAN_LEAKS=1: LeakSanitizer reports of an ASan responder fail too.
ASAN_LEAKS = os.environ.get("MFA_ASAN_LEAKS", "0") == "1"
LIGHTTPD_TEMPLATE = REPO / "contrib" / "lighttpd" / "mfa.conf.in"
NGINX_TEMPLATE = REPO / "contrib" / "nginx" / "mfa.conf.in"
APACHE_TEMPLATE = REPO / "contrib" / "apache" / "httpd.conf.in"
FCGID_TEMPLATE = REPO / "contrib" / "apache" / "mfa-fcgid.conf.in"
MFA_SPAWN = REPO / "contrib" / "mfa-spawn"
APACHE_MODDIR = Path("/usr/lib/apache2/modules")
APACHE_USER = "www-data"

KINDS = ["lighttpd", "nginx"]
# Every deployment of README "Deployment", for the smoke suite
# (test_hosts.py): Apache mod_fcgid, lighttpd, nginx + spawn-fcgi started by
# contrib/mfa-spawn from a spawn.conf, nginx + the service's own --listen.
HOST_KINDS = ["apache", "lighttpd", "mfa-spawn", "standalone"]
HOST = "127.0.0.1"
START_TIMEOUT = 10.0   # seconds until a server answers
STOP_TIMEOUT = 10.0    # seconds for a SIGTERM before SIGKILL
HTTP_TIMEOUT = 10.0    # seconds per request
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Every response carries these (contract: "every response").
COMMON_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
}

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TOKEN43 = re.compile(r"^[A-Za-z0-9_-]{43}$")
CHALLENGE_ID = re.compile(r"^auth_challenge_[0-9A-Za-z]+$")


class HarnessError(Exception):
    """The harness itself could not start or stop something."""


def clean_env(**extra):
    """A minimal environment: PATH, plus "extra"; no MFA_* leaks in from
    the caller's shell."""
    env = {"PATH": os.environ.get("PATH", SYSTEM_PATH) + ":" + SYSTEM_PATH}
    for k in ("LANG", "LC_ALL", "TZ"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update({k: str(v) for k, v in extra.items()})
    return env


# ---------------------------------------------------------------- store

class Store:
    """A store directory, driven through "mfactl --db DIR --json"."""

    def __init__(self, path, env=None):
        self.path = Path(path)
        self.env = dict(env or {})  # MFA_* for every mfactl run

    @classmethod
    def create(cls, path):
        store = cls(path)
        out = store.ctl("init")
        assert out.get("created") is True, out
        return store

    def run(self, *args, json_out=True, env=None, argv0=None):
        """Runs mfactl (or "argv0", another build of it); returns the
        CompletedProcess (text)."""
        argv = [str(argv0 or MFACTL), "--db", str(self.path)]
        if json_out:
            argv.append("--json")
        argv += [str(a) for a in args]
        return subprocess.run(argv, capture_output=True, text=True,
                              env=env or clean_env(**self.env),
                              timeout=30,
                              stdin=subprocess.DEVNULL)

    def sweep_ahead(self, ahead_ms, clock_file):
        """"mfactl sweep" by the test-clock build (make testclock), its
        clock "ahead_ms" ahead of the real one (written to "clock_file"):
        expiry tested without sleeping. Returns its JSON answer."""
        Path(clock_file).write_text(str(int(ahead_ms)))
        tc = Path(MFACTL).parent / "testclock" / "mfactl"
        p = self.run("sweep", env=clean_env(
            **dict(self.env, MFA_TEST_CLOCK_FILE=str(clock_file))),
            argv0=tc)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def ctl(self, *args):
        """Runs mfactl --json, requires exit 0 and exactly one JSON object
        on stdout; returns it."""
        p = self.run(*args)
        if p.returncode != 0:
            raise AssertionError("mfactl %s: exit %d, stderr %r" %
                                 (" ".join(map(str, args)), p.returncode,
                                  p.stderr))
        try:
            obj = json.loads(p.stdout)
        except ValueError as e:
            raise AssertionError("mfactl %s: stdout is not one JSON "
                                 "object (%s): %r" %
                                 (" ".join(map(str, args)), e, p.stdout))
        assert isinstance(obj, dict), p.stdout
        return obj

    # -- provisioning shortcuts
    def add_client(self, name, types="otp oob"):
        return self.ctl("client", "add", name, "--challenge-types", types)

    def enroll_otp(self, user, secret=None):
        args = ["user", "enroll", user, "--type", "otp"]
        if secret:
            args += ["--secret", secret]
        return self.ctl(*args)

    def enroll_oob(self, user, channel, to):
        return self.ctl("user", "enroll", user, "--type", "oob",
                        "--channel", channel, "--to", to)

    def issue_token(self, client_id, user_id, *extra):
        return self.ctl("token", "issue", "--client", client_id,
                        "--user", user_id, *extra)

    def challenge_show(self, cid):
        return self.ctl("challenge", "show", cid)

    # -- messages waiting for delivery
    @property
    def spool(self):
        return self.path / "spool"

    def outbox(self, queue=True):
        """{name: JSON bytes} of the store's outbox (mdb_dump -s outbox, in
        hex), after commit_queue unless "queue" is false. The names are
        the keys plus ".json", as a spool file of the message would be
        named."""
        if queue:
            self.commit_queue()
        p = subprocess.run(["mdb_dump", "-s", "outbox", str(self.path)],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            if "MDB_NOTFOUND" in p.stderr:  # a store of an earlier build
                return {}
            raise HarnessError("mdb_dump: %s" % p.stderr)
        body = p.stdout.split("HEADER=END\n", 1)[1].split("DATA=END")[0]
        rows = [bytes.fromhex(ln.strip()) for ln in body.splitlines()]
        return {k.decode() + ".json": v for k, v in zip(rows[::2], rows[1::2])}

    def spool_files(self):
        """Names of the messages waiting for delivery: the store's outbox
        (where the service puts them) and the finished files of the spool
        directory (not the '.' temp files)."""
        names = set(self.outbox())
        if self.spool.is_dir():
            names |= {n for n in os.listdir(self.spool)
                      if n.endswith(".json") and not n.startswith(".")}
        return names

    def read_spool(self, name):
        """The message "name" (spool_files), parsed."""
        box = self.outbox()
        if name in box:
            return json.loads(box[name].decode("utf-8"))
        with open(self.spool / name, encoding="utf-8") as f:
            return json.load(f)

    def wait_new_spool(self, before, count=1, timeout=5.0):
        """Waits (bounded) until "count" messages not in "before" wait for
        delivery; returns their names. A message is committed with its
        challenge's queue, so a short wait is allowed, never assumed."""
        deadline = time.monotonic() + timeout
        while True:
            new = self.spool_files() - before
            if len(new) >= count or time.monotonic() > deadline:
                return new
            time.sleep(0.02)

    # -- read-only looks at the LMDB environment (lmdb-utils)
    def commit_queue(self):
        """Commits the otp challenges the service queued in sync.state (any
        mfactl command does, as it opens the store), so that the LMDB tools
        below see every challenge that was acknowledged. A store mfactl
        cannot open (made read-only by a test) is read as it is."""
        if (self.path / "sync.state").exists():
            self.run("store", "info")

    def lmdb_dump(self, queue=True):
        """mdb_dump -a -p of the environment (printable), as text, after
        commit_queue unless "queue" is false (what LMDB holds now)."""
        if queue:
            self.commit_queue()
        p = subprocess.run(["mdb_dump", "-a", "-p", str(self.path)],
                           capture_output=True, text=True, timeout=30,
                           errors="replace")
        if p.returncode != 0:
            raise HarnessError("mdb_dump: %s" % p.stderr)
        return p.stdout

    def challenge_ids(self, queue=True):
        """Every key of the environment that is a challenge ID (those still
        queued in sync.state too, unless "queue" is false)."""
        ids = set()
        for line in self.lmdb_dump(queue).splitlines():
            if line.startswith(" ") and CHALLENGE_ID.match(line[1:]):
                ids.add(line[1:])
        return ids

    def entry_counts(self):
        """{database name: entries} of the environment (mdb_stat -a)."""
        self.commit_queue()
        p = subprocess.run(["mdb_stat", "-a", str(self.path)],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise HarnessError("mdb_stat: %s" % p.stderr)
        counts, name = {}, "(main)"
        for line in p.stdout.splitlines():
            m = re.match(r"^Status of (.*)$", line.strip())
            if m:
                name = m.group(1)
                continue
            m = re.match(r"^Entries: (\d+)$", line.strip())
            if m:
                counts[name] = int(m.group(1))
        return counts


# ------------------------------------------------------------ processes

def proc_stat(pid):
    """(ppid, state) of "pid", or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[1]), rest[0]


def pid_alive(pid):
    st = proc_stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children(pid):
    """Live child PIDs of "pid"."""
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st and st[0] == pid and st[1] not in ("Z", "X"):
            out.append(p)
    return sorted(out)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def procs_mentioning(text):
    """{pid: cmdline} of live processes whose command line or environment
    contains "text" (not this process)."""
    needle = text.encode()
    found = {}
    for p in all_pids():
        if p == os.getpid() or not pid_alive(p):
            continue
        cmd = _read("/proc/%d/cmdline" % p)
        if needle in cmd or needle in _read("/proc/%d/environ" % p):
            found[p] = cmd.replace(b"\0", b" ").decode(errors="replace")
    return found


def wait_gone(pids, timeout):
    """Waits (bounded) until none of "pids" is alive; returns survivors."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in pids if pid_alive(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def terminate(pid, timeout=STOP_TIMEOUT, popen=None):
    """SIGTERM, bounded wait, then SIGKILL. Returns True when SIGTERM was
    enough."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if popen is not None:
        try:
            popen.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
            return False
    if not wait_gone([pid], timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    wait_gone([pid], 5)
    return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def fill(template, values):
    text = Path(template).read_text()
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise HarnessError("unfilled placeholders %s in %s" % (left, template))
    return text


# -------------------------------------------------------------- servers

class WebServer:
    """One web server with the responder behind it. "root" is a private
    directory: "root/store" is the store, "root/srv" the server's
    sockets, configuration and logs."""

    kind = None

    def __init__(self, root, store, workers=3, env=None, fcgi_bin=None):
        self.root = Path(root)
        self._fcgi_bin = fcgi_bin
        self.store = store
        self.state = self.root / "srv"
        self.state.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = "http://%s:%d" % (HOST, self.port)
        self.workers_wanted = workers
        self.mfa_env = {
            "MFA_DB": str(store.path),
            "MFA_WORKERS": str(workers),
            "MFA_LOG_LEVEL": "debug",
        }
        # A sanitizer build (MFA_FCGI_BIN=build/asan/mfa.fcgi) writes its
        # reports here, not to a stderr spawn-fcgi discards; stop() fails
        # on any. Other builds ignore these variables.
        self.mfa_env.update({
            "ASAN_OPTIONS": "log_path=%s:detect_leaks=%d" % (
                self.state / "asan", 1 if ASAN_LEAKS else 0),
            "UBSAN_OPTIONS": "log_path=%s:print_stacktrace=1" % (
                self.state / "ubsan"),
        })
        self.mfa_env.update({k: str(v) for k, v in (env or {}).items()})
        self.proc = None
        self.stopped = False

    @property
    def fcgi_bin(self):
        """The responder build: the one given, else servers.FCGI_BIN as it
        is when the server starts (test_verify swaps it)."""
        return Path(self._fcgi_bin or FCGI_BIN).resolve()

    # -- subclass hooks
    def _launch(self):
        raise NotImplementedError

    def supervisor_pid(self):
        raise NotImplementedError

    def _stop_processes(self):
        raise NotImplementedError

    # -- common
    def log_text(self, tail=4000):
        """The logs of the server (the last "tail" characters of each;
        None: all). Under lighttpd the responder's stderr is in
        lighttpd-stdout.log; spawn-fcgi sends it to /dev/null."""
        out = []
        for f in sorted(self.state.glob("*.log")):
            text = f.read_text(errors="replace")
            out.append("==> %s <==\n%s" % (
                f.name, text if tail is None else text[-tail:]))
        return "\n".join(out)

    def start(self):
        for b in (self.fcgi_bin, MFACTL):
            if not os.access(b, os.X_OK):
                raise HarnessError("%s is not built (make all)" % b)
        self._launch()
        deadline = time.monotonic() + START_TIMEOUT
        while not port_open(self.port):
            if self.proc.poll() is not None:
                raise HarnessError("%s exited with %s at start\n%s" % (
                    self.kind, self.proc.returncode, self.log_text()))
            if time.monotonic() > deadline:
                raise HarnessError("%s: port %d not open after %gs\n%s" % (
                    self.kind, self.port, START_TIMEOUT, self.log_text()))
            time.sleep(0.02)
        # The port is the web server's; wait until the responder answers
        # too (any JSON reply to an unknown path).
        last = None
        probe = requests.Session()
        probe.trust_env = False     # never through a proxy
        while time.monotonic() < deadline:
            try:
                r = probe.get(self.url + "/", timeout=2)
                if r.headers.get("Content-Type", "").startswith(
                        "application/json"):
                    return self
                last = "%d %r" % (r.status_code, r.text[:200])
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.05)
        raise HarnessError("%s: responder not answering after %gs (%s)\n%s"
                           % (self.kind, START_TIMEOUT, last,
                              self.log_text()))

    def workers(self):
        sup = self.supervisor_pid()
        return children(sup) if sup else []

    def wait_workers(self, n, exclude=(), timeout=15.0):
        """Waits (bounded) until the supervisor has "n" live workers none
        of which is in "exclude"; returns them (maybe fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            w = [p for p in self.workers() if p not in exclude]
            if len(w) >= n or time.monotonic() > deadline:
                return w
            time.sleep(0.05)

    def _known_pids(self):
        """The web server, its children, the responder and its workers."""
        pids = []
        if self.proc is not None and self.proc.poll() is None:
            pids.append(self.proc.pid)
            pids += children(self.proc.pid)
        try:
            sup = self.supervisor_pid()
        except Exception:
            sup = None
        if sup:
            pids += [sup] + children(sup)
        return sorted(set(pids))

    def stop(self):
        """Stops the server and its responder by PID; raises
        AssertionError naming every process left behind (after killing
        it)."""
        if self.stopped:
            return
        self.stopped = True
        tracked = self._known_pids()
        self._stop_processes()
        marker = str(self.root)
        left = procs_mentioning(marker)
        for p in tracked:
            if pid_alive(p) and p not in left:
                left[p] = _read("/proc/%d/cmdline" % p).replace(
                    b"\0", b" ").decode(errors="replace")
        if left:
            # Workers drain: give them the same bounded time.
            wait_gone(list(left), STOP_TIMEOUT)
            left = {p: c for p, c in left.items() if pid_alive(p)}
        if left:
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            raise AssertionError("%s left processes behind: %r\n%s" % (
                self.kind, left, self.log_text()))
        self.assert_no_sanitizer_report()

    def sanitizer_reports(self):
        """{file name: text} of the sanitizer reports the responder wrote
        (ASan, LSan, UBSan; see ASAN_OPTIONS above)."""
        out = {}
        for f in sorted(self.state.glob("*san.*")):
            text = f.read_text(errors="replace")
            if re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error:",
                         text):
                out[f.name] = text
        return out

    def assert_no_sanitizer_report(self):
        reports = self.sanitizer_reports()
        if reports:
            raise AssertionError("%s: sanitizer reports:\n%s" % (
                self.kind, "\n".join("==> %s <==\n%s" % (k, v[:4000])
                                      for k, v in reports.items())))


class Lighttpd(WebServer):
    kind = "lighttpd"

    def _launch(self):
        conf = self.state / "lighttpd.conf"
        conf.write_text(fill(LIGHTTPD_TEMPLATE, {
            "HOST": HOST,
            "PORT": self.port,
            "STATE": self.state,
            "FCGI_BIN": self.fcgi_bin,
            "COPY_ENV": ", ".join('"%s"' % k for k in sorted(self.mfa_env)),
        }))
        self.out = open(self.state / "lighttpd-stdout.log", "wb")
        self.proc = subprocess.Popen(
            ["lighttpd", "-D", "-f", str(conf)], stdin=subprocess.DEVNULL,
            stdout=self.out, stderr=subprocess.STDOUT,
            env=clean_env(**self.mfa_env), cwd=str(self.state))

    def supervisor_pid(self):
        kids = children(self.proc.pid)
        return kids[0] if kids else None

    def fcgi_socket(self):
        # lighttpd appends "-<proc number>" to the socket of a bin-path.
        return self.state / "fcgi.sock-0"

    def _stop_processes(self):
        # lighttpd sends SIGTERM to the responder it spawned; the
        # responder drains and reaps its workers.
        terminate(self.proc.pid, popen=self.proc)
        self.out.close()


class Nginx(WebServer):
    kind = "nginx"

    def _launch(self):
        self._start_backend()
        self._launch_nginx()

    def _start_backend(self):
        sock = self.state / "fcgi.sock"
        self.pidfile = self.state / "spawn.pid"
        with open(self.state / "spawn-fcgi.log", "wb") as log:
            p = subprocess.run(
                ["spawn-fcgi", "-s", str(sock), "-M", "0600",
                 "-P", str(self.pidfile), "--", str(self.fcgi_bin)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=clean_env(**self.mfa_env), cwd=str(self.state),
                timeout=30)
        if p.returncode != 0:
            raise HarnessError("spawn-fcgi failed (%d)\n%s" % (
                p.returncode, self.log_text()))
        self.fcgi_pid = int(self.pidfile.read_text().strip())

    def nginx_conf(self):
        """The text of nginx.conf (contrib/nginx/mfa.conf.in filled in)."""
        return fill(NGINX_TEMPLATE, {
            "HOST": HOST,
            "PORT": self.port,
            "STATE": self.state,
            "USER": "user root;" if os.geteuid() == 0 else "",
        })

    def _launch_nginx(self):
        conf = self.state / "nginx.conf"
        conf.write_text(self.nginx_conf())
        self.out = open(self.state / "nginx-stdout.log", "wb")
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.state), "-c", str(conf),
             "-e", str(self.state / "nginx-error.log"),
             "-g", "daemon off; pid %s;" % (self.state / "nginx.pid")],
            stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=subprocess.STDOUT, env=clean_env(),
            cwd=str(self.state))

    def supervisor_pid(self):
        pid = getattr(self, "fcgi_pid", None)
        return pid if pid and pid_alive(pid) else None

    def fcgi_socket(self):
        return self.state / "fcgi.sock"

    def _stop_processes(self):
        if self.proc is not None:
            terminate(self.proc.pid, popen=self.proc)
            self.out.close()
        if getattr(self, "fcgi_pid", None):
            terminate(self.fcgi_pid)


class MfaSpawn(Nginx):
    """nginx in front of the service started by contrib/mfa-spawn from a
    spawn.conf written here (the deployment of README "nginx +
    spawn-fcgi"). The responder's stderr goes to srv/mfa.log (FCGI_LOG)."""

    kind = "mfa-spawn"

    def spawn_conf(self):
        sock = self.state / "fcgi.sock"
        env = {k: v for k, v in self.mfa_env.items() if k != "MFA_WORKERS"}
        lines = [
            "FCGI_SOCKET=%s" % sock,
            "FCGI_SOCKET_MODE=0600",
            "FCGI_PROGRAM=%s" % self.fcgi_bin,
            "FCGI_CHILDREN=%d" % int(self.mfa_env.get("MFA_WORKERS", 3)),
            "FCGI_USER=",
            "FCGI_GROUP=",
            "FCGI_PIDFILE=%s" % (self.state / "spawn.pid"),
            "FCGI_LOG=%s" % (self.state / "mfa.log"),
            "FCGI_STOP_TIMEOUT=%d" % int(STOP_TIMEOUT),
        ]
        lines += ["%s='%s'" % (k, str(v).replace("'", "")) for k, v in
                  sorted(env.items())]
        lines.append('ALLOWED_ENV="%s"' % " ".join(sorted(env)))
        return "\n".join(lines) + "\n"

    def mfa_spawn(self, cmd, check=True):
        p = subprocess.run([str(MFA_SPAWN), "-c", str(self.conf), cmd],
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL, env=clean_env(),
                           cwd=str(self.state))
        if check and p.returncode != 0:
            raise HarnessError("mfa-spawn %s: exit %d\n%s%s\n%s" % (
                cmd, p.returncode, p.stdout, p.stderr, self.log_text()))
        return p

    def _start_backend(self):
        self.conf = self.state / "spawn.conf"
        self.conf.write_text(self.spawn_conf())
        self.pidfile = self.state / "spawn.pid"
        self.mfa_spawn("start")
        self.fcgi_pid = int(self.pidfile.read_text().strip())

    def _stop_processes(self):
        if self.proc is not None:
            terminate(self.proc.pid, popen=self.proc)
            self.out.close()
        if getattr(self, "fcgi_pid", None):
            self.mfa_spawn("stop")


class Standalone(Nginx):
    """nginx in front of "mfa.fcgi --listen unix:PATH --workers N" (the
    service opens its own socket). "config": the text of a configuration
    file passed with --config (srv/mfa.conf), or None. stderr goes to
    srv/mfa.log."""

    kind = "standalone"
    config = None

    def _start_backend(self):
        sock = self.state / "fcgi.sock"
        argv = [str(self.fcgi_bin), "--listen", "unix:%s" % sock, "--workers",
                str(self.mfa_env.get("MFA_WORKERS", 3))]
        if self.config is not None:
            self.config_path = self.state / "mfa.conf"
            self.config_path.write_text(self.config)
            argv += ["--config", str(self.config_path)]
        env = {k: v for k, v in self.mfa_env.items() if k != "MFA_WORKERS"}
        self.mfa_log = open(self.state / "mfa.log", "ab")
        self.backend = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.mfa_log,
            stderr=subprocess.STDOUT, env=clean_env(**env),
            cwd=str(self.state))
        self.fcgi_pid = self.backend.pid
        deadline = time.monotonic() + START_TIMEOUT
        while not sock.exists():
            if self.backend.poll() is not None:
                raise HarnessError("mfa.fcgi --listen exited with %s\n%s"
                                   % (self.backend.returncode,
                                      self.log_text()))
            if time.monotonic() > deadline:
                raise HarnessError("mfa.fcgi --listen: no socket\n%s" %
                                   self.log_text())
            time.sleep(0.02)

    def _stop_processes(self):
        if self.proc is not None:
            terminate(self.proc.pid, popen=self.proc)
            self.out.close()
        if getattr(self, "backend", None) is not None:
            if self.backend.poll() is None:
                terminate(self.backend.pid, popen=self.backend)
            self.mfa_log.close()


class Apache(WebServer):
    """Apache 2.4 with mod_fcgid (contrib/apache/): mod_fcgid starts and
    stops the responder processes itself; each serves in-process
    (MFA_WORKERS=1). Run with -DFOREGROUND in a private ServerRoot with
    its own PidFile and "Mutex sysvsem". As root Apache serves as
    www-data, so the store and the private directory are given to it."""

    kind = "apache"
    world_path = True   # www-data must reach the store: a /tmp root

    def _launch(self):
        if not (APACHE_MODDIR / "mod_fcgid.so").exists():
            raise HarnessError("mod_fcgid is not installed "
                               "(contrib/install-deps)")
        env = {k: v for k, v in self.mfa_env.items()
               if k not in ("MFA_DB", "MFA_WORKERS")}
        (self.state / "mfa-fcgid.conf").write_text(fill(FCGID_TEMPLATE, {
            "FCGI_BIN": self.fcgi_bin,
            "DB": self.store.path,
            "STATE": self.state,
            "ENV": "\n".join("FcgidInitialEnv %s %s" % (k, v)
                             for k, v in sorted(env.items())),
        }))
        root = os.geteuid() == 0
        conf = self.state / "httpd.conf"
        conf.write_text(fill(APACHE_TEMPLATE, {
            "HOST": HOST,
            "PORT": self.port,
            "STATE": self.state,
            "MODDIR": APACHE_MODDIR,
            "USER": APACHE_USER if root else pwd.getpwuid(os.getuid())[0],
            "GROUP": APACHE_USER if root else grp.getgrgid(os.getgid())[0],
        }))
        (self.state / "fcgid").mkdir(exist_ok=True)
        if root:
            for top in (self.store.path, self.state / "fcgid"):
                shutil.chown(top, APACHE_USER, APACHE_USER)
                for d, dirs, files in os.walk(top):
                    for n in dirs + files:
                        shutil.chown(os.path.join(d, n), APACHE_USER,
                                     APACHE_USER)
        self.out = open(self.state / "apache-stdout.log", "wb")
        self.proc = subprocess.Popen(
            ["apache2", "-f", str(conf), "-DFOREGROUND"],
            stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=subprocess.STDOUT, env=clean_env(), cwd=str(self.state))

    def supervisor_pid(self):
        return None     # mod_fcgid is the process manager

    def responders(self):
        """The mfa.fcgi processes mod_fcgid started for this server."""
        marker = ("MFA_DB=%s" % self.store.path).encode() + b"\0"
        out = []
        for p in all_pids():
            if pid_alive(p) and marker in _read("/proc/%d/environ" % p) \
                    and _read("/proc/%d/cmdline" % p).startswith(
                        str(self.fcgi_bin).encode()):
                out.append(p)
        return sorted(out)

    def workers(self):
        return self.responders()

    def _stop_processes(self):
        terminate(self.proc.pid, popen=self.proc)
        self.out.close()


class NginxKeepConn(Nginx):
    """nginx keeping its FastCGI connections open (an upstream with
    "keepalive" and "fastcgi_keep_conn on"), which README advises against:
    for the test that the workers close them instead of waiting on them."""
    kind = "nginx"

    def nginx_conf(self):
        sock = "unix:%s" % (self.state / "fcgi.sock")
        text = super().nginx_conf()
        assert "fastcgi_pass %s;" % sock in text
        text = text.replace("fastcgi_pass %s;" % sock,
                            "fastcgi_pass mfa_kept; fastcgi_keep_conn on;")
        return text.replace("\tserver {", "\tupstream mfa_kept {\n"
                            "\t\tserver %s;\n\t\tkeepalive 8;\n\t}\n\n"
                            "\tserver {" % sock, 1)


SERVERS = {"lighttpd": Lighttpd, "nginx": Nginx, "mfa-spawn": MfaSpawn,
           "standalone": Standalone, "apache": Apache,
           "nginx-keep-conn": NginxKeepConn}


def short_root(base):
    """A private directory short enough for unix socket paths (108 bytes
    including "/srv/fcgi.sock-0")."""
    base = Path(base)
    if len(str(base)) <= 70:
        base.mkdir(parents=True, exist_ok=True)
        return base, False
    return Path(tempfile.mkdtemp(prefix="mfa-it-", dir="/tmp")), True


def start_server(kind, base, workers=3, env=None, store=None, config=None,
                 init_env=None, fcgi_bin=None):
    """Makes a fresh store in "base"/store (or uses "store") and starts
    "kind" in front of it. "config": the text of a configuration file
    (standalone only); "init_env": MFA_* variables for every mfactl run on
    the new store; "fcgi_bin": another responder build.
    Returns the started WebServer (stop() it)."""
    cls = SERVERS[kind]
    if getattr(cls, "world_path", False) and os.geteuid() == 0:
        # Apache serves as www-data: the path to the store must be
        # traversable by it (pytest's base directory is 0700).
        root = Path(tempfile.mkdtemp(prefix="mfa-it-", dir="/tmp"))
        os.chmod(root, 0o755)
        temporary = True
    else:
        root, temporary = short_root(base)
    if store is None:
        store = Store(root / "store", env=init_env)
        out = store.ctl("init")
        assert out.get("created") is True, out
    srv = cls(root, store, workers=workers, env=env, fcgi_bin=fcgi_bin)
    if config is not None:
        srv.config = config
    srv.temporary_root = temporary
    try:
        srv.start()
    except BaseException:
        try:
            srv.stop()
        finally:
            pass
        raise
    return srv


def stop_server(srv):
    try:
        srv.stop()
    finally:
        if getattr(srv, "temporary_root", False):
            shutil.rmtree(srv.root, ignore_errors=True)


# ----------------------------------------------------------------- HTTP

def basic_header(client_id, secret):
    """RFC 6749 2.3.1: both parts form-urlencoded, then base64."""
    raw = "%s:%s" % (urllib.parse.quote(client_id, safe=""),
                     urllib.parse.quote(secret, safe=""))
    return "Basic " + base64.b64encode(raw.encode()).decode()


class Http:
    """requests against one server; never through a proxy."""

    def __init__(self, url):
        self.url = url
        self.s = requests.Session()
        self.s.trust_env = False

    def request(self, method, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        return self.s.request(method, self.url + path, **kw)

    def post(self, path, form=None, json_body=None, basic=None,
             headers=None, raw=None, content_type=None):
        """POST "path" with a form ("form": dict or list of pairs), a JSON
        body ("json_body": any JSON value) or "raw" bytes; "basic" is a
        (client_id, secret) pair sent as client_secret_basic."""
        h = dict(headers or {})
        if basic is not None:
            h["Authorization"] = basic_header(*basic)
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h.setdefault("Content-Type",
                         "application/x-www-form-urlencoded")
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            h.setdefault("Content-Type", "application/json")
        elif raw is not None:
            data = raw
        if content_type is not None:
            h["Content-Type"] = content_type
        return self.request("POST", path, data=data, headers=h)


def body_of(r):
    try:
        return r.json()
    except ValueError:
        raise AssertionError("%d: body is not JSON: %r" % (
            r.status_code, r.text[:500]))


def sent_basic(r):
    """Whether the request behind response "r" carried Authorization:
    Basic."""
    a = r.request.headers.get("Authorization", "")
    return a[:6].lower() == "basic "


def check_headers(r, basic_used=None, realm="mfa"):
    """The headers of every response; WWW-Authenticate exactly on a 401
    answering a request that carried Authorization: Basic."""
    if basic_used is None:
        basic_used = sent_basic(r)
    for k, v in COMMON_HEADERS.items():
        assert r.headers.get(k) == v, "%s: %r (status %d, body %r)" % (
            k, r.headers.get(k), r.status_code, r.text[:300])
    if r.status_code == 401 and basic_used:
        assert r.headers.get("WWW-Authenticate") == \
            'Basic realm="%s", charset="UTF-8"' % realm, \
            r.headers.get("WWW-Authenticate")
    else:
        assert "WWW-Authenticate" not in r.headers, \
            (r.status_code, r.headers.get("WWW-Authenticate"))


def assert_error(r, status, error, description, prefix=False, realm="mfa"):
    """Exact status, body {"error", "error_description"} and headers."""
    body = body_of(r)
    assert (r.status_code, body.get("error")) == (status, error), \
        (r.status_code, body)
    if prefix:
        assert body.get("error_description", "").startswith(description), \
            body
    else:
        assert body.get("error_description") == description, body
    assert set(body) == {"error", "error_description"}, body
    check_headers(r, realm=realm)
    return body


def assert_ok(r):
    body = body_of(r)
    assert r.status_code == 200, (r.status_code, body)
    check_headers(r)
    return body


# ---------------------------------------------------------- API flows

AUTHS = ["post", "basic"]
BODIES = ["form", "json"]


def call(http, path, client, params, auth="post", body="form"):
    """POST "params" to "path" authenticated as "client" (None: no
    credentials) with "auth" (post | basic) in a "body" (form | json)."""
    params = dict(params)
    basic = None
    if client is not None:
        if auth == "post":
            params["client_id"] = client.id
            params["client_secret"] = client.secret
        elif auth == "basic":
            basic = client.basic
        else:
            raise ValueError(auth)
    if body == "form":
        return http.post(path, form=params, basic=basic)
    if body == "json":
        return http.post(path, json_body=params, basic=basic)
    raise ValueError(body)


def http_token(http, client, user_id, auth="post", body="form"):
    """An mfa_token from POST /mfa/token."""
    b = assert_ok(call(http, "/mfa/token", client, {"user_id": user_id},
                       auth, body))
    return b["mfa_token"]


def challenge(http, client, token, auth="post", body="form", **params):
    if token is not None:
        params["mfa_token"] = token
    return call(http, "/mfa/challenge", client, params, auth, body)


def assert_healthy(http, client, user):
    """A good request succeeds: a fresh token over HTTP, then an otp
    challenge with it."""
    token = http_token(http, client, user.id)
    assert assert_ok(challenge(http, client, token,
                               challenge_type="otp")) == \
        {"challenge_type": "otp"}


class Snapshot:
    """What a request could have stored: spool files, challenge IDs and the
    entry count of every LMDB database."""

    def __init__(self, store):
        self.store = store
        self.spool = store.spool_files()
        self.challenges = store.challenge_ids()
        self.counts = store.entry_counts()

    # Assertion jtis are swept as soon as they expire (a minute or so):
    # a worker's sweep may delete them, and their expiry-index entries,
    # during any test of a long session (a slow ASan run shows it). Only
    # such deletions are tolerated; any other change fails.
    SWEPT_ANYTIME = ("jti", "expiry")

    def assert_unchanged(self):
        assert self.store.spool_files() == self.spool
        assert self.store.challenge_ids() == self.challenges
        counts = self.store.entry_counts()
        for db in self.SWEPT_ANYTIME:
            if counts.get(db, 0) <= self.counts.get(db, 0):
                counts[db] = self.counts.get(db, 0)
        assert counts == self.counts, (self.counts, counts)


# ------------------------------------------------------------ raw HTTP

def raw_exchange(port, data, shut_wr=True, timeout=HTTP_TIMEOUT):
    """Sends "data" as is, half-closes when "shut_wr", reads until the
    server closes. Returns (status, headers dict, body bytes), or
    (None, {}, raw bytes) when no HTTP response came back."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(data)
        if shut_wr:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    resp = b"".join(chunks)
    m = re.match(rb"^HTTP/1\.[01] (\d{3})[^\r\n]*\r\n", resp)
    if not m:
        return None, {}, resp
    head, _, body = resp.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        headers[k.decode().strip().lower()] = v.decode().strip()
    return int(m.group(1)), headers, body


# ------------------------------------------------------ direct FastCGI

def _fcgi_record(rtype, rid, content):
    import struct
    return struct.pack("!BBHHBx", 1, rtype, rid, len(content), 0) + content


def _fcgi_nv(name, value):
    import struct
    out = b""
    for n in (len(name), len(value)):
        out += bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
    return out + name + value


def fcgi_request(sock_path, params, stdin=b"", timeout=HTTP_TIMEOUT):
    """One FastCGI RESPONDER request straight to the responder's socket,
    with the CGI "params" (str -> str) and the "stdin" bytes (then the end
    of the stream, whatever CONTENT_LENGTH says). Returns (status, headers
    dict with lower-case names, body bytes)."""
    import struct
    rid = 1
    nv = b"".join(_fcgi_nv(k.encode(), v.encode()) for k, v in
                  params.items())
    msg = _fcgi_record(1, rid, struct.pack("!HB5x", 1, 0))
    msg += _fcgi_record(4, rid, nv) + _fcgi_record(4, rid, b"")
    if stdin:
        msg += _fcgi_record(5, rid, stdin)
    msg += _fcgi_record(5, rid, b"")
    out = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock_path))
        s.sendall(msg)
        buf = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
            done = False
            while len(buf) >= 8:
                _, rtype, _, clen, plen = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content = buf[8:8 + clen]
                buf = buf[8 + clen + plen:]
                if rtype == 6:
                    out += content
                elif rtype == 3:
                    done = True
            if done:
                break
    head, _, body = out.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        headers[k.decode().strip().lower()] = v.decode().strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, body
