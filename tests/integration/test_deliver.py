"""mfa-deliver: the messages of the store's outbox and of the spool
directory handed to a gateway program.

The gateway is a real shell script that records each delivery (its MFA_*
variables and its standard input) in a directory of the test. The outbox
tests make real oob challenges through the served app (a real lighttpd in
front of the pre-forked responder), which puts each message in the store's
outbox, and read the outbox with mdb_dump; the end to end test then
verifies the delivered binding code with the mfa-oob grant. The spool
tests publish message files as an earlier version did. Every agent a test
starts in the background is stopped by PID when it ends.
"""

import base64
import json
import os
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from conftest import PHONE, make_client, make_user
from servers import (MFACTL, REPO, Http, Store, assert_ok, call, challenge,
                     clean_env, http_token)

TC_FCGI = REPO / "build" / "testclock" / "mfa.fcgi"

DELIVER = Path(os.environ.get("MFA_DELIVER_BIN",
                              REPO / "build" / "mfa-deliver")).resolve()
G_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"
CONTRIB_GATEWAY = REPO / "contrib" / "mfa-gateway"

GATEWAY = r"""#!/bin/sh
# a test gateway: records one delivery, appends its id to "order" and its
# start time to "times", notes descriptor $GATEWAY_FD if it has it, then
# exits with $GATEWAY_EXIT (0) after $GATEWAY_SLEEP seconds (none)
out="$1"
date +%s.%N >> "$out/times"
[ -n "$GATEWAY_FD" ] && [ -e /proc/$$/fd/$GATEWAY_FD ] &&
  echo "fd $GATEWAY_FD is open" >> "$out/leaks"
env > "$out/env"
{
  printf 'channel=%s to=%s user=%s challenge=%s created=%s\n' \
    "$MFA_CHANNEL" "$MFA_TO" "$MFA_USER_ID" "$MFA_CHALLENGE_ID" \
    "$MFA_CREATED_AT"
  cat
} > "$out/$MFA_CHALLENGE_ID.sent"
echo "$MFA_CHALLENGE_ID" >> "$out/order"
[ -n "$GATEWAY_SLEEP" ] && sleep "$GATEWAY_SLEEP"
exit "${GATEWAY_EXIT:-0}"
"""


@pytest.fixture
def gw(tmp_path):
    """(spool dir, gateway argv, directory of the deliveries)."""
    spool = tmp_path / "spool"
    out = tmp_path / "out"
    spool.mkdir(mode=0o700)
    out.mkdir()
    script = tmp_path / "gateway.sh"
    script.write_text(GATEWAY)
    script.chmod(0o755)
    return spool, [str(script), str(out)], out


def message(spool, cid, age_s=0.0, channel="sms", to=PHONE, code="482913",
            text=None, raw=None):
    """Publishes a message as the service does (a temporary name, then a
    rename); returns its name."""
    ms = int((time.time() - age_s) * 1000)
    name = "%013d-%s.json" % (ms, cid)
    body = raw if raw is not None else json.dumps(dict(
        channel=channel, to=to, code=code, user_id="u-" + cid,
        challenge_id=cid, created_at="2026-12-06T23:00:00.000Z",
        **({"text": text} if text is not None else {})))
    tmp = spool / (".%s.json.tmp" % cid)
    tmp.write_text(body)
    os.rename(tmp, spool / name)
    return name


def deliver(*args, env=None, timeout=60):
    return subprocess.run([str(DELIVER), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env=clean_env(**(env or {})),
                          stdin=subprocess.DEVNULL)


def published(spool):
    return sorted(n for n in os.listdir(spool) if n.endswith(".json") and
                  not n.startswith("."))


def wait_for(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class Agent:
    """mfa-deliver in the background, stopped by PID."""

    def __init__(self, tmp_path, args, env=None):
        self.log = tmp_path / ("agent-%d.log" % time.monotonic_ns())
        self.f = open(self.log, "w")
        self.p = subprocess.Popen([str(DELIVER), *map(str, args)],
                                  stdout=self.f, stderr=subprocess.STDOUT,
                                  env=clean_env(**(env or {})),
                                  stdin=subprocess.DEVNULL)

    def text(self):
        return self.log.read_text()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(10)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
            self.f.close()


def outbox_challenge(store, http, app, user):
    """A real oob challenge for "user" through the served app: (the
    answer, the outbox name of its message, the message). The message is
    in the store's outbox, not a file of the spool."""
    before = store.spool_files()
    token = http_token(http, app, user.id)
    b = assert_ok(challenge(http, app, token, challenge_type="oob"))
    new = store.wait_new_spool(before)
    assert len(new) == 1, new
    name = new.pop()
    box = store.outbox()
    assert name in box and not (store.spool / name).exists(), name
    b["mfa_token"] = token
    return b, name, json.loads(box[name].decode())


def test_delivered_code_verifies_the_oob_challenge(server_factory, gw):
    """A real oob challenge: mfa-deliver --db hands its binding code from
    the store's outbox to the gateway (the text on stdin, the fields in
    MFA_* variables), removes the outbox entry, and the delivered code
    completes the mfa-oob grant."""
    _, argv, out = gw
    srv = server_factory("lighttpd", workers=1)
    store = srv.store
    app = make_client(store, "deliver", "otp oob")
    user = make_user(store, "dl", otp=False)
    http = Http(srv.url)
    b, name, msg = outbox_challenge(store, http, app, user)
    assert re.fullmatch(r"\d{13}-%s\.json" % msg["challenge_id"], name)
    assert store.ctl("spool")["outbox"] == 1

    p = deliver("--db", store.path, "--once", "--", *argv, env=store.env)
    assert p.returncode == 0, p.stderr
    assert store.outbox() == {}
    assert store.spool_files() == set()
    sent = (out / (msg["challenge_id"] + ".sent")).read_text().splitlines()
    assert sent[0] == ("channel=sms to=%s user=%s challenge=%s created=%s" %
                       (PHONE, user.id, msg["challenge_id"],
                        msg["created_at"]))
    assert sent[1] == "Your verification code is %s" % msg["code"]
    env = (out / "env").read_text().splitlines()
    for var in ("MFA_CHANNEL=sms", "MFA_TO=" + PHONE,
                "MFA_USER_ID=" + user.id,
                "MFA_CHALLENGE_ID=" + msg["challenge_id"],
                "MFA_CREATED_AT=" + msg["created_at"]):
        assert var in env, var
    assert not any(msg["code"] in line for line in env)
    assert ("challenge %s sent by sms to XXXXXXXX0100" %
            msg["challenge_id"]) in p.stderr
    assert msg["code"] not in p.stderr and PHONE not in p.stderr
    c = store.ctl("spool")
    assert (c["pending"], c["outbox"], c["failed"]) == (0, 0, 0)

    binding = sent[1].rsplit(" ", 1)[1]
    r = call(http, "/oauth/token", app, dict(
        grant_type=G_OOB, mfa_token=b["mfa_token"], oob_code=b["oob_code"],
        binding_code=binding))
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"


@pytest.fixture
def served(server_factory):
    """A dedicated server (one worker) with a client and an sms user:
    (store, http, app, user)."""
    srv = server_factory("lighttpd", workers=1, MFA_SMS_BURST=200)
    store = srv.store
    app = make_client(store, "deliver", "otp oob")
    user = make_user(store, "ob", otp=False)
    return store, Http(srv.url), app, user


def test_waiting_agent_is_woken_by_a_commit_of_the_outbox(served, gw,
                                                          tmp_path):
    """An agent waiting on the store sends a message the service puts in
    the outbox well before its 5 s rescan (inotify on data.mdb: the
    challenge is queued, committed within challenge_sync_ms, and the
    commit wakes the agent); a second agent on the same store, even with
    another spool, is refused."""
    store, http, app, user = served
    _, argv, out = gw
    agent = Agent(tmp_path, ["--db", store.path, "--", *argv],
                  env=store.env)
    try:
        assert wait_for(lambda: "deliver: serving the outbox of %s and %s "
                        "with %s" % (store.path, store.spool, argv[0]) in
                        agent.text()), agent.text()
        time.sleep(0.5)   # the agent's first scan is well over
        token = http_token(http, app, user.id)
        t0 = time.time()
        assert_ok(challenge(http, app, token, challenge_type="oob"))
        assert wait_for(lambda: (out / "order").exists(), timeout=4.0), \
            agent.text()
        started = float((out / "times").read_text().split()[0])
        assert started - t0 < 1.5, started - t0   # the rescan: 5 s
        (cid,) = (out / "order").read_text().split()
        assert wait_for(lambda: store.outbox() == {}), store.outbox()
        assert "challenge %s sent by sms to XXXXXXXX0100" % cid in \
            agent.text()
        other = tmp_path / "other-spool"
        other.mkdir()
        second = deliver("--db", store.path, "--spool", other, "--once",
                         "--", *argv)
        assert second.returncode == 1, second.stderr
        assert re.fullmatch(r"mfa-deliver\[\d+\]: error: deliver: another "
                            r"mfa-deliver serves %s\n" %
                            re.escape(str(store.path)), second.stderr), \
            second.stderr
    finally:
        assert agent.stop() == 0


def last_txn(store):
    """The store's last committed LMDB transaction id (mdb_stat -e)."""
    p = subprocess.run(["mdb_stat", "-e", str(store.path)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return int(re.search(r"Last transaction ID: (\d+)", p.stdout).group(1))


def test_a_busy_store_wakes_the_agent_at_most_40_times_a_second(
        served, gw, tmp_path):
    """Every commit of the service writes data.mdb: while clients keep the
    service committing (POST /mfa/token, each a durable write) far more
    often than 40 times a second, the agent's scans (counted from its
    debug lines) stay at least 25 ms apart; an idle store does not wake
    it at all."""
    store, http, app, user = served
    _, argv, out = gw
    agent = Agent(tmp_path, ["--db", store.path, "--log-level", "debug",
                             "--", *argv], env=store.env)
    try:
        assert wait_for(lambda: "deliver: serving" in agent.text())
        time.sleep(0.3)
        scans = agent.text().count("deliver: scanning")
        time.sleep(1.0)   # idle: no commit, no scan (the rescan is 5 s)
        assert agent.text().count("deliver: scanning") == scans

        def hammer():
            h = Http(http.url)
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                assert_ok(call(h, "/mfa/token", app, {"user_id": user.id}))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        txn0, t0 = last_txn(store), time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        took = time.monotonic() - t0
        commits = last_txn(store) - txn0
        time.sleep(0.2)
        busy = agent.text().count("deliver: scanning") - scans
        assert commits > 50 * took, (commits, took)   # over 40 a second
        assert 2 <= busy <= (took + 0.2) * 40 + 2, (busy, took)
        assert not (out / "order").exists()
    finally:
        assert agent.stop() == 0


def test_failing_gateway_outbox_message_is_retried_then_set_aside(
        served, gw, tmp_path):
    """A failing gateway: the outbox message is tried again after 1 s,
    then after --attempts failures it is written to failed/ (mode 0600,
    the message as the outbox held it) with the reason logged, and its
    outbox entry is gone; the code is never logged."""
    store, http, app, user = served
    spool, argv, out = gw
    _, name, msg = outbox_challenge(store, http, app, user)
    raw = store.outbox()[name]
    agent = Agent(tmp_path, ["--db", store.path, "--attempts", "2", "--",
                             *argv], env=dict(store.env, GATEWAY_EXIT="3"))
    try:
        failed = store.spool / "failed" / name
        assert wait_for(lambda: failed.exists()), agent.text()
        assert (out / "order").read_text().split() == \
            [msg["challenge_id"]] * 2
        t = [float(x) for x in (out / "times").read_text().split()]
        assert t[1] - t[0] >= 1 - 0.05, t
        log = agent.text()
        assert ("challenge %s by sms to XXXXXXXX0100: %s failed (exit "
                "status 3); try 2 of 2 in 1 s" %
                (msg["challenge_id"], argv[0])) in log
        assert ("%s moved to failed/: %s failed 2 times, last: exit status "
                "3" % (name, argv[0])) in log
        assert failed.read_bytes() == raw
        assert oct(failed.stat().st_mode & 0o777) == "0o600"
        assert oct(failed.parent.stat().st_mode & 0o777) == "0o700"
        assert wait_for(lambda: store.outbox() == {}), store.outbox()
        assert msg["code"] not in log and PHONE not in log
        c = store.ctl("spool")
        assert (c["pending"], c["outbox"], c["failed"]) == (0, 0, 1)
    finally:
        assert agent.stop() == 0


def test_outbox_message_older_than_max_age_is_dropped_unsent(
        server_factory, gw, tmp_path):
    """The test-clock build's clock runs 30 s behind here, so the message
    it puts in the outbox is 30 s old for mfa-deliver: with --max-age 10
    it is removed unsent, with a warning; a fresh one is sent."""
    if not os.access(TC_FCGI, os.X_OK):
        pytest.fail("%s is not built (make testclock)" % TC_FCGI)
    _, argv, out = gw
    clock = tmp_path / "clock"
    clock.write_text("-30000\n")
    srv = server_factory("lighttpd", workers=1, fcgi_bin=TC_FCGI,
                         MFA_TEST_CLOCK_FILE=clock)
    store = srv.store
    app = make_client(store, "deliver", "otp oob")
    user = make_user(store, "age", otp=False)
    http = Http(srv.url)
    _, old, msg = outbox_challenge(store, http, app, user)
    assert 29000 <= time.time() * 1000 - int(old[:13]) <= 60000, old
    clock.write_text("0\n")
    _, new, fresh = outbox_challenge(store, http, app, user)
    p = deliver("--db", store.path, "--once", "--max-age", "10", "--",
                *argv, env=store.env)
    assert p.returncode == 0, p.stderr
    assert "%s expired unsent (older than 10 s)" % old in p.stderr
    assert (out / "order").read_text().split() == [fresh["challenge_id"]]
    assert store.outbox() == {}
    assert not (store.spool / "failed").exists()


def test_once_drains_the_outbox_in_batches_then_the_files(served, gw):
    """--once: 70 outbox messages (more than one read transaction's 64)
    go out oldest first, then the spool's file; the run exits 0 with the
    outbox empty. mfactl spool counted them all before."""
    store, http, app, user = served
    spool, argv, out = gw
    token = http_token(http, app, user.id)
    for _ in range(70):
        assert_ok(challenge(http, app, token, challenge_type="oob"))
    box = store.outbox()
    assert len(box) == 70
    names = sorted(box)
    # older than every outbox message, and still delivered after them
    file = message(store.spool, "auth_challenge_FILE", age_s=600)
    c = store.ctl("spool")
    assert (c["pending"], c["outbox"], c["failed"]) == (71, 70, 0)
    assert 600 <= c["oldest_age_s"] <= 660
    p = deliver("--db", store.path, "--once", "--max-age", "3600", "--",
                *argv, env=store.env)
    assert p.returncode == 0, p.stderr
    order = (out / "order").read_text().split()
    assert order == [json.loads(box[n])["challenge_id"] for n in names] + \
        ["auth_challenge_FILE"], order
    assert store.outbox() == {} and published(store.spool) == []
    assert file not in os.listdir(store.spool)
    c = store.ctl("spool")
    assert (c["pending"], c["outbox"], c["failed"]) == (0, 0, 0)
    assert "oldest_age_s" not in c


def outbox_load(store, pairs):
    """Puts (key, value) text pairs into the store's outbox with mdb_load
    -T, as a damaged or foreign writer might."""
    text = "".join("%s\n%s\n" % kv for kv in pairs)
    p = subprocess.run(["mdb_load", "-T", "-s", "outbox", str(store.path)],
                       input=text, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr


def test_outbox_messages_that_are_no_message_are_set_aside(gw, tmp_path):
    """The same checks as for files: what is not a valid message, names
    another challenge than its key or is dated over 60 s ahead is written
    to failed/ and removed from the outbox; a key of another form is left
    alone; a good one is sent."""
    spool, argv, out = gw
    store = Store.create(tmp_path / "db")
    ms = int(time.time() * 1000)

    def body(cid, **kw):
        return json.dumps(dict(dict(
            channel="sms", to=PHONE, code="482913", user_id="u",
            challenge_id=cid, created_at="2026-12-06T23:00:00.000Z"), **kw))

    bad = {
        "%013d-auth_challenge_J" % ms: ("not json",
                                        "not a JSON object (line 1)"),
        "%013d-auth_challenge_K" % ms: (
            body("auth_challenge_K", channel="fax"),
            "\"channel\" is not sms, voice or email"),
        "%013d-auth_challenge_O" % ms: (
            body("auth_challenge_OTHER"),
            "\"challenge_id\" is not the one of the outbox key"),
        "%013d-auth_challenge_F" % (ms + 3600 * 1000): (
            body("auth_challenge_F"), "dated in the future"),
    }
    good = "%013d-auth_challenge_G" % ms
    outbox_load(store, [(k, v) for k, (v, _) in bad.items()] +
                [(good, body("auth_challenge_G")), ("junk/../x", "{}")])
    p = deliver("--db", store.path, "--once", "--", *argv)
    assert p.returncode == 0, p.stderr
    for key, (raw, why) in bad.items():
        assert "%s.json moved to failed/: %s" % (key, why) in p.stderr
        assert (store.spool / "failed" / (key + ".json")).read_text() == raw
    assert (out / "order").read_text().split() == ["auth_challenge_G"]
    assert list(store.outbox()) == ["junk/../x.json"]
    assert "482913" not in p.stderr


FAULT_DELIVER = REPO / "build" / "fault" / "mfa-deliver"


def one_outbox_message(tmp_path):
    """A new store whose outbox holds one valid message; its key."""
    store = Store.create(tmp_path / "db")
    key = "%013d-auth_challenge_S" % int(time.time() * 1000)
    outbox_load(store, [(key, json.dumps(dict(
        channel="sms", to=PHONE, code="482913", user_id="u",
        challenge_id="auth_challenge_S",
        created_at="2026-12-06T23:00:00.000Z")))])
    return store, key


def fault_deliver(store, argv, **env):
    """mfa-deliver --once of the fault-injection build (make faultinject)."""
    return subprocess.run(
        [str(FAULT_DELIVER), "--db", str(store.path), "--once", "--",
         *map(str, argv)], capture_output=True, text=True, timeout=60,
        env=clean_env(**env), stdin=subprocess.DEVNULL)


def log_lines(stderr):
    """The lines of mfa-deliver's stderr without their "mfa-deliver[PID]: "
    prefix (every line must have it)."""
    lines = stderr.splitlines()
    assert all(re.match(r"mfa-deliver\[\d+\]: ", ln) for ln in lines), \
        stderr
    return [ln.split(": ", 1)[1] for ln in lines]


READERS_FULL = "begin (MDB_READERS_FULL: Environment maxreaders limit reached)"


def test_a_store_that_cannot_be_synced_sends_nothing(gw, tmp_path):
    """MFA_FAULT_SYNC=1, where every fdatasync fails: no message leaves
    before the store is synced (a power loss could undo its challenge
    while its code is out). The gateway does not run, the message stays
    in the outbox and the run exits 1 saying why, once; the next run,
    whose sync works, sends it."""
    spool, argv, out = gw
    store, key = one_outbox_message(tmp_path)
    p = fault_deliver(store, argv, MFA_FAULT_SYNC="1")
    assert p.returncode == 1, p.stderr
    assert log_lines(p.stderr) == [
        "error: store: sync failed: Input/output error",
        "error: deliver: cannot sync the store %s: its 1 message(s) stay "
        "in the outbox" % store.path]
    assert not (out / "order").exists()
    assert list(store.outbox()) == [key + ".json"]
    p = fault_deliver(store, argv)
    assert p.returncode == 0, p.stderr
    assert (out / "order").read_text().split() == ["auth_challenge_S"]
    assert store.outbox() == {}


@pytest.mark.parametrize("every,fault", [
    (1, READERS_FULL), (2, "cursor (Input/output error)")])
def test_an_outbox_that_cannot_be_read_sends_nothing(gw, tmp_path, every,
                                                     fault):
    """MFA_FAULT_EVERY=1 fails the read transaction's begin, =2 its
    cursor: exit 1 with the store's error and one line saying the outbox
    cannot be read; nothing is sent and the message stays."""
    spool, argv, out = gw
    store, key = one_outbox_message(tmp_path)
    p = fault_deliver(store, argv, MFA_FAULT_EVERY=str(every))
    assert p.returncode == 1, p.stderr
    assert log_lines(p.stderr) == [
        "error: store: injected fault in " + fault,
        "error: deliver: cannot read the outbox of %s: temporarily "
        "unavailable" % store.path]
    assert not (out / "order").exists()
    assert list(store.outbox()) == [key + ".json"]


@pytest.mark.parametrize("every,fault", [
    (3, READERS_FULL), (4, "del (Input/output error)"),
    (5, "commit (Input/output error)")])
def test_a_sent_message_that_cannot_be_removed_is_exit_1(gw, tmp_path,
                                                         every, fault):
    """MFA_FAULT_EVERY=3 fails the removal's write transaction at its
    begin, =4 at its delete, =5 at its commit: the gateway ran, the
    message stays in the outbox and --once exits 1 (not 0: cron must see
    that the next run sends the code again), with the store's error, the
    failed removal and a warning that it will be sent again; the next run
    sends it again and removes it."""
    spool, argv, out = gw
    store, key = one_outbox_message(tmp_path)
    p = fault_deliver(store, argv, MFA_FAULT_EVERY=str(every))
    assert p.returncode == 1, p.stderr
    assert log_lines(p.stderr) == [
        "info: deliver: challenge auth_challenge_S sent by sms to "
        "XXXXXXXX0100",
        "error: store: injected fault in " + fault,
        "error: deliver: cannot remove %s from the outbox of %s: "
        "temporarily unavailable" % (key, store.path),
        "warn: deliver: %s.json was sent but stays: the next run sends it "
        "again" % key]
    assert (out / "order").read_text().split() == ["auth_challenge_S"]
    assert list(store.outbox()) == [key + ".json"]
    p = fault_deliver(store, argv)
    assert p.returncode == 0, p.stderr
    assert (out / "order").read_text().split() == ["auth_challenge_S"] * 2
    assert store.outbox() == {}


@pytest.mark.parametrize("case", ["no data.mdb", "not LMDB", "no dir"])
def test_a_store_that_cannot_be_opened_is_exit_1(gw, tmp_path, case):
    """--db names a store that cannot be opened: exit 1, with what is
    wrong, and nothing sent (not even the spool's file); --spool alone
    names no store and delivers the files only."""
    spool, argv, out = gw
    name = message(spool, "auth_challenge_W")
    db = tmp_path / "db"
    if case != "no dir":
        db.mkdir()
    if case == "not LMDB":
        (db / "data.mdb").write_bytes(b"\0" * 16384)
    p = deliver("--db", db, "--spool", spool, "--once", "--", *argv)
    says = {"no data.mdb": "no store at %s: data.mdb: No such file or "
            "directory" % db,
            "not LMDB": "cannot open the store %s: store error" % db,
            "no dir": "cannot open the store %s: No such file or "
            "directory" % db}[case]
    assert p.returncode == 1, p.stderr
    assert re.fullmatch(r"mfa-deliver\[\d+\]: error: deliver: %s\n" %
                        re.escape(says), p.stderr), p.stderr
    assert not (out / "order").exists() and published(spool) == [name]
    if case == "no data.mdb":
        assert os.listdir(db) == []   # LMDB made no empty store there
    p = deliver("--spool", spool, "--once", "--", *argv)
    assert p.returncode == 0, p.stderr
    assert "only the files of %s are delivered" % spool in p.stderr
    assert published(spool) == []


def test_oldest_first_with_own_text_and_email(gw):
    spool, argv, out = gw
    message(spool, "auth_challenge_C", age_s=1)
    message(spool, "auth_challenge_A", age_s=3, channel="email",
            to="jane@example.com")
    message(spool, "auth_challenge_B", age_s=2, text="Acme code: 111222")
    p = deliver("--spool", spool, "--once", "--", *argv)
    assert p.returncode == 0, p.stderr
    assert (out / "order").read_text().split() == [
        "auth_challenge_A", "auth_challenge_B", "auth_challenge_C"]
    a = (out / "auth_challenge_A.sent").read_text().splitlines()
    assert a[0].startswith("channel=email to=jane@example.com user=")
    assert (out / "auth_challenge_B.sent").read_text().splitlines()[1] == \
        "Acme code: 111222"
    assert "sent by email to j***@example.com" in p.stderr
    assert published(spool) == []


def test_failing_gateway_is_retried_then_set_aside(gw, tmp_path):
    """Each retry waits its back-off after the failed run has ended (the
    gateway runs 0.6 s here), then the message moves to failed/."""
    spool, argv, out = gw
    name = message(spool, "auth_challenge_F")
    agent = Agent(tmp_path, ["--spool", spool, "--attempts", "3", "--",
                             *argv],
                  env={"GATEWAY_EXIT": "3", "GATEWAY_SLEEP": "0.6"})
    try:
        assert wait_for(lambda: (spool / "failed" / name).exists()), \
            agent.text()
        assert (out / "order").read_text().split() == \
            ["auth_challenge_F"] * 3
        t = [float(x) for x in (out / "times").read_text().split()]
        assert t[1] - t[0] >= 0.6 + 1 - 0.05, t   # run, then 1 s
        assert t[2] - t[1] >= 0.6 + 2 - 0.05, t   # run, then 2 s
        log = agent.text()
        assert "failed (exit status 3); try 2 of 3 in 1 s" in log
        assert "failed (exit status 3); try 3 of 3 in 2 s" in log
        assert ("%s moved to failed/: %s failed 3 times, last: exit "
                "status 3" % (name, argv[0])) in log
        assert "482913" not in log
        assert published(spool) == []
        assert oct((spool / "failed").stat().st_mode & 0o777) == "0o700"
    finally:
        assert agent.stop() == 0


def test_waiting_agent_sends_a_new_message_and_stops_on_sigterm(gw,
                                                                 tmp_path):
    spool, argv, out = gw
    agent = Agent(tmp_path, ["--spool", spool, "--", *argv])
    try:
        assert wait_for(lambda: "deliver: serving" in agent.text()), \
            agent.text()
        message(spool, "auth_challenge_N")
        # woken by the rename (inotify), not by the rescan 5 s later
        assert wait_for(lambda: (out / "auth_challenge_N.sent").exists(),
                        timeout=4.0), agent.text()
        assert wait_for(lambda: published(spool) == [])
        second = deliver("--spool", spool, "--once", "--", *argv)
        assert second.returncode == 1
        assert "another mfa-deliver serves %s" % spool in second.stderr
    finally:
        assert agent.stop() == 0


def test_mfactl_spool_counts_pending_and_failed(gw, tmp_path):
    """mfactl spool: counts only, the oldest pending message's age; after
    mfa-deliver, nothing pending and the bad file counted in failed/. (The
    store's outbox is empty here: the outbox tests count it.)"""
    spool, argv, out = gw
    Store.create(tmp_path / "db")

    def mfactl(*args, spool=spool):
        return subprocess.run(
            [str(MFACTL), "--db", str(tmp_path / "db"), "--json", *args],
            capture_output=True, text=True, timeout=30,
            env=clean_env(MFA_SPOOL=str(spool)))

    def counts():
        p = mfactl("spool")
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    assert counts() == {"spool": str(spool), "pending": 0, "outbox": 0,
                        "failed": 0}
    message(spool, "auth_challenge_G", age_s=90)
    message(spool, "auth_challenge_H", age_s=5, code="777111")
    message(spool, "auth_challenge_I", raw="junk")
    (spool / ".auth_challenge_J.json.tmp").write_text("{}")
    c = counts()
    assert (c["pending"], c["failed"]) == (3, 0)
    assert 90 <= c["oldest_age_s"] <= 120
    assert "777111" not in mfactl("spool").stdout   # counts, no content
    p = deliver("--spool", spool, "--once", "--", *argv)
    assert p.returncode == 0, p.stderr
    assert counts() == {"spool": str(spool), "pending": 0, "outbox": 0,
                        "failed": 1}
    p = mfactl("spool", "extra")
    assert (p.returncode, p.stderr.splitlines()[0]) == (
        2, "mfactl: spool takes no arguments")
    p = mfactl("spool", spool=tmp_path / "nowhere")
    assert (p.returncode, p.stderr) == (1, "mfactl: cannot read the spool "
                                        "%s: No such file or directory\n" %
                                        (tmp_path / "nowhere"))
    nostore = tmp_path / "nostore"
    p = subprocess.run([str(MFACTL), "--db", str(nostore), "--json",
                        "spool"], capture_output=True, text=True, timeout=30,
                       env=clean_env(MFA_SPOOL=str(spool)))
    assert (p.returncode, p.stdout, p.stderr) == (
        1, "", 'mfactl: no store at %s (run "mfactl --db %s init")\n' %
        (nostore, nostore))


def test_a_message_that_cannot_be_set_aside_is_never_sent_again(gw,
                                                                tmp_path):
    """failed/ is a file: a bad message stays where it is, with the reason
    (--once exits 1: the spool cannot be written); a message that used up
    its attempts is not sent again while its move keeps failing."""
    spool, argv, out = gw
    (spool / "failed").write_text("")
    bad = message(spool, "auth_challenge_X", raw="junk")
    p = deliver("--spool", spool, "--once", "--", *argv)
    assert p.returncode == 1, p.stderr
    assert ("cannot move %s to %s/failed/ (not a JSON object (line 1)): "
            "Not a directory" % (bad, spool)) in p.stderr
    os.unlink(spool / bad)
    name = message(spool, "auth_challenge_U")
    agent = Agent(tmp_path, ["--spool", spool, "--attempts", "1", "--",
                             *argv], env={"GATEWAY_EXIT": "3"})
    try:
        assert wait_for(lambda: agent.text().count(
            "cannot move %s to" % name) >= 2), agent.text()
        assert "(attempts used up)" in agent.text()
        assert (out / "order").read_text().split() == ["auth_challenge_U"]
        assert published(spool) == [name]
    finally:
        assert agent.stop() == 0


def test_a_failure_past_the_retry_table_is_set_aside_not_forgotten(
        gw, tmp_path):
    """The agent remembers 4096 failing messages for their retries; the
    next one that fails goes to failed/ at once, with the reason, instead
    of being retried without a count (or sent again at every scan)."""
    spool, _, _ = gw
    now = time.time()
    names = []
    for i in range(4097):   # oldest first: the last one fails last
        names.append(message(spool, "auth_challenge_R%04d" % i,
                             age_s=60 - i * 0.01 - (time.time() - now)))
    agent = Agent(tmp_path, ["--spool", spool, "--attempts", "100", "--",
                             "/bin/false"])
    try:
        assert wait_for(lambda: "moved to failed/" in agent.text(),
                        timeout=120), agent.text()[-2000:]
        assert os.listdir(spool / "failed") == [names[-1]]
        assert ("%s moved to failed/: /bin/false failed (exit status 1) "
                "and 4096 other messages wait for a retry already" %
                names[-1]) in agent.text()
        assert len(published(spool)) == 4096
    finally:
        assert agent.stop() == 0


def test_expired_message_is_dropped_unsent(gw):
    spool, argv, out = gw
    old = message(spool, "auth_challenge_OLD", age_s=30)
    message(spool, "auth_challenge_NEW", age_s=1)
    p = deliver("--spool", spool, "--once", "--max-age", "10", "--", *argv)
    assert p.returncode == 0, p.stderr
    assert "%s expired unsent (older than 10 s)" % old in p.stderr
    assert (out / "order").read_text().split() == ["auth_challenge_NEW"]
    assert published(spool) == []


def test_files_that_are_no_message_are_set_aside_or_left(gw):
    spool, argv, out = gw
    bad = {
        message(spool, "auth_challenge_J", raw="not json"):
            "not a JSON object",
        message(spool, "auth_challenge_Z", raw=""):
            "empty (lost before it reached the disk?)",
        message(spool, "auth_challenge_K", raw=json.dumps(dict(
            channel="fax", to="1", code="1", user_id="u", challenge_id="c",
            created_at="t"))): "\"channel\" is not sms, voice or email",
        message(spool, "auth_challenge_L", raw=json.dumps(dict(
            channel="sms", to=PHONE, user_id="u", challenge_id="c",
            created_at="t"))): "\"code\" is missing",
        message(spool, "auth_challenge_M", raw=" " * 20000):
            "larger than 16384 bytes",
        message(spool, "auth_challenge_E", channel="email",
                to="jane@example.com\nBcc: eve@evil.example"):
            "\"to\" is not an e-mail address",
        message(spool, "auth_challenge_P", to="+1 555 0100"):
            "\"to\" is not an E.164 phone number",
        message(spool, "auth_challenge_FUTURE", age_s=-3600):
            "dated in the future",
    }
    other = message(spool, "auth_challenge_Q")
    (spool / other).write_text(json.dumps(dict(
        channel="sms", to=PHONE, code="1", user_id="u",
        challenge_id="auth_challenge_OTHER", created_at="t")))
    bad[other] = "\"challenge_id\" is not the one of the file name"
    link = "%013d-auth_challenge_S.json" % int(time.time() * 1000)
    os.symlink("/etc/passwd", spool / link)
    bad[link] = "Too many levels of symbolic links"
    (spool / "notes.json").write_text("{}")          # not a message name
    (spool / ".auth_challenge_T.json.tmp").write_text("{}")  # unpublished
    p = deliver("--spool", spool, "--once", "--", *argv)
    assert p.returncode == 0, p.stderr
    for name, why in bad.items():
        assert "%s moved to failed/: %s" % (name, why) in p.stderr
        assert os.path.lexists(spool / "failed" / name)
    assert not (out / "order").exists()
    assert sorted(os.listdir(spool)) == [
        ".auth_challenge_T.json.tmp", ".deliver.lock", "failed",
        "notes.json"]


def without_dac_override(argv):
    """"argv" run so that file modes bind it: as root, without the
    capabilities that pass over them (setpriv, util-linux); as another
    user, as it is."""
    if os.geteuid() != 0:
        return argv
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", "--inh-caps=" + caps, "--bounding-set=" + caps,
            *map(str, argv)]


def test_a_spool_file_that_cannot_be_read_is_kept_and_exit_1(gw):
    """A message file the agent may not read (mode 000) is neither sent
    nor set aside: it is left for a later run, with a warning naming it,
    and --once exits 1 so that cron sees it; the readable message next to
    it is sent."""
    spool, argv, out = gw
    locked = message(spool, "auth_challenge_U")
    (spool / locked).chmod(0)
    sent = message(spool, "auth_challenge_V")
    p = subprocess.run(without_dac_override(
        [DELIVER, "--spool", spool, "--once", "--", *argv]),
        capture_output=True, text=True, timeout=60, env=clean_env(),
        stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p.stderr
    assert ("warn: deliver: cannot read %s: Permission denied; tried again "
            "later" % locked) in p.stderr
    assert (out / "order").read_text().split() == ["auth_challenge_V"]
    assert published(spool) == [locked]
    assert not (spool / "failed" / locked).exists()
    assert not (spool / "failed" / sent).exists()


def test_gateway_past_its_timeout_is_killed_and_the_message_kept(gw):
    spool, argv, out = gw
    name = message(spool, "auth_challenge_T")
    p = deliver("--spool", spool, "--once", "--timeout", "1", "--", *argv,
                env={"GATEWAY_SLEEP": "31.7"}, timeout=30)
    assert p.returncode == 3, p.stderr   # a message left behind
    assert ("failed (killed after 1 s); left for the next run" in p.stderr)
    assert published(spool) == [name]
    left = subprocess.run(["pgrep", "-f", "sleep 31.7"],
                          capture_output=True, text=True)
    assert left.stdout == ""   # its process group was killed with it


@pytest.mark.parametrize("sleep,timeout,rc,sent", [
    ("0.3", "10", 0, True),     # waited for: sent, removed
    ("31.9", "1", 3, False),    # killed after --timeout: left
])
def test_without_pidfd_the_gateway_is_waited_for_every_20_ms(
        gw, sleep, timeout, rc, sent):
    """Where pidfd_open(2) fails (an old kernel, a seccomp filter; here
    strace makes it fail) the agent still waits for the gateway, and
    still kills it at --timeout."""
    spool, argv, out = gw
    name = message(spool, "auth_challenge_P")
    trace = spool.parent / "strace.out"
    p = subprocess.run(
        ["strace", "-f", "-qq", "-o", str(trace), "-e", "trace=pidfd_open",
         "-e", "inject=pidfd_open:error=ENOSYS", str(DELIVER), "--spool",
         str(spool), "--once", "--timeout", timeout, "--", *argv],
        capture_output=True, text=True, timeout=60,
        # LeakSanitizer cannot run under ptrace (the ASan build's pass)
        env=clean_env(GATEWAY_SLEEP=sleep, ASAN_OPTIONS="detect_leaks=0"),
        stdin=subprocess.DEVNULL)
    assert p.returncode == rc, p.stderr
    assert "= -1 ENOSYS (Function not implemented) (INJECTED)" in \
        trace.read_text()
    assert (published(spool) == []) is sent
    assert (out / "auth_challenge_P.sent").exists()
    if not sent:
        assert "failed (killed after 1 s)" in p.stderr
        assert published(spool) == [name]


def test_gateway_gets_no_inherited_descriptor_and_no_code_in_env(gw):
    """An agent started with a descriptor open (as from a shell or cron)
    does not pass it on, and the code is on stdin only."""
    spool, argv, out = gw
    message(spool, "auth_challenge_D", code="913482")
    fd = os.open("/etc/hostname", os.O_RDONLY)
    try:
        p = subprocess.run([str(DELIVER), "--spool", str(spool), "--once",
                            "--", *argv], capture_output=True, text=True,
                           timeout=60, env=clean_env(GATEWAY_FD=str(fd)),
                           pass_fds=(fd,), stdin=subprocess.DEVNULL)
    finally:
        os.close(fd)
    assert p.returncode == 0, p.stderr
    assert (out / "auth_challenge_D.sent").exists()
    assert not (out / "leaks").exists(), (out / "leaks").read_text()
    env = (out / "env").read_text()
    assert "MFA_TO=%s" % PHONE in env.splitlines()
    assert "913482" not in env


def test_sigterm_during_a_run_finishes_the_message(gw, tmp_path):
    spool, argv, out = gw
    message(spool, "auth_challenge_R")
    agent = Agent(tmp_path, ["--spool", spool, "--", *argv],
                  env={"GATEWAY_SLEEP": "1"})
    try:
        assert wait_for(lambda: (out / "times").exists())
        agent.p.send_signal(signal.SIGTERM)
        assert agent.p.wait(10) == 0
        assert published(spool) == []
        assert "challenge auth_challenge_R sent by sms" in agent.text()
    finally:
        agent.stop()


def test_ignored_sigchld_does_not_turn_a_send_into_a_failure(gw):
    """SIGCHLD ignored by whoever started the agent survives exec; the
    agent resets it, or waitpid could not see the gateway's exit 0."""
    spool, argv, out = gw
    message(spool, "auth_challenge_Z")
    p = subprocess.run([str(DELIVER), "--spool", str(spool), "--once",
                        "--", *argv], capture_output=True, text=True,
                       timeout=60, env=clean_env(),
                       stdin=subprocess.DEVNULL,
                       preexec_fn=lambda: signal.signal(signal.SIGCHLD,
                                                        signal.SIG_IGN))
    assert p.returncode == 0, p.stderr
    assert "challenge auth_challenge_Z sent by sms" in p.stderr
    assert published(spool) == []


def test_removed_spool_stops_the_agent(gw, tmp_path):
    spool, argv, out = gw
    agent = Agent(tmp_path, ["--spool", spool, "--", *argv])
    try:
        assert wait_for(lambda: "deliver: serving" in agent.text())
        for f in os.listdir(spool):
            os.unlink(spool / f)
        os.rmdir(spool)
        assert agent.p.wait(15) == 1
        assert "the spool %s was" % spool in agent.text()
    finally:
        agent.stop()


def test_contrib_gateway_sends_email_through_sendmail(gw, tmp_path):
    """contrib/mfa-gateway, e-mail: a message for sendmail -t, with the
    headers from the environment and the text as its body."""
    spool, _, out = gw
    fake = tmp_path / "sendmail"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$*" > "$OUT/args"\n'
                    'cat > "$OUT/mail"\n')
    fake.chmod(0o755)
    message(spool, "auth_challenge_EM", channel="email",
            to="jane@example.com", code="246810")
    p = deliver("--spool", spool, "--once", "--", CONTRIB_GATEWAY,
                env={"MFA_SENDMAIL": str(fake), "OUT": str(out),
                     "MFA_MAIL_FROM": "mfa@example.org"})
    assert p.returncode == 0, p.stderr
    assert published(spool) == []
    assert (out / "args").read_text() == "-t -i\n"
    assert (out / "mail").read_text() == (
        "From: mfa@example.org\nTo: jane@example.com\n"
        "Subject: Your verification code\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Your verification code is 246810\n")


class _SmsApi(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((self.headers.get("Authorization"),
                                body.decode()))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_api():
    srv = HTTPServer(("127.0.0.1", 0), _SmsApi)
    srv.got, srv.status = [], 200
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def test_contrib_gateway_posts_sms_to_an_http_api(gw, tmp_path, sms_api):
    """contrib/mfa-gateway, SMS: one form POST with the credentials from a
    curl configuration file; an HTTP error leaves the message for later;
    without MFA_SMS_URL it exits 2 and sends nothing."""
    spool, _, out = gw
    conf = tmp_path / "sms.curl"
    conf.write_text('user = "key:s3cret"\n')
    url = "http://127.0.0.1:%d/v1/messages" % sms_api.server_port
    env = {"MFA_SMS_URL": url, "MFA_SMS_CURL_CONFIG": str(conf)}
    message(spool, "auth_challenge_SM", code="135790")
    p = deliver("--spool", spool, "--once", "--", CONTRIB_GATEWAY, env=env)
    assert p.returncode == 0, p.stderr
    assert published(spool) == []
    ((authz, body),) = sms_api.got
    assert authz == "Basic " + base64.b64encode(b"key:s3cret").decode()
    assert parse_qs(body) == {"to": [PHONE], "channel": ["sms"],
                              "text": ["Your verification code is 135790"]}

    sms_api.status = 500
    name = message(spool, "auth_challenge_SN")
    p = deliver("--spool", spool, "--once", "--", CONTRIB_GATEWAY, env=env)
    assert p.returncode == 3, p.stderr
    assert "failed (exit status 22); left for the next run" in p.stderr
    assert published(spool) == [name]
    p = deliver("--spool", spool, "--once", "--", CONTRIB_GATEWAY)
    assert p.returncode == 3, p.stderr
    assert "mfa-gateway: MFA_SMS_URL is not set" in p.stderr
    assert "failed (exit status 2)" in p.stderr
    assert len(sms_api.got) == 2 and published(spool) == [name]


@pytest.mark.parametrize("args,status,says", [
    ([], 2, "no PROGRAM given (after --)"),
    (["--attempts", "0", "--", "true"], 2,
     "--attempts: \"0\" is not a number from 1 to 100"),
    (["--max-age", "1x", "--", "true"], 2,
     "--max-age: \"1x\" is not a number of seconds from 1 to 86400"),
    (["--bogus", "--", "true"], 2, "unknown option or missing value"),
    (["--log-level", "loud", "--", "true"], 2, "--log-level: \"loud\""),
    (["--spool", "/nonexistent/spool", "--once", "--", "true"], 1,
     "cannot open the spool /nonexistent/spool: No such file"),
])
def test_usage_and_setup_errors(args, status, says):
    p = deliver(*args)
    assert p.returncode == status, p.stderr
    assert says in p.stderr


def test_help_names_the_interface():
    p = deliver("--help")
    assert p.returncode == 0
    for word in ("MFA_CHANNEL", "MFA_TO", "MFA_CHALLENGE_ID", "--once",
                 "--max-age", "--attempts", "--timeout", "failed/"):
        assert word in p.stdout
