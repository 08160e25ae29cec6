"""FastCGI-level stress: hostile bytes straight to the responder's socket.

The responder runs standalone (mfa.fcgi --listen unix:PATH --workers 2,
README "Processes and signals"), with no web server in front to clean the
traffic up. Every case then checks that the workers did not crash (the
same worker PIDs as before), did not hang (a normal request succeeds
after) and, over a bounded soak, that their memory does not grow.

A client that stalls in the middle of a request holds the worker that
accepted it for read_timeout (5 s by default; libfcgi alone has no
timeout). The read-timeout tests show one given up while a request queued
behind it is served; the slow-client case (1,000 such clients for less
than the timeout, bounded in count and time) that every worker is alive
and serving once they are gone.
"""

import os
import re
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import make_client, make_user
from servers import (FCGI_BIN, Store, children, clean_env, fcgi_request,
                     free_port, pid_alive, short_root, terminate)

BEGIN, ABORT, END, PARAMS, STDIN, STDOUT, GET_VALUES = 1, 2, 3, 4, 5, 6, 9
SLOW_CLIENTS = 1000
SLOW_SECONDS = 4.0
SOAK_REQUESTS = 1500
RSS_GROWTH_KB = 2048   # per worker, over the soak after the warm-up


def is_asan(binary):
    """ASan's allocator keeps freed memory in quarantine: RSS says nothing
    there (its own leak and error reports do)."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def rec(rtype, rid, content, version=1, padding=0):
    return struct.pack("!BBHHBx", version, rtype, rid, len(content),
                       padding) + content + b"\0" * padding


def nv(name, value):
    out = b""
    for n in (len(name), len(value)):
        out += bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
    return out + name + value


def begin(rid=1, role=1, flags=0):
    return rec(BEGIN, rid, struct.pack("!HB5x", role, flags))


def params(rid, pairs):
    b = lambda x: x if isinstance(x, bytes) else x.encode()
    body = b"".join(nv(b(k), b(v)) for k, v in pairs)
    out = b""
    for i in range(0, len(body), 65535):
        out += rec(PARAMS, rid, body[i:i + 65535])
    return out + rec(PARAMS, rid, b"")


def cgi(body=b"", **extra):
    p = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/mfa/token",
         "SCRIPT_NAME": "/mfa/token", "QUERY_STRING": "",
         "CONTENT_TYPE": "application/x-www-form-urlencoded",
         "CONTENT_LENGTH": str(len(body)), "SERVER_PROTOCOL": "HTTP/1.1"}
    p.update(extra)
    return p


def exchange(sock_path, data, timeout=5.0, close_early=False):
    """Sends raw bytes; reads until the worker closes or "timeout".
    Returns what came back."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(sock_path))
    out = b""
    try:
        s.sendall(data)
        if close_early:
            return b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


def stdout_of(raw):
    """The STDOUT content and whether an END_REQUEST came, of a reply."""
    out, ended = b"", False
    while len(raw) >= 8:
        _, t, _, clen, plen = struct.unpack("!BBHHBx", raw[:8])
        if t == STDOUT:
            out += raw[8:8 + clen]
        elif t == END:
            ended = True
        raw = raw[8 + clen + plen:]
    return out, ended


def request(sock_path, p, stdin=b""):
    """One request whose params may span many records (servers.
    fcgi_request packs them into one); (status, headers, body)."""
    data = begin() + params(1, p.items())
    if stdin:
        data += rec(STDIN, 1, stdin)
    raw = exchange(sock_path, data + rec(STDIN, 1, b""), timeout=10)
    out, ended = stdout_of(raw)
    assert ended, raw[:200]
    head, _, body = out.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        headers[k.decode().strip().lower()] = v.decode().strip()
    return int(headers.get("status", "200").split()[0]), headers, body


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class Standalone:
    """mfa.fcgi --listen unix:PATH --workers N on a fresh store."""

    def __init__(self, base, workers=2, port=None, **env):
        """On a unix socket, or on 127.0.0.1:"port"; "env": more
        environment for the server."""
        self.root, self.temporary = short_root(base)
        self.store = Store.create(self.root / "store")
        self.sock = self.root / "mfa.sock"
        self.port = port
        self.nworkers = workers
        self.log = open(self.root / "mfa.log", "wb")
        listen = ("127.0.0.1:%d" % port) if port else "unix:%s" % self.sock
        self.proc = subprocess.Popen(
            [str(FCGI_BIN), "--listen", listen, "--workers", str(workers)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env=clean_env(MFA_DB=self.store.path, MFA_LOG_LEVEL="info",
                          ASAN_OPTIONS="log_path=%s" % (self.root / "asan"),
                          UBSAN_OPTIONS="log_path=%s" % (
                              self.root / "ubsan"), **env))
        deadline = time.monotonic() + 10
        while len(self.workers()) < workers or not self.listening():
            assert self.proc.poll() is None, self.log_text()
            assert time.monotonic() < deadline, self.log_text()
            time.sleep(0.02)

    def listening(self):
        """The socket is there (on TCP: the supervisor opened it before
        it forked the workers, and a probe connection would count as a
        peer)."""
        if not self.port:
            return self.sock.exists()
        return self.log_text().count("worker ready") >= self.nworkers

    def workers(self):
        return children(self.proc.pid)

    def log_text(self):
        return (self.root / "mfa.log").read_text(errors="replace")

    def stop(self):
        pids = self.workers()
        terminate(self.proc.pid, popen=self.proc)
        self.log.close()
        assert not [p for p in pids if pid_alive(p)]
        for f in sorted(self.root.glob("*san.*")):
            text = f.read_text(errors="replace")
            assert not re.search(r"ERROR: (Address|Leak)Sanitizer|"
                                 r"runtime error:", text), text[:4000]


def provisioned(srv):
    """"srv" with a client and a user (good_body), and its worker PIDs."""
    srv.app = make_client(srv.store, "app", "otp oob")
    srv.user = make_user(srv.store, "stress", sms=False)
    srv.pids = srv.workers()
    return srv


@pytest.fixture(scope="module")
def fcgi(tmp_path_factory):
    srv = provisioned(Standalone(tmp_path_factory.mktemp("fcgi-stress")))
    yield srv
    srv.stop()


def good_body(srv):
    return ("client_id=%s&client_secret=%s&user_id=%s" % (
        srv.app.id, srv.app.secret, srv.user.id)).encode()


def assert_healthy(srv):
    """Same workers as at the start, and a normal request succeeds."""
    assert srv.workers() == srv.pids, (srv.pids, srv.workers(),
                                       srv.log_text()[-2000:])
    body = good_body(srv)
    status, headers, out = fcgi_request(srv.sock, cgi(body), body)
    assert status == 200, (status, out[:300])
    assert headers["content-type"] == "application/json"
    assert b'"mfa_token"' in out


# -------------------------------------------------- malformed records

MALFORMED = {
    "garbage": b"\xff" * 64,
    "version 2": rec(BEGIN, 1, struct.pack("!HB5x", 1, 0), version=2),
    "unknown type": rec(77, 1, b"abc") + begin() + params(1, cgi().items()),
    "role authorizer": begin(role=2) + params(1, cgi().items()) +
    rec(STDIN, 1, b""),
    "role filter": begin(role=3) + params(1, cgi().items()),
    "params before begin": params(1, cgi().items()),
    "stdin for another id": begin(1) + params(1, cgi().items()) +
    rec(STDIN, 9, b"x") + rec(STDIN, 1, b""),
    "two begins": begin(1) + begin(1),
    "abort mid-params": begin() + rec(PARAMS, 1, nv(b"A", b"B")) +
    rec(ABORT, 1, b""),
    "abort mid-body": begin() + params(1, cgi(b"x" * 100).items()) +
    rec(STDIN, 1, b"x" * 10) + rec(ABORT, 1, b""),
    "get values": rec(GET_VALUES, 0, nv(b"FCGI_MAX_CONNS", b"") +
                      nv(b"FCGI_MPXS_CONNS", b"")),
    "name length past record": begin() + rec(PARAMS, 1, b"\x7f\x01ab") +
    rec(PARAMS, 1, b""),
    "4-byte length overflow": begin() +
    rec(PARAMS, 1, b"\xff\xff\xff\xff\x01" + b"x" * 20) + rec(PARAMS, 1, b""),
    "truncated header": b"\x01\x01\x00",
    "content length lie": struct.pack("!BBHHBx", 1, PARAMS, 1, 60000, 0) +
    b"x" * 10,
    "padding only": begin() + rec(PARAMS, 1, b"", padding=255),
    "empty params": begin() + rec(PARAMS, 1, b"") + rec(STDIN, 1, b""),
    "multiplexed ids": begin(1) + begin(2) + params(1, cgi().items()) +
    params(2, cgi().items()) + rec(STDIN, 2, b"") + rec(STDIN, 1, b""),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_records(fcgi, name):
    exchange(fcgi.sock, MALFORMED[name], timeout=3)
    assert_healthy(fcgi)


def test_missing_params_answer_json(fcgi):
    """No CGI parameters at all: the worker answers, as JSON."""
    raw = exchange(fcgi.sock, begin() + rec(PARAMS, 1, b"") +
                   rec(STDIN, 1, b""))
    out, ended = stdout_of(raw)
    assert ended, raw[:200]
    assert b"application/json" in out, out[:300]
    assert_healthy(fcgi)


# ---------------------------------------------------- params and bodies

@pytest.mark.parametrize("extra,status,needle", [
    ({"CONTENT_LENGTH": "99999999999999999999999"}, 400,
     b"Content-Length is not a number"),
    ({"CONTENT_LENGTH": "70000"}, 413,
     b"Request body is larger than 65536 bytes"),
    ({"CONTENT_LENGTH": "-1"}, 400, b"invalid_request"),
    ({"CONTENT_LENGTH": "12abc"}, 400, b"invalid_request"),
    ({"HTTP_AUTHORIZATION": "Basic " + "A" * 60000}, 400,
     b"Authorization header is too long"),
    ({"REQUEST_URI": "/" + "a" * 70000}, 404, b"not_found"),
    # 1 MB of parameters (libfcgi holds them all; the web server's header
    # limit is the bound in front of it): answered like any request
    ({"HTTP_X_PAD_%d" % i: "v" * 1000 for i in range(1000)}, 401,
     b"invalid_client"),
])
def test_params_over_limits(fcgi, extra, status, needle):
    got, headers, out = request(fcgi.sock, cgi(b"", **extra))
    assert got == status, (got, out[:300])
    assert needle in out, out[:300]
    assert headers["content-type"] == "application/json"
    assert_healthy(fcgi)


def test_body_longer_than_content_length(fcgi):
    body = good_body(fcgi)
    p = cgi(body)
    # the extra bytes would be a duplicate user_id if they were read
    got, _, out = fcgi_request(fcgi.sock, p, body + b"&user_id=evil")
    assert got == 200, out[:300]
    assert_healthy(fcgi)


def test_body_shorter_than_content_length(fcgi):
    body = good_body(fcgi)
    got, _, out = fcgi_request(fcgi.sock, cgi(body, CONTENT_LENGTH=str(
        len(body) + 50)), body)
    assert got == 400, out[:300]
    assert b"request body is shorter than Content-Length" in out
    assert_healthy(fcgi)


@pytest.mark.parametrize("sent", [0, 1, 500, 4999])
def test_client_stops_mid_body(fcgi, sent):
    body = b"user_id=" + b"x" * 4992
    data = begin() + params(1, cgi(body).items()) + \
        (rec(STDIN, 1, body[:sent]) if sent else b"")
    exchange(fcgi.sock, data, close_early=True)
    time.sleep(0.05)
    assert_healthy(fcgi)


# -------------------------------------------------------- slow clients

def test_thousand_slow_clients(fcgi):
    """1,000 connections each send half a request and stall for a
    bounded time, then go away: no worker dies, and service resumes."""
    socks = []
    t0 = time.monotonic()
    try:
        for i in range(SLOW_CLIENTS):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(str(fcgi.sock))
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                # the listen backlog is full: that is the bound
                s.close()
                continue
            try:
                # half a BEGIN_REQUEST, or a BEGIN and half a PARAMS
                s.send(begin()[:5] if i % 2 else
                       begin() + rec(PARAMS, 1, nv(b"A", b"B" * 50))[:20])
            except OSError:
                pass
            socks.append(s)
        assert len(socks) >= 100, len(socks)
        while time.monotonic() - t0 < SLOW_SECONDS:
            assert fcgi.workers() == fcgi.pids
            time.sleep(0.2)
    finally:
        for s in socks:
            s.close()
    # Every worker gets EOF from its stalled client and accepts again.
    deadline = time.monotonic() + 10
    while True:
        try:
            assert_healthy(fcgi)
            break
        except (AssertionError, socket.timeout, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert time.monotonic() - t0 < 30


# -------------------------------------------------------- read timeout

READ_TIMEOUT = 1  # seconds, the server's read_timeout in these tests


@pytest.fixture
def one_worker(tmp_path):
    """A single worker, so that a connection it is stuck on would hold
    every request behind it; read_timeout = 1 s."""
    srv = provisioned(Standalone(tmp_path, workers=1,
                                 MFA_READ_TIMEOUT=READ_TIMEOUT))
    yield srv
    srv.stop()


def read_to_eof(s):
    """Everything the server sends until it closes; socket.timeout when
    it does not close within the socket's timeout."""
    raw = b""
    while True:
        b = s.recv(65536)
        if not b:
            return raw
        raw += b


def idle_fds(srv):
    """The descriptors the (single) worker has open once it holds no
    connection, only its listening socket (it closes a connection just
    after the client has read the reply: a moment to do so)."""
    d = "/proc/%d/fd" % srv.pids[0]
    deadline = time.monotonic() + 2
    while True:
        fds = sorted((f, os.readlink(os.path.join(d, f)))
                     for f in os.listdir(d))
        if sum(1 for _, link in fds if link.startswith("socket:")) == 1:
            return fds
        assert time.monotonic() < deadline, fds
        time.sleep(0.02)


STALLS = ["half a begin", "half the params", "params unfinished",
          "half the body"]


@pytest.mark.parametrize("stall", STALLS)
def test_stalled_request_is_dropped_after_read_timeout(one_worker, stall):
    """A web server that stops in the middle of a request (hung, killed
    between two writes) no longer holds the worker: after read_timeout
    without a byte the read fails. Stuck in the parameters (in a record,
    or between records: libfcgi ends the parameters there without an
    error of its own), the connection is closed unanswered; stuck in the
    body, it is answered 400 (the body is shorter than Content-Length).
    Either way the close is at once, without libfcgi's 2 s linger, and
    the request that waited behind it is served."""
    srv = one_worker
    assert_healthy(srv)  # the worker has opened what it keeps open
    fds_before = idle_fds(srv)
    body = good_body(srv)
    data = {"half a begin": begin()[:5],
            "half the params": begin() + rec(PARAMS, 1,
                                             nv(b"A", b"B" * 50))[:20],
            # every parameter, but not the empty record that ends them
            "params unfinished": begin() + params(1, cgi(body).items())[:-8],
            "half the body": begin() + params(1, cgi(body).items()) +
            rec(STDIN, 1, body[:10])}[stall]
    behind = {}

    def second():
        behind["got"] = fcgi_request(srv.sock, cgi(body), body, timeout=20)
        behind["at"] = time.monotonic() - t0

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10 * READ_TIMEOUT)
        s.connect(str(srv.sock))
        s.sendall(data)
        t0 = time.monotonic()
        time.sleep(0.2)  # the worker is reading the stalled request
        t = threading.Thread(target=second)
        t.start()
        raw = read_to_eof(s)
        waited = time.monotonic() - t0
        # the stalled client stays connected: a linger would hold the
        # worker 2 s more before it took the request behind
        t.join(20)
    assert not t.is_alive()
    # dropped by the timeout, not at once and not by the test's own
    assert READ_TIMEOUT * 0.8 <= waited < 8 * READ_TIMEOUT, waited
    assert behind["at"] < READ_TIMEOUT + 1.5, behind["at"]
    if stall == "half the body":
        out, ended = stdout_of(raw)
        assert ended, raw[:200]
        assert out.startswith(b"Status: 400"), out[:300]
        assert b"request body is shorter than Content-Length" in out
    else:
        assert raw == b"", raw[:200]
    status, _, out = behind["got"]
    assert status == 200, out[:300]
    assert b'"mfa_token"' in out
    assert_healthy(srv)
    assert idle_fds(srv) == fds_before  # nothing left open


def trickle(sock_path, body, gap, records):
    """Sends a request whose body comes in "records" STDIN records "gap"
    seconds apart (a web server streaming a slow client's upload); the
    reply and the seconds from the first body byte to the worker's
    close."""
    step = -(-len(body) // records)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(sock_path))
        s.sendall(begin() + params(1, cgi(body).items()))
        t0 = time.monotonic()
        try:
            for i in range(0, len(body), step):
                if i:
                    time.sleep(gap)
                s.sendall(rec(STDIN, 1, body[i:i + step]))
            s.sendall(rec(STDIN, 1, b""))
        except (BrokenPipeError, ConnectionResetError):
            pass  # given up on: the worker closed
        raw = read_to_eof(s)
        return raw, time.monotonic() - t0


def test_trickled_body_is_given_up_after_read_timeout(one_worker):
    """Every read of a body waits read_timeout at most, but a web server
    that streams a slow upload could send a byte just inside it, again
    and again (a 4 KiB body a byte a second: over an hour of a worker).
    The whole body must arrive within read_timeout of its first read:
    here a byte every 0.3 s (each read well inside the 1 s) is answered
    408 after about a second, and the worker closes at once and serves
    the request behind it."""
    srv = one_worker
    assert_healthy(srv)
    fds_before = idle_fds(srv)
    body = good_body(srv)
    raw, took = trickle(srv.sock, body, 0.3, len(body))
    out, ended = stdout_of(raw)
    assert ended, raw[:200]
    assert out.startswith(b"Status: 408"), out[:300]
    assert b'"error":"invalid_request"' in out
    assert b"request body did not arrive within 1 s" in out
    # the deadline, checked when the next byte comes: not the 0.3 s x
    # len(body) the trickle would take
    assert READ_TIMEOUT <= took < READ_TIMEOUT + 1.5, took
    assert "a request body still incomplete after 1 s: given up" in \
        srv.log_text()
    assert_healthy(srv)
    assert idle_fds(srv) == fds_before


def test_body_in_pieces_within_read_timeout_is_served(one_worker):
    """A body that comes in several records, all within read_timeout, is
    read whole and answered as usual."""
    srv = one_worker
    body = good_body(srv)
    raw, took = trickle(srv.sock, body, 0.2, 4)
    out, ended = stdout_of(raw)
    assert ended, raw[:200]
    assert out.startswith(b"Status: 200"), out[:300]
    assert b'"mfa_token"' in out
    assert 0.6 <= took < READ_TIMEOUT + 0.5, took
    assert_healthy(srv)


def test_request_not_yet_whole_ends_the_run_before_it_is_read(tmp_path):
    """A worker holding a reply serves the connections already waiting in
    one LMDB write transaction, which holds LMDB's writer lock (README
    "Durability"); one whose request has not arrived whole ends that
    transaction before the worker reads it. One worker: POST /mfa/token
    (a deferred commit: the run's transaction) and, right behind it, a
    connection stalled in its first record. While the worker waits on
    that one for read_timeout (4 s), mfactl writes at once; the held
    reply goes out after the stall."""
    srv = provisioned(Standalone(tmp_path, workers=1, MFA_READ_TIMEOUT=4))
    body = good_body(srv)
    a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        assert_healthy(srv)
        a.settimeout(15)
        a.connect(str(srv.sock))
        b.connect(str(srv.sock))
        t0 = time.monotonic()
        a.sendall(begin() + params(1, cgi(body).items()) +
                  rec(STDIN, 1, body) + rec(STDIN, 1, b""))
        b.sendall(begin()[:5])
        time.sleep(0.5)  # the worker now waits on "b", holding a's reply
        t1 = time.monotonic()
        make_client(srv.store, "during", "otp")  # mfactl: a write
        took = time.monotonic() - t1
        raw = read_to_eof(a)
        waited = time.monotonic() - t0
        out, ended = stdout_of(raw)
        assert ended and b'"mfa_token"' in out, raw[:300]
        assert waited >= 3.5, "the stalled request was not in the run"
        assert took < 2.5, took
        assert_healthy(srv)
    finally:
        a.close()
        b.close()
        srv.stop()


def tcp_exchange(port, data):
    """Sends raw bytes over TCP; everything until the server closes (a
    close with the request unread resets the connection: b"")."""
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        try:
            s.sendall(data)
            return read_to_eof(s)
        except (ConnectionResetError, BrokenPipeError):
            return b""


@pytest.mark.parametrize("addrs,served", [
    ("127.0.0.2", False),
    ("10.0.0.1, 127.0.0.1", True),
    ("127.0.0.10,127.0.0.11", False),  # whole entries, not prefixes
    ("", True),
])
def test_web_server_addrs_on_tcp(tmp_path, addrs, served):
    """FCGI_WEB_SERVER_ADDRS, which libfcgi's own accept honours, holds
    with the service's accept too: a TCP peer not on the list is closed
    unanswered and logged; an empty list allows every peer."""
    srv = provisioned(Standalone(tmp_path, workers=1, port=free_port(),
                                 FCGI_WEB_SERVER_ADDRS=addrs))
    try:
        body = good_body(srv)
        raw = tcp_exchange(srv.port, begin() + params(1, cgi(body).items())
                           + rec(STDIN, 1, body) + rec(STDIN, 1, b""))
        refusal = "FastCGI connection from 127.0.0.1 refused: not in " \
            "FCGI_WEB_SERVER_ADDRS\n"
        if served:
            out, ended = stdout_of(raw)
            assert ended, raw[:200]
            assert b'"mfa_token"' in out, out[:300]
            assert refusal not in srv.log_text()
        else:
            assert raw == b""
            # the only connection made to it: exactly one refusal line
            deadline = time.monotonic() + 5
            while refusal not in srv.log_text():
                assert time.monotonic() < deadline, srv.log_text()[-2000:]
                time.sleep(0.05)
            assert srv.log_text().count("refused") == 1, srv.log_text()
    finally:
        srv.stop()


@pytest.mark.parametrize("addrs,why", [
    ("localhost", "FCGI_WEB_SERVER_ADDRS: 'localhost' is not an IPv4 or "
     "IPv6 address"),
    (" , ", "FCGI_WEB_SERVER_ADDRS: no address in ' , '"),
])
def test_web_server_addrs_unparsable_refuse_the_start(tmp_path, addrs, why):
    """A list the service cannot read stops the start with the reason
    (libfcgi would have let such an entry match nothing, refusing every
    peer in silence)."""
    store = Store.create(tmp_path / "store")
    for args in (["--check"], ["--listen", "127.0.0.1:%d" % free_port()]):
        p = subprocess.run([str(FCGI_BIN)] + args, capture_output=True,
                           text=True, timeout=20,
                           env=clean_env(MFA_DB=store.path,
                                         FCGI_WEB_SERVER_ADDRS=addrs))
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        assert p.stderr.rstrip().endswith("error: " + why), p.stderr


# ----------------------------------------------------------------- soak

def test_memory_does_not_grow(fcgi):
    """After a warm-up, SOAK_REQUESTS more mixed requests (good ones,
    errors, malformed records, aborted bodies) grow no worker's RSS by
    more than RSS_GROWTH_KB."""
    body = good_body(fcgi)

    def round_(i):
        k = i % 5
        if k == 0:
            assert fcgi_request(fcgi.sock, cgi(body), body)[0] == 200
        elif k == 1:
            assert fcgi_request(fcgi.sock, cgi(b"user_id=x"),
                                b"user_id=x")[0] == 401
        elif k == 2:
            b = b'{"user_id":' * 50
            assert fcgi_request(fcgi.sock, cgi(
                b, CONTENT_TYPE="application/json"), b)[0] == 400
        elif k == 3:
            exchange(fcgi.sock, MALFORMED["abort mid-body"], timeout=2)
        else:
            exchange(fcgi.sock, begin() + params(1, cgi(body).items()) +
                     rec(STDIN, 1, body[:10]), close_early=True)

    for i in range(300):
        round_(i)
    before = {p: rss_kb(p) for p in fcgi.workers()}
    t0 = time.monotonic()
    for i in range(SOAK_REQUESTS):
        round_(i)
    assert time.monotonic() - t0 < 120
    after = {p: rss_kb(p) for p in fcgi.workers()}
    assert set(after) == set(before) == set(fcgi.pids)
    assert_healthy(fcgi)
    if is_asan(FCGI_BIN):
        pytest.skip("RSS of an ASan build is its quarantine: bound not "
                    "checked (the soak ran, the workers lived)")
    growth = {p: after[p] - before[p] for p in before}
    print("worker RSS kB before/after %d requests: %r -> %r" % (
        SOAK_REQUESTS, before, after))
    assert max(growth.values()) <= RSS_GROWTH_KB, (before, after)
    assert_healthy(fcgi)


def reply_then_write(sock_path, data):
    """Sends "data", reads the reply up to the worker's EOF, then tries
    to write once more on the same connection. Returns (reply, whether
    that write was refused). A worker that closed its socket refuses it
    (EPIPE); one that only shut its side down (libfcgi's lingering
    close, which then polls for our close) still takes it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(sock_path))
    try:
        s.sendall(data)
        raw = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            raw += b
        try:
            s.send(rec(STDIN, 1, b"late"))
            refused = False
        except (BrokenPipeError, ConnectionResetError):
            refused = True
        return raw, refused
    finally:
        s.close()


def test_close_without_linger_when_stdin_was_read(fcgi):
    """README "Performance": once the request's stdin is read to its end
    the worker closes at once instead of lingering (saves a poll and a
    wake-up per request); the reply is complete before the close."""
    body = good_body(fcgi)
    data = begin() + params(1, cgi(body).items()) + rec(STDIN, 1, body) + \
        rec(STDIN, 1, b"")
    raw, refused = reply_then_write(fcgi.sock, data)
    out, ended = stdout_of(raw)
    assert ended and out.startswith(b"Status: 200"), raw[:300]
    assert refused
    assert_healthy(fcgi)


def test_lingering_close_when_a_body_is_left_unread(fcgi):
    """A body refused unread (413) leaves request bytes in flight: the
    worker keeps libfcgi's lingering close, so those bytes cannot make the
    kernel reset the connection under the reply."""
    body = b"user_id=" + b"x" * 70000
    data = begin() + params(1, cgi(body).items()) + \
        rec(STDIN, 1, body[:60000]) + rec(STDIN, 1, body[60000:]) + \
        rec(STDIN, 1, b"")
    raw, refused = reply_then_write(fcgi.sock, data)
    out, ended = stdout_of(raw)
    assert ended and out.startswith(b"Status: 413"), raw[:300]
    assert not refused
    assert_healthy(fcgi)
