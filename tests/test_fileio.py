"""alvh_xl.fileio: path checks, atomic writes (full disk, kill, concurrent writers), the lock,
and the CLI's exit 2 for unusable paths."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from alvh_xl import fileio
from alvh_xl.errors import PathError
from alvh_xl.fileio import (
    atomic_write,
    cleanup_orphans,
    exclusive_lock,
    input_file,
    output_dir,
    output_file,
    temp_files,
)

ROOT = Path(__file__).parent.parent
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    return fifo


# --------------------------------------------------------------------------- path checks

def test_input_file_refuses_what_cannot_be_read(tmp_path):
    ok = tmp_path / "a.csv"
    ok.write_text("x")
    assert input_file(ok, "history") == ok
    cases = {
        tmp_path / "none.csv": "history .*none.csv: no such file",
        tmp_path / "nodir" / "a.csv": "folder .*nodir does not exist",
        ok / "a.csv": "a.csv is a file, not a folder",
        tmp_path: "is a folder, not a file",
        _fifo(tmp_path): r"is a FIFO \(named pipe\), not a file",
        Path("/dev/full"): "/dev/full is a device, not a file",
        Path("/dev/null"): "/dev/null is a device, not a file",
    }
    for path, pattern in cases.items():
        with pytest.raises(PathError, match=pattern):
            input_file(path, "history")
    link = tmp_path / "link.csv"
    link.symlink_to("/dev/full")
    with pytest.raises(PathError, match="is a device"):
        input_file(link, "history")


def test_output_file_refuses_what_cannot_be_written(tmp_path):
    src = tmp_path / "in.xlsx"
    src.write_text("x")
    assert output_file(tmp_path / "new.xlsx") == tmp_path / "new.xlsx"
    cases = {
        tmp_path / "nodir" / "o.xlsx": "folder .*nodir does not exist",
        src / "o.xlsx": "in.xlsx is a file, not a folder",
        tmp_path: "is a folder; give a file name",
        _fifo(tmp_path): "is a FIFO",
        Path("/dev/full"): "/dev/full is a device; give a file name",
    }
    for path, pattern in cases.items():
        with pytest.raises(PathError, match=pattern):
            output_file(path)
    with pytest.raises(PathError, match="is the input .*in.xlsx: it would be overwritten"):
        output_file(tmp_path / "." / "in.xlsx", not_same_as=[src])
    alias = tmp_path / "alias.xlsx"
    alias.symlink_to(src)
    with pytest.raises(PathError, match="would be overwritten"):
        output_file(alias, not_same_as=[src])
    if not IS_ROOT:                     # root may write anything; the mount test covers it
        ro = tmp_path / "ro.csv"
        ro.write_text("x")
        ro.chmod(0o444)
        with pytest.raises(PathError, match="read-only"):
            output_file(ro)


def test_output_dir(tmp_path):
    assert output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()
    assert output_dir(tmp_path / "a" / "b", create=True).is_dir()
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(PathError, match="f.txt is a file, not a folder"):
        output_dir(f)
    with pytest.raises(PathError, match="cannot be created: .*f.txt is a file"):
        output_dir(f / "sub")
    with pytest.raises(PathError, match="is a device, not a folder"):
        output_dir("/dev/full")


@contextlib.contextmanager
def read_only_folder(tmp_path: Path):
    """A folder nobody here may write in: chmod for ordinary users, a read-only tmpfs for
    root (who ignores permission bits)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "old.csv").write_text("old\n")
    if not IS_ROOT:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode:
        pytest.skip(f"root without mount permission: {mounted.stderr!r}")
    try:
        (folder / "old.csv").write_text("old\n")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_unwritable_folder_is_refused_with_a_sentence(tmp_path):
    with read_only_folder(tmp_path) as folder:
        with pytest.raises(PathError, match="no permission to write in folder|read-only"):
            output_file(folder / "old.csv")
        with pytest.raises(PathError, match="no permission to write in folder"):
            output_file(folder / "new.csv")
        with pytest.raises(PathError):
            atomic_write(folder / "new.csv", lambda fh: fh.write("x"))
        assert (folder / "old.csv").read_text() == "old\n"
        assert sorted(p.name for p in folder.iterdir()) == ["old.csv"]


# --------------------------------------------------------------------------- atomic write

def test_atomic_write_replaces_and_keeps_the_mode(tmp_path):
    target = tmp_path / "h.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    assert atomic_write(target, lambda fh: fh.write("new\r\n")) == target
    assert target.read_bytes() == b"new\r\n"                     # no newline translation
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    atomic_write(tmp_path / "b.bin", lambda fh: fh.write(b"\x00\x01"), binary=True)
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o666 & ~umask
    assert not temp_files(tmp_path, "h.csv") and not temp_files(tmp_path, "b.bin")


def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    atomic_write(link, lambda fh: fh.write("new"))
    assert link.is_symlink() and real.read_text() == "new"


def test_a_failing_writer_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "h.csv"
    target.write_text("old\n")

    def half_then_fail(fh):
        fh.write("partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old\n" and not temp_files(tmp_path, "h.csv")
    with pytest.raises(ValueError, match="refused"):
        atomic_write(target, lambda fh: fh.write("new"),
                     verify=lambda p: (_ for _ in ()).throw(ValueError("refused")))
    assert target.read_text() == "old\n" and not temp_files(tmp_path, "h.csv")


def test_special_targets_are_never_replaced(tmp_path):
    for target in (Path("/dev/full"), Path("/dev/null"), _fifo(tmp_path)):
        before = os.stat(target)
        with pytest.raises(PathError, match="give a file name"):
            atomic_write(target, lambda fh: fh.write("x"))
        after = os.stat(target)
        assert (before.st_ino, before.st_mode) == (after.st_ino, after.st_mode)


def test_full_disk_leaves_the_old_file_or_none(tmp_path):
    """A real ENOSPC: a 64 KiB tmpfs (root) or, elsewhere, a file-size limit (EFBIG) in a
    child process. Either way the target keeps its old bytes or does not appear."""
    big = "x" * 200_000
    if IS_ROOT:
        folder = tmp_path / "tiny"
        folder.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                                  str(folder)], capture_output=True)
        if mounted.returncode == 0:
            try:
                old = folder / "h.csv"
                old.write_text("old\n")
                with pytest.raises(PathError, match="no space left on device; the previous "
                                                    "file is unchanged"):
                    atomic_write(old, lambda fh: fh.write(big))
                assert old.read_text() == "old\n"
                with pytest.raises(PathError, match="no space left on device; nothing was "
                                                    "left there"):
                    atomic_write(folder / "new.csv", lambda fh: fh.write(big))
                assert sorted(p.name for p in folder.iterdir()) == ["h.csv"]
            finally:
                subprocess.run(["umount", "-l", str(folder)], check=True)
    # RLIMIT_FSIZE: the kernel refuses the write past 10 kB (any user, any machine).
    child = textwrap.dedent("""
        import resource, signal, sys
        from alvh_xl.fileio import atomic_write
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))
        atomic_write(sys.argv[1], lambda fh: fh.write("y" * 200_000))
    """)
    target = tmp_path / "limited.csv"
    target.write_text("old\n")
    proc = subprocess.run([sys.executable, "-c", child, str(target)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode != 0 and "PathError: cannot write output" in proc.stderr, proc.stderr
    assert "file too large; the previous file is unchanged" in proc.stderr
    assert target.read_text() == "old\n" and not temp_files(tmp_path, "limited.csv")


def test_orphans_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "h.csv"
    host = fileio._host_tag()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmp_path / f".h.csv.alvh-{host}-{dead.pid}-0a1b2c3d.tmp"
    orphan.write_text("half")
    live = tmp_path / f".h.csv.alvh-{host}-{os.getpid()}-deadbeef.tmp"
    live.write_text("writing")
    remote = tmp_path / ".h.csv.alvh-otherhost-1-00000000.tmp"
    remote.write_text("another machine, still writing")
    stale = tmp_path / ".h.csv.alvh-otherhost-2-11111111.tmp"
    stale.write_text("another machine, long dead")
    old = time.time() - 2 * fileio.STALE_AFTER_S
    os.utime(stale, (old, old))
    unrelated = tmp_path / ".h.csv.tmp"
    unrelated.write_text("not ours")
    assert sorted(cleanup_orphans(tmp_path, "h.csv")) == sorted([orphan, stale])
    assert live.exists() and remote.exists() and unrelated.exists()
    atomic_write(target, lambda fh: fh.write("x"))             # a write cleans up too
    assert sorted(temp_files(tmp_path, "h.csv")) == sorted([live, remote])


def test_sigkilled_writer_leaves_old_file_and_next_write_cleans_up(tmp_path):
    target = tmp_path / "h.csv"
    target.write_text("old\n")
    child = textwrap.dedent("""
        import sys, time
        from alvh_xl.fileio import atomic_write
        def slow(fh):
            fh.write("partial")
            fh.flush()
            print("MIDWRITE", flush=True)
            time.sleep(60)
        atomic_write(sys.argv[1], slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child, str(target)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "MIDWRITE"
    assert len(temp_files(tmp_path, "h.csv")) == 1
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    proc.stdout.close()
    assert target.read_text() == "old\n" and len(temp_files(tmp_path, "h.csv")) == 1
    atomic_write(target, lambda fh: fh.write("new\n"))
    assert target.read_text() == "new\n" and not temp_files(tmp_path, "h.csv")


def test_concurrent_writers_of_one_file_never_tear_it(tmp_path):
    """Threads (one process) and the rename: every read sees a whole version."""
    target = tmp_path / "w.bin"
    versions = [bytes([i]) * 300_000 for i in range(8)]
    atomic_write(target, lambda fh: fh.write(versions[0]), binary=True)
    stop = threading.Event()
    seen: set[bytes] = set()

    def reader():
        while not stop.is_set():
            data = target.read_bytes()
            assert data in versions, (len(data), data[:1])
            seen.add(data[:1])

    def writer(i):
        for _ in range(5):
            atomic_write(target, lambda fh: fh.write(versions[i]), binary=True)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(1, 8)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    r.join()
    assert target.read_bytes() in versions and not temp_files(tmp_path, "w.bin")


# --------------------------------------------------------------------------- lock

LOCKER = textwrap.dedent("""
    import sys, time
    from alvh_xl.fileio import exclusive_lock
    with exclusive_lock(sys.argv[1], timeout=float(sys.argv[2]),
                        on_wait=lambda m: print("WAIT", m, flush=True)):
        print("LOCKED", flush=True)
        time.sleep(float(sys.argv[3]))
    print("RELEASED", flush=True)
""")


def test_lock_makes_the_second_process_wait_and_say_so(tmp_path):
    target = tmp_path / "h.csv"
    first = subprocess.Popen([sys.executable, "-c", LOCKER, str(target), "10", "1.5"],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline().strip() == "LOCKED"
    t0 = time.monotonic()
    second = subprocess.run([sys.executable, "-c", LOCKER, str(target), "30", "0"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    lines = second.stdout.splitlines()
    assert lines[0].startswith(f"WAIT {target} is being updated by another alvh-xl run "
                               f"(process {first.pid} on "), lines
    assert lines[1:] == ["LOCKED", "RELEASED"]
    assert first.wait(timeout=10) == 0 and first.stdout.read().strip() == "RELEASED"
    first.stdout.close()
    assert time.monotonic() - t0 > 0.3             # it really waited for the first


def test_lock_times_out_with_a_sentence_and_dies_with_its_holder(tmp_path):
    target = tmp_path / "h.csv"
    holder = subprocess.Popen([sys.executable, "-c", LOCKER, str(target), "10", "60"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "LOCKED"
    waits = []
    with pytest.raises(PathError, match=r"still being updated by another alvh-xl run "
                                        r"\(process \d+ on .*\) after 0.3 s; try again"):
        with exclusive_lock(target, timeout=0.3, on_wait=waits.append):
            pass
    assert len(waits) == 1
    holder.send_signal(signal.SIGKILL)             # a killed holder releases the lock
    holder.wait(timeout=10)
    holder.stdout.close()
    with exclusive_lock(target, timeout=5, on_wait=waits.append):
        assert len(waits) == 1


# --------------------------------------------------------------------------- CLI

def test_cli_maps_path_and_os_errors_to_one_sentence_and_exit_2(monkeypatch, capsys):
    from alvh_xl import cli
    from alvh_xl.errors import InputError

    def fake(exc):
        def run(args):
            raise exc
        return run

    import alvh_xl.commands.demo as demo
    for exc, code, text in [
        (PathError("history /dev/full is a device; give a file name"), 2,
         "alvh-xl demo: history /dev/full is a device; give a file name"),
        (OSError(errno.ENOSPC, "No space left on device", "out/x.xlsx"), 2,
         "alvh-xl demo: cannot write out/x.xlsx: the disk is full (no space left on device)"),
        (PermissionError(errno.EACCES, "Permission denied", "/root/x"), 2,
         "alvh-xl demo: /root/x: permission denied"),
        (InputError("bad value"), 1, "alvh-xl demo: bad value"),
    ]:
        monkeypatch.setattr(demo, "run", fake(exc))
        assert cli.main(["demo"]) == code
        err = capsys.readouterr().err
        assert err == text + "\n", (exc, err)
