#!/usr/bin/python3
"""convert-state-dict.py: the reference's SVGe weights <-> our model files (formats/model.md).

Usage:
  convert-state-dict.py CHECKPOINT   --space S -o MODEL [--ndim N --gdim N --beta X --eps-scale X
                                                         --lr X --seed S] [--meta-from MODEL]
  convert-state-dict.py --from-npz F --space S -o MODEL [same options]
  convert-state-dict.py --export-npz MODEL -o FILE.npz

CHECKPOINT is what the reference's Training_VAE/train_svge.py saves every --save_interval epochs:
`torch.save(model.state_dict(), 'model_checkpoint{E}.obj')`, i.e. the bare state_dict of
models/SVGe.py's SVGE (no wrapping dict; the optimizer and scheduler go to separate files). A dict
that wraps it under 'model_state_dict', 'state_dict', 'model' or 'net', a pickled whole module, and
DataParallel's 'module.' prefix are accepted as well. It is read with torch.load(map_location='cpu')
(weights_only=True where torch supports it; --unsafe-pickle lifts that for old pickles that need
it -- only for files you trust). torch is imported only for this input; the npz modes need only
numpy and msgpack.

--from-npz reads a numpy .npz of state_dict name -> array instead (for tests, or for a checkpoint
converted elsewhere); --export-npz is the inverse: every tensor of OUR model file -> a .npz.

Every one of the 82 tensors svge_save writes (34 + 24 per layer per direction for --layers other
than the reference's 2; the count is read off the encoder's forward layers unless given) (lib/svge.c, lib/encoder.c, lib/decoder.c: the
PyTorch state_dict names of SVGE.Encoder and SVGE.Decoder, in registration order) must be present
under exactly that name with exactly PyTorch's shape; otherwise the tool lists every missing or
misshapen tensor and exits 1. Names the model does not use (e.g. SVGE_acc's Accuracy.* regression
head) are listed on stderr and ignored. The file written is laid out exactly as svge_save lays it
out -- the same config keys, types and order (kind, space, num_node_atts, node_embedding_dim,
graph_embedding_dim, gnn_iteration_layers, beta, eps_scale, learning_rate, seed, alpha,
plateau_factor, plateau_patience), empty state, the
tensors in our order as little-endian float32, the FNV-1a 64 checksum -- so `svge-encode -m MODEL`,
`svge-decode` and `predict` accept it, and the same weights, config and meta give the same bytes
(and the same model id) as svge_save. --ndim / --gdim default to what the tensors' shapes say
(else 250 / 56); the other options only fill the config (defaults: the reference's 0.005, 0.01,
1e-4, seed 1, alpha 0.5, plateau factor 0.1, patience 10). meta records the source file, unless --meta-from copies another model file's meta.

CAVEAT -- reference bug 1 (formats/reference.md §8): the reference's edge scorer (Nodes.forward) tiles
h_G and c with `repeat(idx, 1)` over batch-major rows, so during ITS training and decoding the edge
scores of graph b were conditioned on the latent/summary of graph (b*idx+k) mod B. Our decoder
(lib/decoder.h, lib/generate.h) uses each graph's own h_G and c. The encoder is unaffected (z from a
converted checkpoint matches the reference's mu), but a checkpoint trained by the reference with
B > 1 learnt its edge scorer under the misaligned conditioning, so decoding it with our fixed
decoder gives different (generally worse) reconstructions than the reference reports, and the
reference itself decodes differently depending on what else is in the batch. Retrain with
svge-train for a decoder that matches our code.

Exit status: 0 ok, 1 bad content (missing or misshapen tensors, bad file), 2 usage error, 3 a file
cannot be read or written.
"""
import argparse
import os
import struct
import sys

import msgpack
import numpy as np

PROG = "convert-state-dict.py"
MAGIC = b"SVGEMDL\x00"
FORMAT_VERSION = 1
EXIT_DATA, EXIT_USAGE, EXIT_IO = 1, 2, 3
SPACES = {"nb101": 5, "nb201": 7, "enas6": 8, "enas12": 8}  # lib/space.c: node types
MAX_LAYERS = 8  # ENC_MAX_LAYERS: gnn_iteration_layers, the reference's 2
MAX_NDIM, MAX_GDIM = 4096, 1024  # VAE_MAX_NDIM, VAE_MAX_GDIM


class Fail(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


# ------------------------------------------------------------------------- names and shapes
def _layer_names(prefix, direction, i):
    p = "%sGNNLayers_%s.%d." % (prefix, direction, i)
    return [p + s for s in ("msg.weight", "msg.bias", "upd.weight_ih", "upd.weight_hh",
                            "upd.bias_ih", "upd.bias_hh")]


def _layer_shapes(c):
    return [(2 * c, 2 * c), (2 * c,), (3 * c, 2 * c), (3 * c, c), (3 * c,), (3 * c,)]


def param_layout(K, C2, D, LAYERS=2):
    """[(name, shape)] of the svge_num_tensors(LAYERS) parameters, in svge_save's order (lib/svge.c)."""
    C, OC = C2 // 2, C2 + D
    out = [("Encoder.NodeEmb.NodeInit.weight", (K, C))]
    for d in ("forward", "backward"):
        for i in range(LAYERS):
            out += zip(_layer_names("Encoder.NodeEmb.", d, i), _layer_shapes(C))
    for r in ("mean", "var"):
        p = "Encoder.GraphEmb_%s." % r
        out += [(p + "f_m.weight", (D, 2 * C)), (p + "f_m.bias", (D,)),
                (p + "g_m.weight", (1, 2 * C)), (p + "g_m.bias", (1,))]
    P = "Decoder.generator."
    for d in ("forward", "backward"):
        for i in range(LAYERS):
            out += zip(_layer_names(P + "prop.NodeEmb.", d, i), _layer_shapes(C))
    for r in ("GraphEmb", "GraphEmb_init"):
        p = P + "prop.%s." % r
        out += [(p + "f_m.weight", (D, C2)), (p + "f_m.bias", (D,)),
                (p + "g_m.weight", (1, C2)), (p + "g_m.bias", (1,))]
    out += [
        (P + "nodeAdd.f_an.weight", (D, 2 * D)), (P + "nodeAdd.f_an.bias", (D,)),
        (P + "nodeAdd.f_an_2.weight", (K, D)), (P + "nodeAdd.f_an_2.bias", (K,)),
        (P + "nodeInit.NodeInits.weight", (K, C2)),
        (P + "nodeInit.f_init.weight", (OC, C2 + 2 * D)), (P + "nodeInit.f_init.bias", (OC,)),
        (P + "nodeInit.f_init_2.weight", (C2, OC)), (P + "nodeInit.f_init_2.bias", (C2,)),
        (P + "nodeInit.f_start.weight", (OC, OC)), (P + "nodeInit.f_start.bias", (OC,)),
        (P + "nodeInit.f_start_2.weight", (C2, OC)), (P + "nodeInit.f_start_2.bias", (C2,)),
        (P + "nodes.f_s_1.weight", (OC, 2 * C2 + 2 * D)), (P + "nodes.f_s_1.bias", (OC,)),
        (P + "nodes.f_s_2.weight", (1, OC)), (P + "nodes.f_s_2.bias", (1,)),
    ]
    assert len(out) == 34 + 24 * LAYERS
    return out


# ------------------------------------------------------------------------- file format
def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_atomic(path, data):
    """formats/model.md §Writing: temp file, fsync, rename, fsync the directory."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise Fail(EXIT_IO, "%s: cannot write: %s" % (path, e.strerror or e))
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def shape_str(shape):
    return "[" + ",".join(str(int(s)) for s in shape) + "]"


def encode_model(config, meta, tensors):
    """The bytes of a model file: config/meta dicts (ordered), tensors [(name, float32 array)]."""
    chunks = [MAGIC, struct.pack("<I", FORMAT_VERSION)]
    pk = msgpack.Packer(use_bin_type=True, use_single_float=False, autoreset=True)
    chunks.append(pk.pack_map_header(4))
    for sname, sec in (("config", config), ("meta", meta), ("state", {})):
        chunks.append(pk.pack(sname))
        chunks.append(pk.pack_map_header(len(sec)))
        for k, v in sec.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, str, bytes)):
                raise Fail(EXIT_DATA, "%s value \"%s\" has an unsupported type" % (sname, k))
            if isinstance(v, float) and not np.isfinite(v):
                raise Fail(EXIT_DATA, "%s value \"%s\" is not finite" % (sname, k))
            chunks.append(pk.pack(k))
            chunks.append(pk.pack(v))
    chunks.append(pk.pack("tensors"))
    chunks.append(pk.pack_array_header(len(tensors)))
    for name, a in tensors:
        le = np.ascontiguousarray(a, dtype="<f4")
        if not np.all(np.isfinite(le)):
            raise Fail(EXIT_DATA, "tensor \"%s\" has NaN or infinite elements" % name)
        chunks.append(pk.pack_map_header(4))
        chunks.append(pk.pack("name") + pk.pack(name))
        chunks.append(pk.pack("dtype") + pk.pack("f32"))
        chunks.append(pk.pack("shape") + pk.pack_array_header(le.ndim))
        for d in le.shape:
            chunks.append(pk.pack(int(d)))
        chunks.append(pk.pack("data") + pk.pack(le.tobytes()))
    body = b"".join(chunks)
    return body + struct.pack("<Q", fnv1a64(body))


def read_model(path):
    """(config, meta, [(name, float32 array)]) of one of our model files, checked as a reader does."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise Fail(EXIT_IO, "%s: cannot read: %s" % (path, e.strerror or e))
    if raw[:8] != MAGIC:
        raise Fail(EXIT_DATA, "%s: not a model file (no \"SVGEMDL\" magic)" % path)
    if len(raw) < 21:
        raise Fail(EXIT_DATA, "%s: truncated model file (%d bytes)" % (path, len(raw)))
    (ver,) = struct.unpack_from("<I", raw, 8)
    if ver != FORMAT_VERSION:
        raise Fail(EXIT_DATA, "%s: format version %d is not supported (this tool reads version 1)"
                   % (path, ver))
    (stored,) = struct.unpack_from("<Q", raw, len(raw) - 8)
    computed = fnv1a64(raw[:-8])
    if stored != computed:
        raise Fail(EXIT_DATA, "%s: checksum mismatch (stored %016x, computed %016x): the file is "
                   "corrupt or truncated" % (path, stored, computed))
    try:
        body = msgpack.unpackb(raw[12:-8], raw=False, use_list=True, strict_map_key=True)
    except Exception as e:  # msgpack raises several types
        raise Fail(EXIT_DATA, "%s: malformed body: %s" % (path, e))
    if not isinstance(body, dict) or not isinstance(body.get("config"), dict) \
            or not isinstance(body.get("tensors"), list):
        raise Fail(EXIT_DATA, "%s: body lacks a \"config\" map or a \"tensors\" array" % path)
    meta = body.get("meta", {})
    if not isinstance(meta, dict):
        raise Fail(EXIT_DATA, "%s: \"meta\" is not a map" % path)
    tensors = []
    for t in body["tensors"]:
        try:
            name, dtype, shape, data = t["name"], t["dtype"], t["shape"], t["data"]
            assert isinstance(name, str) and dtype == "f32" and isinstance(data, bytes)
            assert isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)
            n = int(np.prod(shape, dtype=np.int64)) if shape else 1
            assert len(data) == 4 * n
        except (KeyError, TypeError, AssertionError):
            raise Fail(EXIT_DATA, "%s: malformed tensor entry" % path)
        tensors.append((name, np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32)))
    return body["config"], meta, tensors


# ------------------------------------------------------------------------- inputs
def load_torch(path, unsafe):
    """name -> float32 numpy array from a reference checkpoint (torch imported here only)."""
    try:
        import torch
    except ImportError:
        raise Fail(EXIT_USAGE, "reading a PyTorch checkpoint needs torch (pip install torch); "
                   "or convert it to .npz elsewhere and use --from-npz")
    if not os.path.exists(path):
        raise Fail(EXIT_IO, "%s: cannot read: no such file" % path)
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=not unsafe)
        except TypeError:  # torch < 1.13 has no weights_only
            obj = torch.load(path, map_location="cpu")
    except OSError as e:
        raise Fail(EXIT_IO, "%s: cannot read: %s" % (path, e))
    except Exception as e:
        raise Fail(EXIT_DATA, "%s: torch.load failed: %s%s" % (
            path, e, "" if unsafe else " (if you trust the file, try --unsafe-pickle)"))

    def is_sd(o):
        return hasattr(o, "items") and len(o) > 0 and all(torch.is_tensor(v) for v in o.values())

    sd = None
    if is_sd(obj):
        sd = obj
    elif hasattr(obj, "items"):
        for k in ("model_state_dict", "state_dict", "model", "net"):
            v = obj.get(k)
            if v is not None and hasattr(v, "state_dict") and not hasattr(v, "items"):
                v = v.state_dict()
            if v is not None and is_sd(v):
                sd = v
                break
    elif hasattr(obj, "state_dict"):
        sd = obj.state_dict()
    if sd is None:
        raise Fail(EXIT_DATA, "%s: no state_dict found (a dict of tensors, or one under "
                   "'model_state_dict', 'state_dict', 'model' or 'net')" % path)
    out = {}
    for k, v in sd.items():
        v = v.detach().cpu()
        if v.is_floating_point():
            v = v.float()
        out[k] = v.numpy()
    return out


def load_npz(path):
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except OSError as e:
        raise Fail(EXIT_IO, "%s: cannot read: %s" % (path, e.strerror or e))
    except Exception as e:
        raise Fail(EXIT_DATA, "%s: not a readable .npz: %s" % (path, e))


# ------------------------------------------------------------------------- conversion
def strip_prefix(sd):
    if sd and all(k.startswith("module.") for k in sd):
        return {k[len("module."):]: v for k, v in sd.items()}
    return sd


def infer_dims(sd, args):
    ndim, gdim = args.ndim, args.gdim
    a = sd.get("Encoder.NodeEmb.NodeInit.weight")
    if ndim is None:
        ndim = 2 * int(a.shape[1]) if a is not None and a.ndim == 2 else 250
    b = sd.get("Encoder.GraphEmb_mean.f_m.weight")
    if gdim is None:
        gdim = int(b.shape[0]) if b is not None and b.ndim == 2 else 56
    if ndim < 2 or ndim > MAX_NDIM or ndim % 2:
        raise Fail(EXIT_USAGE, "--ndim %d must be even and in [2, %d]" % (ndim, MAX_NDIM))
    if gdim < 1 or gdim > MAX_GDIM:
        raise Fail(EXIT_USAGE, "--gdim %d must be in [1, %d]" % (gdim, MAX_GDIM))
    layers = args.layers
    if layers is None:  # as many as the encoder's forward stream has
        layers = 0
        while "Encoder.NodeEmb.GNNLayers_forward.%d.msg.weight" % layers in sd:
            layers += 1
        layers = layers or 2
    if layers < 1 or layers > MAX_LAYERS:
        raise Fail(EXIT_USAGE, "--layers %d must be in [1, %d]" % (layers, MAX_LAYERS))
    return ndim, gdim, layers


def convert(sd, src, args):
    sd = strip_prefix(sd)
    K = SPACES[args.space]
    ndim, gdim, layers = infer_dims(sd, args)
    layout = param_layout(K, ndim, gdim, layers)
    wanted = {n for n, _ in layout}
    problems, tensors = [], []
    for name, shape in layout:
        if name not in sd:
            problems.append("tensor \"%s\" is missing (shape %s)" % (name, shape_str(shape)))
            continue
        a = np.asarray(sd[name])
        if tuple(a.shape) != shape:
            problems.append("tensor \"%s\" has shape %s, this model needs %s"
                            % (name, shape_str(a.shape), shape_str(shape)))
            continue
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            problems.append("tensor \"%s\" has dtype %s, not a number type" % (name, a.dtype))
            continue
        tensors.append((name, a.astype(np.float32)))
    extra = sorted(k for k in sd if k not in wanted)
    if extra:
        sys.stderr.write("%s: %s: %d tensor(s) not used by the model, ignored: %s\n"
                         % (PROG, src, len(extra), ", ".join(extra)))
    if problems:
        raise Fail(EXIT_DATA, "%s: %d of %d tensors missing or of another shape (space %s, "
                   "ndim %d, gdim %d):\n  %s" % (src, len(problems), len(layout), args.space, ndim,
                                                 gdim, "\n  ".join(problems)))
    config = {  # svge.c config_values(): same keys, types and order
        "kind": "svge", "space": args.space, "num_node_atts": K, "node_embedding_dim": ndim,
        "graph_embedding_dim": gdim, "gnn_iteration_layers": layers, "beta": float(args.beta),
        "eps_scale": float(args.eps_scale), "learning_rate": float(args.lr), "seed": int(args.seed),
        "alpha": float(args.alpha), "plateau_factor": float(args.plateau_factor),
        "plateau_patience": int(args.plateau_patience),
    }
    if not 0 <= config["alpha"] <= 1:
        raise Fail(EXIT_USAGE, "--alpha must be in [0, 1]")
    if not 0 < config["plateau_factor"] < 1 or not 0 <= config["plateau_patience"] <= 1000000:
        raise Fail(EXIT_USAGE, "--plateau-factor must be in (0, 1) and --plateau-patience in [0, 1000000]")
    for k in ("beta", "eps_scale", "learning_rate"):
        if not (np.isfinite(config[k]) and config[k] >= 0):
            raise Fail(EXIT_USAGE, "%s must be finite and >= 0" % k)
    if not 0 <= config["seed"] <= 0xFFFFFFFF:
        raise Fail(EXIT_USAGE, "--seed must be in 0..4294967295")
    if args.meta_from:
        _, meta, _ = read_model(args.meta_from)
    else:
        meta = {"tool": PROG, "source": os.path.basename(src),
                "source_format": "npz" if args.from_npz else "torch"}
    data = encode_model(config, meta, tensors)
    write_atomic(args.output, data)
    sys.stderr.write("%s: wrote %s (%s, ndim %d, gdim %d, %d tensors, model id %016x)\n"
                     % (PROG, args.output, args.space, ndim, gdim, len(tensors),
                        struct.unpack("<Q", data[-8:])[0]))


def export_npz(args):
    _, _, tensors = read_model(args.export_npz)
    tmp = "%s.tmp.%d" % (args.output, os.getpid())
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **{name: a for name, a in tensors})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, args.output)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise Fail(EXIT_IO, "%s: cannot write: %s" % (args.output, e.strerror or e))
    sys.stderr.write("%s: wrote %s (%d tensors)\n" % (PROG, args.output, len(tensors)))


def main(argv):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Convert the reference SVGe's PyTorch state_dict (or an .npz of "
        "name -> array) into our model file, or export our model file's tensors to .npz.",
        epilog="See the top of this file for the details and the bug-1 caveat.")
    ap.add_argument("checkpoint", nargs="?", help="the reference's model_checkpoint{E}.obj / .pth")
    ap.add_argument("--from-npz", metavar="FILE", help="read name -> array from a .npz instead")
    ap.add_argument("--export-npz", metavar="MODEL", help="write OUR model file's tensors to -o as .npz")
    ap.add_argument("-o", "--output", required=True, metavar="PATH")
    ap.add_argument("--space", choices=sorted(SPACES))
    ap.add_argument("--ndim", type=int, help="node_embedding_dim (default: from the tensors, else 250)")
    ap.add_argument("--gdim", type=int, help="graph_embedding_dim (default: from the tensors, else 56)")
    ap.add_argument("--beta", type=float, default=0.005)
    ap.add_argument("--eps-scale", type=float, default=0.01)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--plateau-factor", type=float, default=0.1)
    ap.add_argument("--plateau-patience", type=int, default=10)
    ap.add_argument("--layers", type=int, help="gnn_iteration_layers (default: from the tensors, else 2)")
    ap.add_argument("--meta-from", metavar="MODEL", help="copy meta from this model file")
    ap.add_argument("--unsafe-pickle", action="store_true",
                    help="torch.load with weights_only=False (trusted files only)")
    args = ap.parse_args(argv)
    modes = [m for m in (args.checkpoint, args.from_npz, args.export_npz) if m]
    if len(modes) != 1:
        ap.error("give exactly one of CHECKPOINT, --from-npz FILE, --export-npz MODEL")
    if not args.export_npz and not args.space:
        ap.error("--space is required when converting to a model file")
    try:
        if args.export_npz:
            export_npz(args)
        elif args.from_npz:
            convert(load_npz(args.from_npz), args.from_npz, args)
        else:
            convert(load_torch(args.checkpoint, args.unsafe_pickle), args.checkpoint, args)
    except Fail as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
