"""nb101_torch: the NAS-Bench-101 network in PyTorch, shared by bench/cellnet_torch.py (the
throughput comparison) and tests/fixtures/cellnet/make_fixtures.py (reference outputs for the C tests).

The network is google-research/nasbench `nasbench/lib/model_builder.py` (build_model_fn,
build_module, projection, truncate, compute_vertex_channels) with `nasbench/lib/base_ops.py`
(conv_bn_relu, the three cell ops) written in PyTorch, channels first (NCHW):

  stem      conv3x3 (no bias, 'same') -> batch norm -> ReLU, 3 -> stem channels
  stacks    stack s > 0 starts with a 2x2/2 max pool and doubles the channel count
            (model_builder.py: `channels *= 2` before the stack's first module)
  cell      vertex_channels = compute_vertex_channels(C_in, C_out, matrix) (spec pruned first,
            as nasbench's ModelSpec does); vertex t sums: its interior inputs truncated to
            vertex_channels[t] (first channels kept) and, if input -> t, a projection of the
            cell input (conv1x1-bn-relu to vertex_channels[t]); then its op:
              conv3x3-bn-relu, conv1x1-bn-relu (conv without bias, BN, ReLU) or
              maxpool3x3 (stride 1, 'same' = padding 1 with -inf, keeps the channel count);
            the output concatenates (in vertex order) the vertices that feed it and adds a
            projection (conv1x1-bn-relu to C_out) of the input if input -> output; with no
            interior vertex feeding it, the output is that projection alone.
  head      global average pool -> dense (weight + bias) to 10 labels.

Batch norm: eps 1e-5, TensorFlow momentum 0.997 = PyTorch momentum 0.003, affine (gamma, beta
trainable). Trainable parameters = conv weights + BN gammas and betas + dense weight and bias, which
is what NAS-Bench-101's `trainable_parameters` column counts.

Parameter names (used as the fixture tensor names; see tests/fixtures/cellnet/README.md):
  stem.conv.weight [C,3,3,3], stem.bn.weight [C], stem.bn.bias [C]
  s{S}.c{K}.v{T}.conv.weight / .bn.weight / .bn.bias     vertex T's op (conv vertices only)
  s{S}.c{K}.p{T}.conv.weight / .bn.weight / .bn.bias     projection of the cell input to vertex T
                                                        (T = n-1 is the projection to the output)
  dense.weight [10,C], dense.bias [10]
"""
import json
import os
import subprocess

import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
BN_EPS = 1e-5
BN_MOMENTUM_TORCH = 1.0 - 0.997


def matrix_of(n, edges):
    m = [[0] * n for _ in range(n)]
    for a, b in edges:
        if not (0 <= a < b < n):
            raise ValueError("edge %s is not upper-triangular in %d vertices" % ((a, b), n))
        m[a][b] = 1
    return m


def prune(ops, m):
    """nasbench ModelSpec._prune: drop vertices not on a path from input to output."""
    n = len(ops)
    fwd, stack = {0}, [0]
    while stack:
        v = stack.pop()
        for w in range(v + 1, n):
            if m[v][w] and w not in fwd:
                fwd.add(w)
                stack.append(w)
    bwd, stack = {n - 1}, [n - 1]
    while stack:
        v = stack.pop()
        for u in range(0, v):
            if m[u][v] and u not in bwd:
                bwd.add(u)
                stack.append(u)
    if n - 1 not in fwd:
        raise ValueError("the output is not reachable from the input")
    keep = [v for v in range(n) if v in fwd and v in bwd]
    return [ops[v] for v in keep], [[m[a][b] for b in keep] for a in keep]


def vertex_channels(cin, cout, m):
    """compute_vertex_channels of nasbench model_builder.py, line for line."""
    n = len(m)
    vc = [0] * n
    vc[0], vc[n - 1] = cin, cout
    if n == 2:
        return vc
    indeg_out = sum(m[v][n - 1] for v in range(1, n))
    interior, correction = cout // indeg_out, cout % indeg_out
    for v in range(1, n - 1):
        if m[v][n - 1]:
            vc[v] = interior
            if correction:
                vc[v] += 1
                correction -= 1
    for v in range(n - 3, 0, -1):
        if not m[v][n - 1]:
            for dst in range(v + 1, n - 1):
                if m[v][dst]:
                    vc[v] = max(vc[v], vc[dst])
        assert vc[v] > 0
    return vc


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, 1, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM_TORCH)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Cell(nn.Module):
    def __init__(self, ops, m, cin, cout):
        super().__init__()
        self.ops, self.m, self.n = ops, m, len(ops)
        self.vc = vertex_channels(cin, cout, m)
        n = self.n
        self.v = nn.ModuleDict()
        self.p = nn.ModuleDict()
        for t in range(1, n - 1):
            op = ops[t]
            if op == "conv3x3-bn-relu":
                self.v[str(t)] = ConvBnRelu(self.vc[t], self.vc[t], 3)
            elif op == "conv1x1-bn-relu":
                self.v[str(t)] = ConvBnRelu(self.vc[t], self.vc[t], 1)
            elif op != "maxpool3x3":
                raise ValueError("unknown NB101 op %r" % op)
        for t in range(1, n):
            if m[0][t]:
                self.p[str(t)] = ConvBnRelu(cin, self.vc[t], 1)

    def forward(self, x):
        n, m, vc = self.n, self.m, self.vc
        tensors = [x]
        concat = []
        for t in range(1, n - 1):
            add = [tensors[s][:, :vc[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                add.append(self.p[str(t)](x))
            h = add[0]
            for a in add[1:]:
                h = h + a
            if self.ops[t] == "maxpool3x3":
                h = F.max_pool2d(h, 3, 1, 1)
            else:
                h = self.v[str(t)](h)
            tensors.append(h)
            if m[t][n - 1]:
                concat.append(h)
        if not concat:
            return self.p[str(n - 1)](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, 1)
        if m[0][n - 1]:
            out = out + self.p[str(n - 1)](x)
        return out


class Net(nn.Module):
    def __init__(self, ops, edges, stem=128, stacks=3, cells=3, labels=10):
        super().__init__()
        ops, m = prune(list(ops), matrix_of(len(ops), edges))
        if ops[0] != "input" or ops[-1] != "output":
            raise ValueError("an NB101 cell starts with input and ends with output")
        self.ops, self.m = ops, m
        self.stem = ConvBnRelu(3, stem, 3)
        self.stages = nn.ModuleList()
        c = stem
        cin = stem
        for s in range(stacks):
            if s > 0:
                c *= 2
            stage = nn.ModuleList()
            for _ in range(cells):
                stage.append(Cell(ops, m, cin, c))
                cin = c
            self.stages.append(stage)
        self.dense = nn.Linear(c, labels)

    def forward(self, x):
        x = self.stem(x)
        for s, stage in enumerate(self.stages):
            if s > 0:
                x = F.max_pool2d(x, 2, 2)
            for cell in stage:
                x = cell(x)
        return self.dense(x.mean((2, 3)))

    def named_tensors(self):
        """(fixture name, parameter) pairs in a fixed order, names as in the module docstring."""
        out = [("stem.conv.weight", self.stem.conv.weight), ("stem.bn.weight", self.stem.bn.weight),
               ("stem.bn.bias", self.stem.bn.bias)]
        for s, stage in enumerate(self.stages):
            for k, cell in enumerate(stage):
                for t in range(1, cell.n):
                    for kind, d in (("p", cell.p), ("v", cell.v)):
                        if str(t) in d:
                            b = d[str(t)]
                            pre = "s%d.c%d.%s%d." % (s, k, kind, t)
                            out += [(pre + "conv.weight", b.conv.weight), (pre + "bn.weight", b.bn.weight),
                                    (pre + "bn.bias", b.bn.bias)]
        out += [("dense.weight", self.dense.weight), ("dense.bias", self.dense.bias)]
        return out

    def named_bn(self):
        """(prefix, BatchNorm2d) in the order of named_tensors."""
        return [(name[:-len("bn.weight")], mod) for name, mod in self._bn_iter()]

    def _bn_iter(self):
        yield "stem.bn.weight", self.stem.bn
        for s, stage in enumerate(self.stages):
            for k, cell in enumerate(stage):
                for t in range(1, cell.n):
                    for kind, d in (("p", cell.p), ("v", cell.v)):
                        if str(t) in d:
                            yield "s%d.c%d.%s%d.bn.weight" % (s, k, kind, t), d[str(t)].bn


def trainable_parameters(net):
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def nb101_records(bindir=None):
    """Every NB101 record with a validation accuracy, via bin/graph-parse nb101 | bin/stream-to-jsonl."""
    bindir = bindir or os.environ.get("SVGE_BIN") or os.path.join(ROOT, "bin")
    gp = subprocess.Popen([os.path.join(bindir, "graph-parse"), "nb101"], stdout=subprocess.PIPE)
    js = subprocess.Popen([os.path.join(bindir, "stream-to-jsonl")], stdin=gp.stdout,
                          stdout=subprocess.PIPE, text=True)
    gp.stdout.close()
    for line in js.stdout:
        if "val_acc_108ep" in line:
            yield json.loads(line)
    if js.wait() != 0 or gp.wait() != 0:
        raise RuntimeError("graph-parse nb101 | stream-to-jsonl failed")


def best_nb101_cell(bindir=None):
    """The NB101 record of highest val_acc_108ep (ties: lowest id)."""
    best = None
    for r in nb101_records(bindir):
        if best is None or r["val_acc_108ep"] > best["val_acc_108ep"]:
            best = r
    return best
