"""Instructions the server executes per warm invoke, counted by callgrind: a figure that does not move with
the VM's speed.

Wall-clock CPU per invoke (bench/invoke_cpu.py) moves by ±25% from minute to minute on a shared VM;
callgrind counts the user-space instructions of the `lamina serve` process exactly, so two versions of the
invoke path can be compared in one sitting to about 1-2%. It counts no kernel work (system calls, wake-ups)
and nothing in the environments; those only the CPU benches show.

`lamina serve` runs under `valgrind --tool=callgrind` (about 50x slower, so few invokes), one no-op Python
function is created and warmed, the counters are zeroed with `callgrind_control -z`, N invokes are sent by
a lean keep-alive client, and `callgrind_control -d` dumps the window.

    .venv/bin/python bench/invoke_instructions.py [--invokes 500]     (needs Debian's valgrind)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invoke_bench import LeanClient, _request, _zip
from tests.server import ROLE, LaminaProcess


def count(invokes: int) -> float:
    with tempfile.TemporaryDirectory() as data:
        out = Path(data) / "callgrind.out"
        wrapper = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}")
        server = LaminaProcess(Path(data) / "lamina", "--memory-merge", "off", wrapper=wrapper).start(timeout=180)
        try:
            assert server.proc is not None
            client = server.client(read_timeout=120)
            client.create_function(FunctionName="bench-instr", Runtime="python3.12", Role=ROLE,
                                   Handler="app.handler", Code={"ZipFile": _zip()})  # fmt: skip
            client.get_waiter("function_active_v2").wait(FunctionName="bench-instr", WaiterConfig={"Delay": 0.2})
            lean = LeanClient(server.port)
            request = _request("bench-instr")
            for _ in range(300):  # warm: environment, caches, and CPU placement settled
                lean.call(request)
            pid = str(server.proc.pid)
            subprocess.run(["callgrind_control", "-z", pid], capture_output=True, check=True)
            for _ in range(invokes):
                lean.call(request)
            subprocess.run(["callgrind_control", "-d", "window", pid], capture_output=True, check=True)
            lean.close()
        finally:
            server.stop(timeout=120)
        for dump in Path(data).glob("callgrind.out.*"):
            for line in dump.read_text(errors="replace").splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1]) / invokes
    raise RuntimeError("callgrind wrote no window dump")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invokes", type=int, default=500)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("needs valgrind (Debian's package valgrind)")
    per_invoke = count(args.invokes)
    print(f"server user-space instructions per warm invoke: {per_invoke:,.0f} (callgrind, {args.invokes} invokes)")


if __name__ == "__main__":
    main()
