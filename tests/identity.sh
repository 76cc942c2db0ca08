#!/usr/bin/env bash
# tests/identity.sh BIN_DIR OUT_DIR [DATA_DIR]: the byte-identity harness of refactorings (not part
# of make check). It runs a fixed set of tool invocations (encode, decode in every mode, lookup,
# hash, JSON round trip, SVGe and DGMG training with checkpoints and resume, metrics, NB101 and
# ENAS-6, cell-train) with the tools of BIN_DIR and writes every output into OUT_DIR. Run it with
# the tools before and after a change and compare: `diff -r OUT_BEFORE OUT_AFTER` must print
# nothing. E.g.
#   git worktree add /tmp/before HEAD~1 && make -C /tmp/before -j2
#   tests/identity.sh /tmp/before/bin /tmp/id0 && tests/identity.sh bin /tmp/id1 && diff -r /tmp/id0 /tmp/id1
set -euo pipefail
B=$(cd "$1" && pwd); O=$2; D=$(cd "${3:-$(dirname "$0")/../data}" && pwd)
mkdir -p "$O"; cd "$O"
export SVGE_DATA=$D
M=$D/nb201/svge.model
$B/graph-parse nb201 > nb201.zst
$B/stream-split --ratio 0.9 --seed 1 --rest test.zst < nb201.zst > train.zst
$B/stream-top --by c10valid_val_200ep_mean -n 300 < nb201.zst > top300.zst
$B/stream-top --by c10valid_val_200ep_mean -n 40 < nb201.zst > top40.zst
$B/svge-encode -m $M < top300.zst > enc.zst
$B/svge-encode -m $M --threads 2 < top300.zst > enc2.zst
$B/svge-decode -m $M < enc.zst > dec_sample.zst
$B/svge-decode -m $M --mode argmax < enc.zst > dec_argmax.zst
$B/svge-encode -m $M < top40.zst > enc40.zst
$B/svge-decode -m $M --samples 2 --tries 7 < enc40.zst > dec_tries.zst
$B/svge-decode -m $M --tries 7 --pick first --merge reference < enc40.zst > dec_ref.zst
$B/svge-decode -m $M --forward-only < enc40.zst > dec_fwd.zst
$B/stream-to-jsonl < dec_tries.zst > dec_tries.jsonl
$B/bench-lookup < dec_argmax.zst > lookup.zst
$B/graph-hash < top300.zst > hash.zst
$B/stream-to-jsonl < lookup.zst > lookup.jsonl
$B/jsonl-to-stream < lookup.jsonl > rt.zst
# training: svge and dgmg, 2 epochs, small dims
$B/svge-train -q -o m_svge.model --epochs 2 --ndim 32 --gdim 8 --metrics m_svge.tsv --checkpoint ck_svge < top300.zst
$B/svge-train -q -o m_dgmg.model --model dgmg --epochs 2 --ndim 32 --gdim 8 --checkpoint ck_dgmg < top300.zst
$B/svge-train -q -o m_l3.model --epochs 2 --ndim 16 --gdim 4 --layers 3 --alpha 0.3 < top40.zst
$B/svge-train -q -o m_res.model --epochs 3 --ndim 32 --gdim 8 --resume ck_svge < top300.zst
cut -f1-5 m_svge.tsv > m_svge.tsv.cut; rm m_svge.tsv
$B/svge-encode -m m_dgmg.model < top40.zst > enc_dgmg.zst
$B/svge-decode -m m_dgmg.model < enc_dgmg.zst > dec_dgmg.zst
$B/svge-decode -m m_dgmg.model --mode argmax --tries 3 < enc_dgmg.zst > dec_dgmg2.zst
$B/svge-encode -m m_l3.model < top40.zst | $B/svge-decode -m m_l3.model --samples 2 > dec_l3.zst
$B/svge-metrics -m m_svge.model --train top300.zst < top40.zst > met_svge.zst 2>/dev/null
$B/svge-metrics -m m_dgmg.model --train top300.zst < top40.zst > met_dgmg.zst 2>/dev/null
$B/stream-to-jsonl < met_svge.zst > met_svge.jsonl
# nb101 and enas6 small
$B/graph-parse nb101 | $B/stream-top --by val_acc_108ep -n 200 --skip-missing > nb101top.zst
$B/graph-hash --verify < nb101top.zst > /dev/null
$B/svge-train -q -o m_101.model --epochs 1 --ndim 16 --gdim 4 < nb101top.zst
$B/svge-encode -m m_101.model < nb101top.zst | $B/svge-decode -m m_101.model --tries 3 > dec_101.zst
$B/graph-parse enas6 | $B/stream-top --by acc -n 100 > enas.zst 2>/dev/null || $B/graph-parse enas6 | $B/stream-split --shard 0/200 > enas.zst
$B/svge-train -q -o m_enas.model --model dgmg --epochs 1 --ndim 16 --gdim 4 < enas.zst
# cell-train, tiny
$B/stream-top --by val_acc_108ep -n 1 < nb101top.zst | $B/cell-train --no-timing --epochs 1 --stem-channels 4 --train-images 256 --test-images 64 --train-eval-images 64 --checkpoint cellck > cell.zst 2>/dev/null || echo "cell-train opts differ" > cell.err
$B/stream-to-jsonl < cell.zst > cell.jsonl 2>/dev/null || true
rm -f ck_svge ck_dgmg cellck
ls -la > /dev/null
