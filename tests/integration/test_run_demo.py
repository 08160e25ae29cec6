"""contrib/run-demo (what "make run" starts): creates a demo store, serves
it behind lighttpd, prints curl commands that work as printed, and leaves
no process behind when stopped with SIGTERM."""

import json
import os
import re
import select
import signal
import stat
import subprocess
import time

from servers import (FCGI_BIN, MFACTL, REPO, clean_env, free_port,
                     procs_mentioning, wait_gone)

DELIVER = FCGI_BIN.parent / "mfa-deliver"

READY = "Ctrl-C stops everything."


def store_outbox_count(db):
    """Messages in the outbox of the store in "db" (mdb_stat)."""
    p = subprocess.run(["mdb_stat", "-s", "outbox", str(db)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return int(re.search(r"Entries: (\d+)", p.stdout).group(1))


def start_demo(db, port):
    env = clean_env(MFA_DB=str(db), PORT=str(port), MFA_WORKERS="2",
                    MFA_FCGI_BIN=str(FCGI_BIN), MFACTL_BIN=str(MFACTL),
                    MFA_DELIVER_BIN=str(DELIVER))
    p = subprocess.Popen([str(REPO / "contrib" / "run-demo")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, cwd=str(REPO),
                         start_new_session=True)
    out = b""
    deadline = time.monotonic() + 20
    while READY.encode() not in out:
        left = deadline - time.monotonic()
        if left <= 0 or p.poll() is not None:
            p.kill()
            raise AssertionError("run-demo did not get ready:\n%s" %
                                 out.decode(errors="replace"))
        r, _, _ = select.select([p.stdout], [], [], min(left, 0.5))
        if r:
            out += os.read(p.stdout.fileno(), 65536)
    return p, out.decode()


def stop_demo(p, db):
    os.kill(p.pid, signal.SIGTERM)
    try:
        rest, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    assert p.returncode == 143, (p.returncode, rest)
    assert b"no process left behind" in rest, rest
    # the responder and its workers had MFA_DB=<db> in their environment
    left = procs_mentioning("MFA_DB=%s" % db)
    assert wait_gone(list(left), 5) == [], left
    return rest.decode(errors="replace")


def commands(text):
    """The copy-paste command lines of the printout, in order."""
    return [m.group(1) for m in re.finditer(
        r"^   ((?:curl |TOKEN=|/\S*/mfactl |/\S*/mfa-deliver ).*)$", text,
        re.M)]


def test_run_demo_end_to_end(tmp_path):
    db = tmp_path / "var"
    port = free_port()
    p, text = start_demo(db, port)
    try:
        assert "http://127.0.0.1:%d" % port in text
        creds = dict(re.findall(r"^  (client_id|client_secret|user)\s+(\S+)$",
                                text, re.M))
        assert set(creds) == {"client_id", "client_secret", "user"}, text
        assert creds["user"] == "demo-user"
        env_file = db / "demo.env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert creds["client_secret"] in env_file.read_text()
        assert str(db / "spool") in text

        cmds = commands(text)
        assert len(cmds) == 6, cmds
        script = "\n".join("%s\necho '@@'" % c for c in cmds)
        run = subprocess.run(["sh", "-c", script], capture_output=True,
                             text=True, timeout=60, env=clean_env())
        assert run.returncode == 0, run.stderr
        outs = [o.strip() for o in run.stdout.split("@@")]
        tok = json.loads(outs[0])
        assert set(tok) == {"mfa_token", "expires_in", "mfa_requirements"}
        assert tok["mfa_requirements"] == {
            "challenge": [{"type": "otp"}, {"type": "phone"}]}
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", outs[1]), outs[1]
        assert json.loads(outs[2]) == {"challenge_type": "otp"}
        oob = json.loads(outs[3])
        assert oob["challenge_type"] == "oob" and oob["oob_code"]
        # step 3: one message waits in the outbox, nothing in the spool
        box = dict(ln.split(": ", 1) for ln in outs[4].splitlines())
        assert (box["pending"], box["outbox"], box["failed"]) == \
            ("1", "1", "0"), outs[4]
        # step 4: mfa-deliver with the printing gateway sends it
        assert re.fullmatch(r"\[sms to \+15555550100\] Your verification "
                            r"code is [0-9]{6}", outs[5]), run.stdout
        assert "sent by sms to XXXXXXXX0100" in run.stderr
        assert store_outbox_count(db) == 0
    finally:
        if p.poll() is None:
            stop_demo(p, db)

    # A second run finds the store and prints the same credentials.
    p, text2 = start_demo(db, port)
    try:
        assert "creating the store" not in text2
        again = dict(re.findall(r"^  (client_id|client_secret)\s+(\S+)$",
                                text2, re.M))
        assert again == {k: creds[k] for k in ("client_id",
                                               "client_secret")}
    finally:
        stop_demo(p, db)
