"""BLAS threads: 1 against 2, with the other core idle and with it busy.

Runs ``python benchmarks/torch_compare.py --json`` (engine and PyTorch, 1 and 2 threads)
once as the machine is, then again while a busy loop (a child process started here,
stopped by its pid) keeps one core occupied: the situation of the Streamlit app, whose server and
browser share the machine with training. Prints one table of samples per second.

    python benchmarks/threads.py --data-dir /path/to/mnist [--steps 1000 --repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOG = "import time\nend = time.time() + 3600\nwhile time.time() < end:\n    pass\n"


def run_bench(args, label: str) -> dict:
    cmd = [sys.executable, "benchmarks/torch_compare.py", "--json", "--threads", "1", "2",
           "--steps", str(args.steps), "--repeats", str(args.repeats),
           "--batch-sizes", ",".join(map(str, args.batch_sizes))]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    print(f"-- {label}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 32])
    parser.add_argument("--out", metavar="FILE.json", help="also save both summaries here")
    parser.add_argument("--table", metavar="FILE.json", help="only print the table of a saved run")
    args = parser.parse_args()
    if args.table:
        with open(args.table) as f:
            print_table(json.load(f))
        return

    results = {"other core as is": run_bench(args, "other core as is")}
    hog = subprocess.Popen([sys.executable, "-c", HOG])
    try:
        time.sleep(0.5)
        results["other core busy"] = run_bench(args, "one core kept busy by a spinning process")
    finally:
        hog.kill()  # the child started above, by its pid
        hog.wait()

    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    print_table(results)


def print_table(results: dict) -> None:
    print(f"{'situation':18s} {'batch':>5s} {'threads':>7s} {'engine/s':>10s} "
          f"{'pytorch/s':>10s} {'ratio':>6s}")
    for label, summary in results.items():
        for row in summary["results"]:
            rate, ratio = row["median"].get("pytorch"), row["ratio_median"].get("pytorch")
            print(f"{label:18s} {row['batch_size']:>5d} {row['threads']:>7d} "
                  f"{row['median']['engine']:>10,.0f} "
                  f"{'-' if rate is None else format(rate, ',.0f'):>10s} "
                  f"{'-' if ratio is None else format(ratio, '.2f'):>6s}")

if __name__ == "__main__":
    main()
