"""The mutation check: builds linepool with each deliberate fault of mutants.py, from a
temporary copy of the source tree (the real tree is never touched), runs the cases meant to
catch it until one fails, and fails if any fault survives them all, or if any fault's anchor
does not occur exactly once (a rewrite must re-anchor a fault, never lose it).

    python3 tests/mutants/mutate.py [NAME...]     every fault, or only those named
    python3 tests/mutants/mutate.py --anchors     only check that every anchor matches once
Environment: LP_MUTANT_TIMEOUT (seconds per case, default 120), LP_MUTANT_KEEP=1 keeps the
temporary tree."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from mutants import FAULTS  # noqa: E402

CASE_TIMEOUT = float(os.environ.get("LP_MUTANT_TIMEOUT", "120"))


def known_cases():
    """Every case a fault may name: each integration module's own list, each unit test."""
    cases = set()
    idir = os.path.join(SOURCE, "tests", "integration")
    for name in sorted(os.listdir(idir)):
        if name.startswith("test_") and name.endswith(".py"):
            out = subprocess.run([sys.executable, os.path.join(idir, name), "--list"],
                                 stdout=subprocess.PIPE, check=True).stdout.decode()
            cases.update("%s.%s" % (name[:-3], c) for c in out.split())
    udir = os.path.join(SOURCE, "tests", "unit")
    cases.update("unit:" + n[:-2] for n in os.listdir(udir) if re.match(r"^test_\w+\.c$", n))
    return cases


def check_anchors(faults):
    """Every anchor exactly once in the real tree, every case named exists; returns the list
    of problems."""
    problems = []
    cases = known_cases()
    for f in faults:
        problems += ["%s: no such case %s" % (f["name"], c) for c in f["cases"] if c not in cases]
        for path, anchor, _ in f["edits"]:
            with open(os.path.join(SOURCE, path)) as fh:
                n = fh.read().count(anchor)
            if n != 1:
                problems.append("%s: anchor found %d times in %s (must be exactly once): %r"
                                % (f["name"], n, path, anchor))
    return problems


def copy_tree(dst):
    def ignore(d, names):
        if os.path.abspath(d) == SOURCE:
            return [n for n in names if n.startswith("build") or n == ".git"]
        return []
    shutil.copytree(SOURCE, dst, ignore=ignore, symlinks=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def build(src, bld):
    p = sh(["cmake", "--build", bld, "-j2"])
    if p.returncode:
        raise SystemExit("mutants: build failed in %s:\n%s" % (src, p.stdout.decode()[-4000:]))


def run_case(case, src, bld):
    """Returns (passed, seconds, output tail)."""
    env = dict(os.environ, LP_BUILD_DIR=bld, LP_SOURCE_DIR=src)
    env.pop("LP_SANITIZE", None)
    env.pop("LP_VALGRIND", None)
    if case.startswith("unit:"):
        cmd = [os.path.join(bld, "tests", case[5:])]
    else:
        module, name = case.split(".", 1)
        cmd = [sys.executable, os.path.join(src, "tests", "integration", module + ".py"), name]
    t0 = time.monotonic()
    try:
        p = sh(cmd, env=env, timeout=CASE_TIMEOUT)
        ok, out = p.returncode == 0, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        ok, out = False, (e.stdout or b"").decode(errors="replace") + "\n(timed out)"
    return ok, time.monotonic() - t0, out.strip()[-3000:]


def main(names):
    if names == ["--anchors"]:
        problems = check_anchors(FAULTS)
        if problems:
            raise SystemExit("mutants: FAIL: anchors to fix (tests/mutants/mutants.py):\n  "
                             + "\n  ".join(problems))
        print("mutants: all %d faults anchored" % len(FAULTS))
        return
    faults = [f for f in FAULTS if not names or f["name"] in names]
    unknown = set(names) - {f["name"] for f in FAULTS}
    if unknown:
        raise SystemExit("mutants: no such fault: %s" % ", ".join(sorted(unknown)))
    problems = check_anchors(FAULTS)
    if problems:
        raise SystemExit("mutants: FAIL: anchors to fix (tests/mutants/mutants.py):\n  "
                         + "\n  ".join(problems))
    tmp = tempfile.mkdtemp(prefix="lp-mutants-")
    src, bld = os.path.join(tmp, "src"), os.path.join(tmp, "build")
    t_start = time.monotonic()
    survived, results = [], []
    try:
        copy_tree(src)
        p = sh(["cmake", "-S", src, "-B", bld, "-G", "Ninja"])
        if p.returncode:
            raise SystemExit("mutants: configure failed:\n" + p.stdout.decode()[-4000:])
        build(src, bld)
        for f in faults:
            originals = {}
            for path, anchor, repl in f["edits"]:
                full = os.path.join(src, path)
                with open(full) as fh:
                    current = fh.read()
                originals.setdefault(path, current)
                with open(full, "w") as fh:
                    fh.write(current.replace(anchor, repl, 1))
            try:
                build(src, bld)
                caught = None
                for case in f["cases"]:
                    for _ in range(f["runs"]):
                        ok, secs, out = run_case(case, src, bld)
                        if not ok:
                            caught = (case, secs, out)
                            break
                        print("mutants: %s: %s passed (%.1f s)" % (f["name"], case, secs),
                              flush=True)
                    if caught:
                        break
            finally:
                for path, text in originals.items():  # the copy as it was
                    with open(os.path.join(src, path), "w") as fh:
                        fh.write(text)
            if caught:
                # the first CUnit failure ("1. test_x.c:12  - CU_ASSERT...") or the last line
                lines = [l.strip() for l in caught[2].splitlines() if l.strip()]
                last = [l for l in lines if re.match(r"^\d+\. \S+:\d+ ", l)][:1] or \
                    lines[-1:] or [""]
                print("mutants: %-36s caught by %s (%.1f s): %s"
                      % (f["name"], caught[0], caught[1], last[0][:160]), flush=True)
                results.append((f["name"], caught[0]))
            else:
                print("mutants: %-36s SURVIVED %s (%s)" % (f["name"], ", ".join(f["cases"]),
                                                          f["why"]), flush=True)
                survived.append(f["name"])
        build(src, bld)  # leaves the copy as it was
    finally:
        if os.environ.get("LP_MUTANT_KEEP"):
            print("mutants: kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    took = time.monotonic() - t_start
    if survived:
        raise SystemExit("mutants: FAIL: %d of %d faults survived: %s (%.0f s)"
                         % (len(survived), len(faults), ", ".join(survived), took))
    print("mutants: all %d faults caught in %.0f s" % (len(faults), took))


if __name__ == "__main__":
    main(sys.argv[1:])
