"""enas_torch: the ENAS macro network in PyTorch, written independently of lib/enasnet.c from the same
sources (ENAS general_child.py: melodyguan/enas and D-VAE's copy muhanzhang/D-VAE
software/enas/src/cifar10/general_child.py; lib/enasnet.h cites the lines), for reference outputs
(tests/fixtures/cellnet/make_fixtures.py).

An architecture is D-VAE's list form: [[op0], [op1, s0], [op2, s0, s1], ...], op 0 conv3, 1 sep3,
2 conv5, 3 sep5, 4 avg3, 5 max3; s_j = 1: layer i also reads prev_layers[j] (j = 0 the stem).

Modes: "fixed" (GeneralChild._fixed_layer, whole channels: what ENAS/D-VAE final training builds;
separable=False builds sep3/sep5 as plain convs, as that code does) and "shared" (_enas_layer: one
branch of the weight-sharing layer). exact_reduction=False makes path 2 of the factorized reduction
read the same pixels as path 1 (what lib/enasnet does until cellnet has a subsample node).

params_in_order() lists the trainable tensors in the order lib/enasnet.c creates its cellnet nodes
(stem conv, stem BN; per layer its op's tensors, then the skip combination's, then the reductions of
the tensors a later layer reads; the fc), so that a flat vector of them is cellnet's params array:
conv weights [out, in, k, k], depthwise [C, 1, k, k], BN gamma then beta, fc [classes, F, 1, 1] (no
bias). bn_in_order() lists the BatchNorm2d modules in the same order (cellnet's buffers: running mean,
then running variance, per BN).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-5
BN_MOMENTUM = 0.1  # TF decay 0.9


def pool_layers(num_layers):
    d = num_layers // 3
    return [d - 1, 2 * d - 1]


class EnasNet(nn.Module):
    def __init__(self, arch, filters=96, mode="fixed", separable=False, classes=10, exact_reduction=True):
        super().__init__()
        assert mode in ("fixed", "shared") and filters % 2 == 0
        self.arch, self.mode, self.separable, self.exact = arch, mode, separable, exact_reduction
        self.L = len(arch)
        self.pools = pool_layers(self.L)
        self.order, self.bns = [], []
        self.mods = nn.ModuleList()

        f = filters
        self.stem = self._conv(3, f, 3)
        self.stem_bn = self._bn(f)
        self.layer_mods = []
        self.reduce_mods = []
        for i, spec in enumerate(arch):
            op, skips = spec[0], spec[1:]
            m = {}
            if op <= 3:
                k = 5 if op in (2, 3) else 3
                sep = op in (1, 3) and (mode == "shared" or separable)
                m["c1"], m["b1"] = self._conv(f, f, 1), self._bn(f)
                if sep:
                    m["dw"], m["pw"] = self._dwconv(f, k), self._conv(f, f, 1)
                else:
                    m["ck"] = self._conv(f, f, k)
                m["b2"] = self._bn(f)
            elif mode == "shared":
                m["c1"], m["b1"] = self._conv(f, f, 1), self._bn(f)
            if i > 0:
                s = sum(skips)
                if mode == "fixed":
                    m["sc"], m["sb"] = self._conv((s + 1) * f, f, 1), self._bn(f)
                else:
                    m["sb"] = self._bn(f)
            self.layer_mods.append(m)
            red = {}
            if i in self.pools:
                f2 = 2 * f if mode == "fixed" else f
                for j in range(i + 2):
                    if self._read_after(j, i):
                        red[j] = (self._conv(f, f2 // 2, 1), self._conv(f, f2 // 2, 1), self._bn(f2))
                f = f2
            self.reduce_mods.append(red)
        self.fc = self._conv(f, classes, 1)

    # -- parameters, created in cellnet's node order
    def _conv(self, cin, cout, k):
        c = nn.Conv2d(cin, cout, k, 1, k // 2, bias=False)
        self.mods.append(c)
        self.order.append(c.weight)
        return c

    def _dwconv(self, c, k):
        m = nn.Conv2d(c, c, k, 1, k // 2, groups=c, bias=False)
        self.mods.append(m)
        self.order.append(m.weight)
        return m

    def _bn(self, c):
        b = nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.mods.append(b)
        self.order += [b.weight, b.bias]
        self.bns.append(b)
        return b

    def params_in_order(self):
        return list(self.order)

    def bn_in_order(self):
        return list(self.bns)

    def _read_after(self, j, i0):
        """Whether tensor j of the list (0 the stem, i+1 layer i) is read by a layer after i0."""
        if j == i0 + 1 and i0 + 1 < self.L:
            return True
        return any(j < i and self.arch[i][1 + j] for i in range(i0 + 1, self.L))

    def _reduce(self, x, mods):
        c1, c2, bn = mods
        p1 = x[:, :, 0::2, 0::2]
        if self.exact:  # ENAS: pad bottom/right with zeros, drop the first row and column, subsample
            p2 = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:][:, :, 0::2, 0::2]
        else:
            p2 = p1
        return bn(torch.cat([c1(p1), c2(p2)], 1))

    def forward(self, x):
        layers = [self.stem_bn(self.stem(x))]
        out = None
        for i, spec in enumerate(self.arch):
            op, skips = spec[0], spec[1:]
            m = self.layer_mods[i]
            inp = layers[-1]
            if op <= 3:
                if self.mode == "fixed":
                    h = m["b1"](m["c1"](F.relu(inp)))
                    h = F.relu(h)
                    h = m["pw"](m["dw"](h)) if "dw" in m else m["ck"](h)
                    h = m["b2"](h)
                else:
                    h = F.relu(m["b1"](m["c1"](inp)))
                    h = m["pw"](m["dw"](h)) if "dw" in m else m["ck"](h)
                    h = F.relu(m["b2"](h))
            else:
                h = inp if self.mode == "fixed" else F.relu(m["b1"](m["c1"](inp)))
                # TF "SAME" pooling: avg divides by the real pixels, max ignores the padding
                h = (F.avg_pool2d(h, 3, 1, 1, count_include_pad=False) if op == 4 else F.max_pool2d(h, 3, 1, 1))
            if i > 0:
                sel = [layers[j] for j in range(i) if skips[j]]
                if self.mode == "fixed":
                    h = m["sb"](m["sc"](F.relu(torch.cat(sel + [h], 1))))
                else:
                    h = m["sb"](sum(sel + [h]))
            layers.append(h)
            out = h
            if i in self.pools:
                red = self.reduce_mods[i]
                layers = [self._reduce(t, red[j]) if j in red else None for j, t in enumerate(layers)]
        return self.fc(out.mean((2, 3), keepdim=True)).flatten(1)


def trainable_parameters(net):
    return sum(p.numel() for p in net.params_in_order())
