"""Says how many names of the link-order list the release binary no longer has.

The linker is told to place the functions of link-order/startup-order.txt together (start-up and the
request paths, see startup-order.py) and, with --no-warn-symbol-ordering, not to complain about names it
cannot find: a renamed file or function silently drops out of the order. This prints the count after
every release link (`make release`), and the names when asked (`-v`); `make startup-order` re-records
the list.

usage: check.py LIST BINARY [-v]
"""

import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    listed = [line.strip() for line in open(sys.argv[1]) if line.strip() and not line.startswith("#")]
    try:
        out = subprocess.run(["nm", "--defined-only", sys.argv[2]], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"link order: cannot read symbols of {sys.argv[2]} ({e})")
        return 0
    defined = {parts[-1] for parts in (line.split() for line in out.splitlines()) if parts}
    if not defined:
        # A stripped binary has no symbol table to compare with.
        print("link order: the binary has no symbol table; not checked")
        return 0
    missing = [name for name in listed if name not in defined]
    print(f"link order: {len(listed) - len(missing)} of {len(listed)} listed functions found"
          + (f", {len(missing)} not found (renamed or removed: `make startup-order` re-records the list)" if missing else ""))
    if "-v" in sys.argv:
        for name in missing:
            print("  " + name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
