#!/usr/bin/python3
"""svge_torch.py: the speed of the reference SVGe (automl/SVGe, PyTorch) beside bench/model_bench.

    stream-to-jsonl < cells.zst | /usr/bin/python3 bench/svge_torch.py --ref DIR \\
        [--what train|encode|decode|all] [--graphs N] [--seconds S] [--batch B] [--threads T]

DIR is a checkout of the reference (SVGE_REF when --ref is not given):
    git clone https://github.com/automl/SVGe && git -C SVGe checkout 5cf475b
Its models/SVGe.py and datasets/utils_data.py are imported UNMODIFIED, on a stand-in of the few
PyTorch Geometric 1.4.3 pieces they use (tests/fixtures/svge/pyg_standin.py: PyG is not packaged in
Debian); nothing of the reference is in this repository. Needs Debian's python3-torch (run with
/usr/bin/python3).

The setting is model_bench's: the reference's own NB101 configuration, read from DIR
(configs/model_configs/svge_configspace.json defaults: ndim 250, gdim 56, 2 layers, beta 0.005, Adam
lr 1e-4; configs/data_configs/NB101_configspace.json: 5 node types, 7 nodes, batch 128), fresh
weights after torch.manual_seed(1), the first --graphs cells of stdin (JSON lines as
stream-to-jsonl writes them: ops and edges; NB101), --threads torch threads (default 1). Each task is
timed for about --seconds (whole calls, at least one) after a warm-up of at least one call and 1 s:
  train   model(batch) (the loss: KL + teacher-forced reconstruction, both directions), zero_grad,
          backward, Adam step, as Training_VAE/train_svge.py's train(); batches of --batch
          prep_data tuples from a shuffled order, collated as PyG's DataLoader does (one
          Batch.from_data_list per tuple position). The collation is done by the stand-in, not by
          PyG, so it is NOT in the timed window (its time per batch is printed apart); model_bench's
          train includes its own (cheap) batch gathering.
  encode  model.Encoder(edge_index, node_atts, batch) in eval mode under no_grad, over collated
          batches of --batch graphs (collated before timing).
  decode  model.inference(z) (Decoder.inference: sampled node types and edges, both directions,
          merged), eval mode, no_grad, z ~ N(0,1) of --batch rows per call, as utils/util.py's
          recon_accuracy / prior_validity decode. Untrained weights: random node counts (the mean
          is printed; model_bench prints its own).
Prints lines in model_bench's shape ("TASK: N graphs in S s = R graphs/s (...)", a peak RSS line),
which bench/svge_ref.sh reads.
"""
import argparse
import json
import math
import os
import random
import resource
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures", "svge"))
from pyg_standin import Data, collate_tuples, load_reference  # noqa: E402

# Our NB101 vocabulary (lib/space.c), the same indices as the reference's OPS_NB101.
NB101_TYPES = ["output", "input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(task, graphs, s, note):
    rate = graphs / s if s > 0 else 0.0
    print("%-6s: %d graphs in %.2f s = %.1f graphs/s (%s)" % (task, graphs, s, rate, note))
    print("%-6s: peak RSS %.1f MB" % (task, peak_rss_mb()))
    sys.stdout.flush()


def timed(fn, seconds):
    """Warm up (>= 1 call and 1 s, or seconds/10 when shorter), then call fn() until seconds have
    passed (whole calls, at least one); fn returns (graphs, seconds it wants counted). Returns the
    totals of the timed calls."""
    warm = min(1.0, seconds / 10)
    t0 = time.perf_counter()
    while True:
        fn()
        if time.perf_counter() - t0 >= warm:
            break
    graphs, spent = 0, 0.0
    t0 = time.perf_counter()
    while True:
        g, s = fn()
        graphs += g
        spent += s
        if time.perf_counter() - t0 >= seconds:
            return graphs, spent


def read_config(ref):
    """The reference's defaults: the model configspace's default/constant values, the NB101 data
    config (json, no ConfigSpace needed)."""
    with open(os.path.join(ref, "configs", "model_configs", "svge_configspace.json")) as f:
        hp = json.load(f)["hyperparameters"]
    model_config = {h["name"]: h.get("default", h.get("value")) for h in hp}
    with open(os.path.join(ref, "configs", "data_configs", "NB101_configspace.json")) as f:
        data_config = json.load(f)
    return model_config, data_config


def read_cells(stream, limit):
    cells = []
    for line in stream:
        if len(cells) >= limit:
            break
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("space") != "nb101":
            sys.exit("svge_torch.py: a %s record: this benchmark takes NB101 cells" % r.get("space"))
        cells.append(([NB101_TYPES.index(o) for o in r["ops"]], r["edges"]))
    if not cells:
        sys.exit("svge_torch.py: no cells on stdin (JSON lines from stream-to-jsonl)")
    return cells


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="The reference: git clone https://github.com/automl/SVGe "
                                        "&& git -C SVGe checkout 5cf475b")
    ap.add_argument("--ref", default=os.environ.get("SVGE_REF"),
                    help="a checkout of automl/SVGe at 5cf475b (default: $SVGE_REF)")
    ap.add_argument("--what", choices=["train", "encode", "decode", "all"], default="all")
    ap.add_argument("--graphs", type=int, default=4096, help="cells to keep from stdin (4096)")
    ap.add_argument("--seconds", type=float, default=10.0, help="timed seconds per task (10)")
    ap.add_argument("--batch", type=int, default=None, help="graphs per batch (the reference's: 128)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not args.ref:
        sys.exit("svge_torch.py: no reference: --ref DIR or SVGE_REF=DIR (git clone "
                 "https://github.com/automl/SVGe && git -C SVGe checkout 5cf475b)")
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    SVGe, utils_data = load_reference(args.ref, ("models/SVGe.py", "datasets/utils_data.py"), "svge_torch.py")
    model_config, data_config = read_config(args.ref)
    batch = args.batch or data_config["batch_size"]
    K, max_n = data_config["num_node_atts"], data_config["max_num_nodes"]
    if K != len(NB101_TYPES):
        sys.exit("svge_torch.py: the reference's NB101 config has %d node types, not %d" % (K, len(NB101_TYPES)))
    model = SVGe.SVGE(model_config, data_config)
    nparams = sum(p.numel() for p in model.parameters())
    tasks = ["train", "encode", "decode"] if args.what == "all" else [args.what]

    tuples, mean_n, ncells = None, 0.0, 0
    if "train" in tasks or "encode" in tasks:
        cells = read_cells(sys.stdin, args.graphs)
        ncells = len(cells)
        mean_n = sum(len(t) for t, _ in cells) / ncells
        graphs = [Data(edge_index=torch.LongTensor(e).t().contiguous(), node_atts=torch.LongTensor(t),
                       num_nodes=len(t), acc=torch.tensor([0.0])) for t, e in cells]
        tuples = utils_data.prep_data(graphs, max_num_nodes=max_n)  # as the reference's datasets do
    cells_note = ("%d nb101 graphs (mean %.2f nodes)" % (ncells, mean_n)) if ncells else "no cells read (decoding only)"
    print("== svge_torch: %s, K %d, ndim %d, gdim %d, batch %d, %d parameters, "
          "%d torch thread(s), untrained weights (torch.manual_seed(%d)), PyTorch %s; load peak RSS %.1f MB"
          % (cells_note, K, model_config["node_embedding_dim"], model_config["graph_embedding_dim"], batch,
             nparams, torch.get_num_threads(), args.seed, torch.__version__, peak_rss_mb()))
    sys.stdout.flush()
    note = "automl/SVGe, PyTorch %s, %d thread(s)" % (torch.__version__, torch.get_num_threads())

    if "train" in tasks:
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=model_config["learning_rate"])
        order, pos = list(range(len(tuples))), len(tuples)
        collate_s = [0.0, 0]

        def step():
            nonlocal pos
            picked = []
            while len(picked) < batch:  # reshuffle at the end of each epoch, as model_bench does
                if pos == len(order):
                    random.shuffle(order)
                    pos = 0
                picked.append(tuples[order[pos]])
                pos += 1
            t0 = time.perf_counter()
            b = collate_tuples(picked)
            t1 = time.perf_counter()
            loss, _, _ = model(b)
            opt.zero_grad()
            loss.backward()
            opt.step()
            t2 = time.perf_counter()
            if not math.isfinite(loss.item()):
                sys.exit("svge_torch.py: training loss is not finite")
            collate_s[0] += t1 - t0
            collate_s[1] += 1
            return len(picked), t2 - t1

        g, s = timed(step, args.seconds)
        report("train", g, s, note + "; collation by the stand-in, not timed: %.3f s/batch"
               % (collate_s[0] / max(collate_s[1], 1)))

    if "encode" in tasks:
        model.eval()
        enc = [collate_tuples([(t[0],) for t in tuples[i:i + batch]])[0] for i in range(0, len(tuples), batch)]
        k = 0

        def encode():
            nonlocal k
            b = enc[k % len(enc)]
            k += 1
            t0 = time.perf_counter()
            with torch.no_grad():
                model.Encoder(b.edge_index, b.node_atts, b.batch)
            return b.num_graphs, time.perf_counter() - t0

        g, s = timed(encode, args.seconds)
        report("encode", g, s, note + "; collated before timing")

    if "decode" in tasks:
        model.eval()
        gdim = model_config["graph_embedding_dim"]
        nodes, decoded, failed = 0, 0, 0

        def decode():
            nonlocal nodes, decoded, failed
            z = torch.randn(batch, gdim)
            t0 = time.perf_counter()
            try:
                with torch.no_grad():
                    out = model.inference(z)[0]
            except Exception:  # as prior_validity, which skips failed decodings
                failed += 1
                return batch, time.perf_counter() - t0
            t = time.perf_counter() - t0
            nodes += sum(len(atts) for atts, _ in out)
            decoded += len(out)
            return batch, t

        g, s = timed(decode, args.seconds)
        report("decode", g, s, note + "; Decoder.inference, sampled")
        print("decode: mean %.2f nodes (untrained weights, warm-up included), %d failed batches"
              % (nodes / max(decoded, 1), failed))


if __name__ == "__main__":
    main()
