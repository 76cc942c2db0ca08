#!/usr/bin/python3
"""cellnet_torch: training throughput of the NAS-Bench-101 network in PyTorch (CPU), the yardstick for
bench/cellnet_bench (the C network of lib/cellnet + lib/nb101net) in `make bench`.

  /usr/bin/python3 bench/cellnet_torch.py [--cell JSON | --cell-file FILE | --id N] [--stem 128]
      [--stacks 3] [--cells 3] [--batch 128] [--warmup 1] [--seconds 60] [--min-steps 2]
      [--threads 1,default] [--input random|FILE] [--seed 1]

The network (bench/nb101_torch.py) is nasbench's model_builder.py in PyTorch. The cell:
  --cell '{"ops":[...],"edges":[[0,1],...]}'  (a graph record in JSON; other fields ignored)
  --cell-file FILE   the first record of FILE: JSON lines, or a record stream (read through
                     bin/stream-to-jsonl)
  --id N             NB101 record id N (bin/graph-parse nb101)
  default            the NB101 cell of highest val_acc_108ep (bin/graph-parse nb101, 20,001 cells
                     with accuracies): id 171411, val 0.9491, 31,552,906 parameters at the full size.
A training step is forward + softmax cross-entropy + backward + optimizer step: RMSprop as
NAS-Bench-101 configures it (lr 0.2 momentum 0.9, decay 0.9, epsilon 1.0, weight decay 1e-4; the
numbers are irrelevant to speed but the update work is the same), batch norm in training mode.
The input is a fixed batch of N(0,1) noise (--input random) or the first --batch images of a CIFAR-10
file (--input FILE: a binary batch data_batch_*.bin, or the project's .jpgrec such as
data/cifar10/train_small.jpgrec, decoded with PIL), normalized as lib/cifar.c does; labels random or
real. Speed does not depend on the pixel values.

Timing: per thread setting, --warmup steps (not timed), then steps until --seconds have passed and at
least --min-steps were taken; images/s = steps x batch / elapsed. Thread settings (--threads, a comma
list): 1, N, or "default" (PyTorch's own default, torch.get_num_threads() at start, which is 1 on
the project machine: Debian's torch 1.13 OpenMP build starts with one thread), "nproc" (os.cpu_count()).
A setting whose thread count was already measured is reported again from that measurement.

Output (stdout), one line per thread setting, then nothing else; bench/run.sh parses it:
  cellnet-torch: setting=1|default|nproc|N threads=T stem=C stacks=S cells=K batch=B params=P steps=N
                 seconds=S images_per_s=R cpu_seconds=U images_per_cpu_s=Q
images_per_s is wall-clock throughput (the figure to compare); cpu_seconds is the process's CPU time
(all threads) over the timed steps: on a busy machine images_per_cpu_s at one thread shows what an
idle machine would give (roughly: it still pays for shared caches).
and, on stderr, the cell and the parameter check against the record's trainable_parameters (when the
record has one and the size is NB101's full 128/3/3): exit status 1 if it differs.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nb101_torch as nb  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def first_record(path):
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"\x28\xb5\x2f\xfd":  # zstd: a record stream
        bindir = os.environ.get("SVGE_BIN") or os.path.join(nb.ROOT, "bin")
        with open(path, "rb") as f:
            out = subprocess.run([os.path.join(bindir, "stream-to-jsonl")], stdin=f,
                                 stdout=subprocess.PIPE, check=True, text=True).stdout
    else:
        with open(path) as f:
            out = f.read()
    for line in out.splitlines():
        if line.strip():
            return json.loads(line)
    raise SystemExit("cellnet_torch: %s: no record" % path)


def jpgrec_batch(path, batch):
    """The first `batch` images of a .jpgrec file (lib/cifar.h: "CIFJPG01", uint32 N, then per image
    uint8 label, uint16 length, a 32x32 RGB JPEG), decoded with PIL, as uint8 (batch, 3073) rows."""
    import io
    import struct
    import numpy as np
    from PIL import Image
    rows = []
    with open(path, "rb") as f:
        if f.read(8) != b"CIFJPG01":
            raise SystemExit("cellnet_torch: %s: not a .jpgrec file" % path)
        (n,) = struct.unpack("<I", f.read(4))
        for _ in range(min(n, batch)):
            label, length = struct.unpack("<BH", f.read(3))
            img = np.asarray(Image.open(io.BytesIO(f.read(length))).convert("RGB"), dtype=np.uint8)
            rows.append(np.concatenate([[label], img.transpose(2, 0, 1).reshape(-1)]).astype(np.uint8))
    return np.stack(rows) if rows else np.zeros((0, 3073), np.uint8)


def cifar_batch(path, batch):
    import numpy as np
    with open(path, "rb") as f:
        magic = f.read(8)
    raw = jpgrec_batch(path, batch).reshape(-1) if magic == b"CIFJPG01" else np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % 3073:
        raise SystemExit("cellnet_torch: %s: not a CIFAR-10 binary batch (size %d)" % (path, raw.size))
    raw = raw.reshape(-1, 3073)
    if raw.shape[0] < batch:
        raise SystemExit("cellnet_torch: %s: %d images < batch %d" % (path, raw.shape[0], batch))
    y = torch.from_numpy(raw[:batch, 0].astype("int64"))
    x = torch.from_numpy(raw[:batch, 1:].astype("float32") / 255.0).reshape(batch, 3, 32, 32)
    mean = torch.tensor([125.3, 123.0, 113.9]).view(1, 3, 1, 1) / 255
    std = torch.tensor([63.0, 62.1, 66.7]).view(1, 3, 1, 1) / 255
    return (x - mean) / std, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--cell", help="a graph record as JSON (ops, edges)")
    g.add_argument("--cell-file", help="first record of a JSON-lines file or a record stream")
    g.add_argument("--id", type=int, help="NB101 record id")
    ap.add_argument("--stem", type=int, default=128)
    ap.add_argument("--stacks", type=int, default=3)
    ap.add_argument("--cells", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--side", type=int, default=32, help="image side (random input only)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps per thread setting")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--min-steps", type=int, default=2)
    ap.add_argument("--threads", default="1,default")
    ap.add_argument("--input", default="random",
                    help="random, or a CIFAR-10 file: binary batch (data_batch_1.bin) or .jpgrec")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    default_threads = torch.get_num_threads()
    if a.cell:
        rec = json.loads(a.cell)
    elif a.cell_file:
        rec = first_record(a.cell_file)
    elif a.id is not None:
        rec = next((r for r in nb.nb101_records() if r["id"] == a.id), None)
        if rec is None:
            # cells without accuracies are not in nb101_records(); scan them all
            raise SystemExit("cellnet_torch: id %d has no validation accuracy; pass --cell" % a.id)
    else:
        rec = nb.best_nb101_cell()
    torch.manual_seed(a.seed)
    net = nb.Net(rec["ops"], rec["edges"], a.stem, a.stacks, a.cells)
    params = nb.trainable_parameters(net)
    print("cellnet-torch: cell id=%s hash=%s ops=%s edges=%s val_acc_108ep=%s" % (
        rec.get("id"), rec.get("hash"), json.dumps(rec["ops"]), json.dumps(rec["edges"]),
        rec.get("val_acc_108ep")), file=sys.stderr)
    status = 0
    want = rec.get("trainable_parameters")
    if want is not None and (a.stem, a.stacks, a.cells) == (128, 3, 3):
        ok = want == params
        print("cellnet-torch: trainable parameters %d, NB101 trainable_parameters %d: %s" % (
            params, want, "match" if ok else "MISMATCH"), file=sys.stderr)
        status = 0 if ok else 1
    else:
        print("cellnet-torch: trainable parameters %d" % params, file=sys.stderr)

    if a.input == "random":
        x = torch.randn(a.batch, 3, a.side, a.side)
        y = torch.randint(0, 10, (a.batch,))
    else:
        x, y = cifar_batch(a.input, a.batch)
    opt = torch.optim.RMSprop(net.parameters(), lr=0.2, alpha=0.9, eps=1.0, momentum=0.9,
                              weight_decay=1e-4)
    net.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    done = {}  # thread count -> (steps, seconds): a setting that repeats a count is not rerun
    for spec in a.threads.split(","):
        spec = spec.strip()
        n = (default_threads if spec == "default" else os.cpu_count() if spec == "nproc" else int(spec))
        if n in done:
            steps, dt, cpu = done[n]
            print("cellnet-torch: setting=%s threads=%d stem=%d stacks=%d cells=%d batch=%d params=%d steps=%d "
                  "seconds=%.2f images_per_s=%.2f cpu_seconds=%.2f images_per_cpu_s=%.2f (same thread count as "
                  "above, not rerun)" % (spec, n, a.stem, a.stacks, a.cells, a.batch, params, steps, dt,
                                         steps * a.batch / dt, cpu, steps * a.batch / cpu), flush=True)
            continue
        torch.set_num_threads(n)
        for _ in range(a.warmup):
            step()
        t0, c0 = time.perf_counter(), time.process_time()
        steps = 0
        while steps < a.min_steps or time.perf_counter() - t0 < a.seconds:
            step()
            steps += 1
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        done[n] = (steps, dt, cpu)
        print("cellnet-torch: setting=%s threads=%d stem=%d stacks=%d cells=%d batch=%d params=%d steps=%d "
              "seconds=%.2f images_per_s=%.2f cpu_seconds=%.2f images_per_cpu_s=%.2f" % (
                  spec, n, a.stem, a.stacks, a.cells, a.batch, params, steps, dt, steps * a.batch / dt, cpu,
                  steps * a.batch / cpu), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
