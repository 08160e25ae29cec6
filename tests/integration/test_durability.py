"""Durability of acknowledged verifications and of queued challenges
(README "Durability").

A consumed TOTP code is a durable commit: the reply is sent only after an
fdatasync covers the transaction (shared between workers: group commit).
The test verifies fresh codes from several threads, kills every process of
the server with SIGKILL while requests are in flight, starts a new server
on the same store and replays every code that was acknowledged: each must
be refused, on every worker.

What this can and cannot prove: SIGKILL ends processes but not the
kernel, so the page cache survives and a commit that was written but never
synced survives too. The kill therefore proves that nothing is
acknowledged before it is committed, that LMDB and the shared sync state
(sync.state, its flock) recover from processes dying in any step, and that
no acknowledged consumption is undone by a crash of the service. It cannot
prove that the fdatasync happened before the reply: only a power loss can
(dm-flakey or dm-log-writes under a disposable block device, LazyFS, or a
VM reset), which needs root and a device this suite does not have. The
quiet-phase check below is the closest observable evidence: right after a
durable reply, the shared "synced" transaction id already covers the last
committed transaction.
"""

import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time

import pytest

from conftest import make_client

from servers import (MFACTL, REPO, Http, Lighttpd, Store, assert_ok, body_of,
                     challenge, clean_env, pid_alive, procs_mentioning, short_root,
                     start_server, stop_server, wait_gone)

GRANT = "http://auth0.com/oauth/grant-type/mfa-otp"
USERS = 48
THREADS = 8


def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    v = struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF
    return "%06d" % (v % 1000000)


def sync_state(store):
    """(synced txnid, fdatasyncs, durable commits) from sync.state."""
    b = (store.path / "sync.state").read_bytes()[:48]
    f = struct.unpack("<6Q", b)
    return f[1], f[4], f[5]


def last_txnid(store):
    p = subprocess.run(["mdb_stat", "-e", str(store.path)],
                       capture_output=True, text=True, timeout=30,
                       check=True)
    for line in p.stdout.splitlines():
        if "Last transaction ID" in line:
            return int(line.split(":")[1])
    raise AssertionError(p.stdout)


def verify(http, client, token, code):
    return http.post("/oauth/token", form={
        "grant_type": GRANT, "mfa_token": token, **client.post,
        "otp": code})


@pytest.fixture
def setup(tmp_path):
    srv = start_server("lighttpd", tmp_path / "a", workers=4)
    try:
        store = srv.store
        client = make_client(store, "durable", "otp")
        users = []
        for i in range(USERS):
            u = "durable-%d" % i
            secret = store.enroll_otp(u)["secret"]
            tok = store.issue_token(client.id, u)["mfa_token"]
            users.append((u, secret, tok))
        yield srv, store, client, users
    finally:
        try:
            stop_server(srv)
        except AssertionError:
            pass   # the killed server: nothing of it is left to stop


def kill_all(srv):
    """SIGKILL to the web server, the responder and every worker at once
    (they share no process group with the test runner)."""
    pids = srv._known_pids()
    pids += [p for p in procs_mentioning(str(srv.root)) if p not in pids]
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not wait_gone(pids, 10)
    if srv.proc is not None:
        srv.proc.wait(10)
    srv.stopped = True
    return pids


def assert_spent(http, client, users, codes):
    """Each (user index, code) of "codes" is refused: 403 invalid_grant."""
    for i, code in codes:
        u, secret, tok = users[i]
        r = verify(http, client, tok, code)
        assert (r.status_code, body_of(r).get("error")) == \
            (403, "invalid_grant"), (u, code, body_of(r))


def restart(store, tmp_path, name, workers):
    """A new lighttpd (the normal build) on "store"."""
    root, temporary = short_root(tmp_path / name)
    again = Lighttpd(root, Store(store.path), workers=workers)
    again.temporary_root = temporary
    again.start()
    return again


def test_durable_reply_follows_its_sync(setup):
    srv, store, client, users = setup
    http = Http(srv.url)
    u, secret, tok = users[0]
    r = verify(http, client, tok, totp(secret, int(time.time()) // 30))
    assert r.status_code == 200, body_of(r)
    synced, nsyncs, ndurable = sync_state(store)
    assert nsyncs >= 1 and ndurable >= 1
    # nothing else writes: the sync the reply waited for covers the last
    # committed transaction
    assert synced == last_txnid(store)


def test_kill9_loses_no_acknowledged_consumption(setup, tmp_path):
    srv, store, client, users = setup
    acked = []            # (user index, code) answered 200
    lock = threading.Lock()
    stop = threading.Event()

    def worker(k):
        http = Http(srv.url)
        step = int(time.time()) // 30
        # each user once per step, users split between the threads; the
        # codes of the steps before and after are used in turn
        for i in range(k, USERS, THREADS):
            for d in (-1, 0, 1):
                if stop.is_set():
                    return
                u, secret, tok = users[i]
                code = totp(secret, step + d)
                try:
                    r = verify(http, client, tok, code)
                except Exception:
                    return    # the server is gone
                if r.status_code == 200:
                    with lock:
                        acked.append((i, code))

    threads = [threading.Thread(target=worker, args=(k,))
               for k in range(THREADS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < USERS and time.monotonic() < deadline:
        time.sleep(0.005)
    killed = kill_all(srv)
    stop.set()
    for t in threads:
        t.join(15)
    assert len(acked) >= USERS // 2, "too few acknowledged before the kill"
    assert all(not pid_alive(p) for p in killed)

    # a new server on the same store: every acknowledged code is spent
    again = restart(store, tmp_path, "b", 4)
    try:
        assert_spent(Http(again.url), client, users, acked)
    finally:
        stop_server(again)


def verify_all(srv, client, users, threads=16, also=None):
    """Verifies the current code of every user, "threads" at a time (and
    runs "also"(http), when given, between them); returns {user index:
    (code, status, body)} and what "also" returned."""
    results, extra = {}, []
    lock = threading.Lock()
    step = int(time.time()) // 30

    def worker(k):
        http = Http(srv.url)
        for i in range(k, len(users), threads):
            u, secret, tok = users[i]
            code = totp(secret, step)
            r = verify(http, client, tok, code)
            with lock:
                results[i] = (code, r.status_code, body_of(r))
            if also is not None:
                got = also(http)
                with lock:
                    extra.append(got)

    pool = [threading.Thread(target=worker, args=(k,))
            for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert len(results) == len(users)
    return results, extra


def one_worker(tmp_path, name, env=None, fcgi_bin=None, kind="lighttpd",
               workers=1):
    srv = start_server(kind, tmp_path / name, workers=workers, env=env,
                       fcgi_bin=fcgi_bin)
    store = srv.store
    client = make_client(store, name, "otp")
    users = []
    for i in range(USERS):
        u = "%s-%d" % (name, i)
        secret = store.enroll_otp(u)["secret"]
        tok = store.issue_token(client.id, u)["mfa_token"]
        users.append((u, secret, tok))
    return srv, store, client, users


def test_one_worker_answers_held_replies_after_one_sync(tmp_path):
    """A worker holds the replies of deferred durable commits while it
    serves the connections already waiting, in one LMDB transaction, then
    one sync covers them all: with one worker and 16 clients, fewer
    fdatasyncs than verifications, and fewer write transactions (LMDB's
    last transaction id moves by less), every verification acknowledged
    exactly once, and its code spent."""
    srv, store, client, users = one_worker(tmp_path, "held")
    try:
        http = Http(srv.url)
        txn0 = last_txnid(store)
        _, nsyncs0, ndurable0 = sync_state(store)
        results, _ = verify_all(srv, client, users)
        assert sorted(st for _, st, _ in results.values()) == \
            [200] * USERS, results
        synced, nsyncs, ndurable = sync_state(store)
        assert ndurable - ndurable0 == USERS
        assert nsyncs - nsyncs0 < USERS, "no sync was shared"
        assert last_txnid(store) - txn0 < USERS, "no commit was combined"
        assert synced == last_txnid(store)
        assert_spent(http, client, users,
                     [(i, c) for i, (c, _, _) in results.items()])
    finally:
        stop_server(srv)


def test_one_code_twice_at_once_is_accepted_once(tmp_path):
    """Two clients send the same code for the same user at the same time,
    for 24 users, to one worker that holds replies and combines their
    commits (a write nested in the run sees the codes spent before it in
    the run): for each user exactly one 200 and one 403 invalid_grant."""
    srv, store, client, users = one_worker(tmp_path, "twice")
    pairs = users[:USERS // 2]
    got = {}
    lock = threading.Lock()
    step = int(time.time()) // 30
    go = threading.Barrier(len(pairs) * 2)

    def send(i):
        u, secret, tok = pairs[i // 2]
        http = Http(srv.url)
        go.wait(10)
        r = verify(http, client, tok, totp(secret, step))
        with lock:
            got.setdefault(i // 2, []).append(
                (r.status_code, body_of(r).get("error")))

    try:
        pool = [threading.Thread(target=send, args=(i,))
                for i in range(len(pairs) * 2)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(60)
        assert len(got) == len(pairs)
        for k, answers in got.items():
            assert sorted(answers, key=str) == \
                [(200, None), (403, "invalid_grant")], (k, answers)
    finally:
        stop_server(srv)


def test_kept_fastcgi_connections_are_refused(tmp_path):
    """nginx with "fastcgi_keep_conn on" and an upstream keepalive pool
    (README: not supported): each request answers 500 server_error before
    anything is read or written, and its connection is closed, so a worker
    is never pinned to it (before, requests stuck for the 10 s client
    timeout). A later request may meet nginx's own 502 (a cached connection
    the worker closed), never a hang. The refused verification spent
    nothing: the same code verifies through lighttpd afterwards."""
    srv, store, client, users = one_worker(tmp_path, "kept",
                                           kind="nginx-keep-conn", workers=2)
    step = int(time.time()) // 30
    code = totp(users[0][1], step)
    server_error = {"error": "server_error",
                    "error_description": "Internal server error"}
    try:
        http = Http(srv.url)
        r = verify(http, client, users[0][2], code)
        assert (r.status_code, body_of(r)) == (500, server_error)
        for i in range(12):
            r = challenge(http, client, users[1][2], challenge_type="otp")
            assert r.status_code in (500, 502), r.status_code
            if r.status_code == 500:
                assert body_of(r) == server_error
    finally:
        stop_server(srv)
    if int(time.time()) // 30 > step + 1:   # one step back is accepted
        pytest.skip("the code's time step is over")
    again = restart(store, tmp_path, "kept-after", 1)
    try:
        r = verify(Http(again.url), client, users[0][2], code)
        assert r.status_code == 200, body_of(r)
    finally:
        stop_server(again)


FAULT_FCGI = REPO / "build" / "fault" / "mfa.fcgi"


def test_failed_sync_answers_500_to_the_held_replies_it_was_for(tmp_path):
    """make faultinject with MFA_FAULT_SYNC=1: every fdatasync fails. Each
    verification (a deferred durable commit) answers 500 server_error,
    held or not; the otp challenges served between them (batched, no sync
    awaited) still answer 200, also those held beside a failed
    verification (the error line counts K of N held requests, K < N). The failed verifications were committed, so
    their codes stay spent: answering 500 never lets a code in twice. (A
    replay while the fault lasts answers 500 too: its refusal counts a
    failed attempt, a durable commit.)"""
    if not FAULT_FCGI.exists():
        pytest.fail("%s is not built (make faultinject)" % FAULT_FCGI)
    srv, store, client, users = one_worker(
        tmp_path, "nosync", env={"MFA_FAULT_SYNC": "1"},
        fcgi_bin=FAULT_FCGI)
    try:
        def also(http):
            r = challenge(http, client, users[0][2],
                          challenge_type="otp")
            return r.status_code, body_of(r)

        results, extra = verify_all(srv, client, users, also=also)
        for code, st, body in results.values():
            assert (st, body) == (500, {
                "error": "server_error",
                "error_description": "Internal server error"})
        assert extra == [(200, {"challenge_type": "otp"})] * USERS
        # some hold served a challenge beside the verifications it
        # failed: "the commit or sync of K of N held request(s)", K < N
        holds = [tuple(map(int, m)) for m in re.findall(
            r"the commit or sync of (\d+) of (\d+) held request",
            srv.log_text(tail=None))]
        assert holds and all(1 <= k <= n for k, n in holds), holds
        assert any(k < n for k, n in holds), holds
    finally:
        stop_server(srv)
    # with syncs working again (the normal build), the codes are spent
    again = restart(store, tmp_path, "again", 1)
    try:
        assert_spent(Http(again.url), client, users,
                     [(i, c) for i, (c, _, _) in results.items()])
    finally:
        stop_server(again)


def otp_challenges(http, client, tokens, n):
    """"n" otp challenges (the mfa_tokens in turn); each must be
    acknowledged."""
    for i in range(n):
        assert assert_ok(challenge(http, client, tokens[i % len(tokens)],
                                   challenge_type="otp")) == \
            {"challenge_type": "otp"}


def otp_tokens(store, client, prefix, n):
    """mfa_tokens of "n" new users with an otp authenticator."""
    tokens = []
    for i in range(n):
        u = "%s-%d" % (prefix, i)
        store.enroll_otp(u)
        tokens.append(store.issue_token(client.id, u)["mfa_token"])
    return tokens


@pytest.fixture
def queued(tmp_path):
    """A server whose queued challenges wait 10 s for their commit, so that
    only other writes (a worker's first sweep, a full queue) commit them
    before a test looks."""
    srv = start_server("lighttpd", tmp_path / "q", workers=4,
                       env={"MFA_CHALLENGE_SYNC_MS": "10000"})
    try:
        store = srv.store
        client = make_client(store, "queued", "otp")
        yield srv, store, client, otp_tokens(store, client, "queued", 4)
    finally:
        try:
            stop_server(srv)
        except AssertionError:
            pass


def test_kill9_loses_no_queued_challenge(queued):
    """Acknowledged otp challenges still queued in sync.state when every
    process dies are committed by the next process that opens the store
    (mfactl here)."""
    srv, store, client, users = queued
    http = Http(srv.url)
    otp_challenges(http, client, users, 8)
    before = store.challenge_ids()   # the queue committed by mfactl
    otp_challenges(http, client, users, 20)
    in_lmdb = store.challenge_ids(queue=False) - before
    assert len(in_lmdb) < 20, "nothing was left queued: the test is void"
    kill_all(srv)
    new = store.challenge_ids() - before   # mfactl commits the queue
    assert len(new) == 20
    assert store.challenge_ids(queue=False) - before == new


def test_full_queue_commits_with_the_next_challenge(queued):
    """More otp challenges than the queue's 128 slots, from 8 threads, with
    no tick due: the sandboxed workers answer every one (none dies on a
    system call the sandbox refuses, as one did when a full queue made it
    look for dead posters with kill(2)) and every one is stored."""
    srv, store, client, users = queued
    workers = sorted(srv.wait_workers(4))
    before = store.challenge_ids()
    errors = []
    # A slot a live process is filling (this test's pid; the word is
    # seq << 32 | pid << 8 | FILLING, at 4096 + slot * 1280 in sync.state):
    # a full queue then always meets one, as under load it sometimes does.
    fd = os.open(store.path / "sync.state", os.O_RDWR)
    try:
        os.pwrite(fd, struct.pack("<Q", os.getpid() << 8 | 1), 4096)
    finally:
        os.close(fd)

    def burst():
        try:
            otp_challenges(Http(srv.url), client, users, 50)
        except AssertionError as e:
            errors.append(e)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    in_lmdb = store.challenge_ids(queue=False) - before
    assert len(in_lmdb) >= 127, "the queue never filled: the test is void"
    assert len(store.challenge_ids() - before) == 400
    assert sorted(srv.workers()) == workers   # none died and was replaced


def _can_unshare_pids():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--pid", "--fork", "true"],
                          capture_output=True).returncode == 0


SLOT0, SLOT_SIZE, FILLING = 4096, 1280, 1


def slot_words(store):
    """The state word of every queue slot of sync.state."""
    b = (store.path / "sync.state").read_bytes()
    return [struct.unpack_from("<Q", b, SLOT0 + i * SLOT_SIZE)[0]
            for i in range((len(b) - SLOT0) // SLOT_SIZE)]


def set_slot_word(store, i, word):
    fd = os.open(store.path / "sync.state", os.O_RDWR)
    try:
        os.pwrite(fd, struct.pack("<Q", word), SLOT0 + i * SLOT_SIZE)
    finally:
        os.close(fd)


@pytest.mark.skipif(not _can_unshare_pids(),
                    reason="needs root and unshare(1) for a pid namespace")
def test_mfactl_of_another_pid_namespace_frees_only_dead_posters(queued):
    """mfactl run in a pid namespace of its own (a container that shares
    the store's volume) sees none of the workers with kill(2). Opening the
    store, it frees the queue slot left FILLING by a process that is gone,
    and keeps the one of a live worker: the worker's liveness mark (a lock
    on sync.live) is seen from every namespace."""
    srv, store, client, users = queued
    worker = sorted(srv.wait_workers(4))[0]
    gone = subprocess.Popen(["true"])
    gone.wait()
    free = [i for i, w in enumerate(slot_words(store)) if w & 0xff == 0]
    live_word = 7 << 32 | worker << 8 | FILLING
    dead_word = 9 << 32 | gone.pid << 8 | FILLING
    set_slot_word(store, free[0], live_word)
    set_slot_word(store, free[1], dead_word)
    try:
        p = subprocess.run(["unshare", "--pid", "--fork", str(MFACTL),
                            "--db", str(store.path), "--json", "store",
                            "info"], capture_output=True, text=True,
                           env=clean_env(**store.env), timeout=30,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
        words = slot_words(store)
        assert words[free[0]] == live_word
        assert words[free[1]] == 10 << 32   # FREE, its sequence bumped
    finally:
        set_slot_word(store, free[0], 8 << 32)


def test_queued_challenge_committed_within_sync_ms(tmp_path):
    """With nothing else writing, an idle worker's tick commits a queued
    challenge once challenge_sync_ms (100 ms by default) have passed."""
    srv = start_server("lighttpd", tmp_path / "t", workers=1)
    try:
        store = srv.store
        client = make_client(store, "tick", "otp")
        tokens = otp_tokens(store, client, "tick", 1)
        http = Http(srv.url)
        otp_challenges(http, client, tokens, 1)
        before = store.challenge_ids()   # the queue committed by mfactl
        otp_challenges(http, client, tokens, 1)
        deadline = time.monotonic() + 5
        while (len(store.challenge_ids(queue=False) - before) != 1 and
               time.monotonic() < deadline):
            time.sleep(0.05)
        assert len(store.challenge_ids(queue=False) - before) == 1
    finally:
        stop_server(srv)


G_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"
SMS_LIMIT = "Too many SMS sent by the user. Wait for some minutes before " \
    "retrying."


def oob_users(store, client, prefix, n):
    """(user, mfa_token) of "n" new users with an SMS authenticator."""
    users = []
    for i in range(n):
        u = "%s-%d" % (prefix, i)
        store.enroll_oob(u, "sms", "+15555550100")
        users.append((u, store.issue_token(client.id, u)["mfa_token"]))
    return users


@pytest.mark.parametrize("earlier", [False, True])
def test_oob_index_only_in_an_earlier_builds_queue_file(tmp_path, earlier):
    """A store whose sync.state an earlier build made (its magic, written
    here before the service starts) may be shared with that build's
    processes during an upgrade, which find an oob_code only through the
    oob index: each new oob challenge, queued, gets its entry. In a file
    this build made, none. Either way the code names its challenge and
    verifies with its binding code."""
    store = Store(tmp_path / "store")
    assert store.ctl("init").get("created") is True
    if earlier:
        with open(store.path / "sync.state", "wb") as f:
            f.write(struct.pack("<Q", 0x6d666153796e6333))
            f.write(b"\0" * 64)
            f.write(struct.pack("<Q", 128))
    srv = start_server("lighttpd", tmp_path / "srv", workers=2, store=store,
                       env={"MFA_CHALLENGE_SYNC_MS": "10000"})
    try:
        client = make_client(store, "idx", "oob")
        (user, tok), = oob_users(store, client, "idx", 1)
        spool = store.spool_files()
        http = Http(srv.url)
        oob = assert_ok(challenge(http, client, tok,
                                  challenge_type="oob"))["oob_code"]
        msg = store.read_spool(store.wait_new_spool(spool).pop())
        assert oob.startswith(msg["challenge_id"] + ".")
        assert store.entry_counts().get("oob", 0) == (1 if earlier else 0)
        r = http.post("/oauth/token", form={
            "grant_type": G_OOB, "mfa_token": tok, **client.post,
            "oob_code": oob, "binding_code": msg["code"]})
        assert r.status_code == 200, body_of(r)
    finally:
        stop_server(srv)


def test_queued_oob_challenges_take_each_send_once(tmp_path):
    """oob challenges are queued with their send (the queue waits 10 s for
    its commit here): twelve at once for one user with sms_burst = 3
    answer three 200s and nine 429s, and three messages are published; a
    challenge still only queued verifies at once with its spooled binding
    code; a second send of a bucket that has one queued commits both."""
    srv = start_server("lighttpd", tmp_path / "o", workers=4,
                       env={"MFA_CHALLENGE_SYNC_MS": "10000",
                            "MFA_SMS_BURST": "3"})
    got, lock = [], threading.Lock()
    try:
        store = srv.store
        client = make_client(store, "sends", "oob")
        (alice, tok), (bob, bob_tok), (carol, carol_tok) = \
            oob_users(store, client, "send", 3)
        before = store.challenge_ids()   # commits the queue
        spool = store.spool_files()
        go = threading.Barrier(12)

        def ask():
            http = Http(srv.url)
            go.wait(10)
            r = challenge(http, client, tok, challenge_type="oob")
            with lock:
                got.append((r.status_code, body_of(r)))

        pool = [threading.Thread(target=ask) for _ in range(12)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(60)
        assert sorted(s for s, _ in got) == [200] * 3 + [429] * 9, got
        assert all(b == {"error": "too_many_requests",
                         "error_description": SMS_LIMIT}
                   for s, b in got if s == 429), got
        assert len(store.wait_new_spool(spool, count=3)) == 3

        # carol's challenge is only queued, and verifies at once
        http = Http(srv.url)
        before = store.challenge_ids()
        spool = store.spool_files()
        oob = assert_ok(challenge(http, client, carol_tok,
                                  challenge_type="oob"))["oob_code"]
        assert store.challenge_ids(queue=False) == before
        msg = store.read_spool(store.wait_new_spool(spool).pop())
        assert msg["user_id"] == carol
        r = http.post("/oauth/token", form={
            "grant_type": G_OOB, "mfa_token": carol_tok, **client.post,
            "oob_code": oob, "binding_code": msg["code"]})
        assert r.status_code == 200, body_of(r)

        # bob: the first send is queued, the second (same bucket) commits
        # itself and the first with it
        before = store.challenge_ids()
        assert_ok(challenge(http, client, bob_tok, challenge_type="oob"))
        assert len(store.challenge_ids(queue=False) - before) == 0
        assert_ok(challenge(http, client, bob_tok, challenge_type="oob"))
        assert len(store.challenge_ids(queue=False) - before) == 2
    finally:
        stop_server(srv)
