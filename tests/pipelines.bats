#!/usr/bin/env bats
# pipelines/Makefile: the quick version of the NB201 experiment runs end to end (split, train,
# metrics, results table) on the embedded data.

load helpers

@test "pipelines QUICK=1: NB201 split 14,062/1,563, a trained model, metrics and a results row" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/results-nb201.md" \
        SPACES=nb201
    assert_status 0
    [ "$(stream-to-jsonl < "$out/nb201/train.zst" | wc -l)" -eq 14062 ]
    [ "$(stream-to-jsonl < "$out/nb201/test.zst" | wc -l)" -eq 1563 ]
    [ -s "$out/nb201/model.svge" ]
    [ "$(wc -l < "$out/nb201/train-log.tsv")" -eq 3 ]   # header + 2 epochs
    # the test split evaluated after each epoch (--test): test_recon and test_kl filled
    [ "$(head -1 "$out/nb201/train-log.tsv" | cut -f8,9)" = "$(printf 'test_recon\ttest_kl')" ]
    [ "$(awk -F'\t' 'NR > 1 && $8 > 0 && $9 > 0' "$out/nb201/train-log.tsv" | wc -l)" -eq 2 ]
    stream-to-jsonl < "$out/nb201/metrics.zst" | grep -q '"kind":"svge-metrics","model":"[0-9a-f]\{16\}","space":"nb201"'
    grep -q '^| nb201 | [01]\.[0-9]\{4\} |' "$out/results-nb201.md"
}

@test "pipelines curves-SPACE: the loss curves of a training log, a PNG (no training started without a log)" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" OUT="$out" BIN="$SVGE_BIN" curves-enas6
    assert_status 2
    assert_output_has "make: $out/enas6/train-log.tsv: no training log (train first: make -C pipelines enas6)"
    [ ! -e "$out/enas6" ]
    command -v gnuplot > /dev/null || skip "gnuplot is not installed (apt-get install gnuplot-nox)"
    mkdir -p "$out/nb201"
    cp "$SVGE_DATA/nb201/svge-train-log.tsv" "$out/nb201/train-log.tsv"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" OUT="$out" BIN="$SVGE_BIN" curves-nb201
    assert_status 0
    [ "$(head -c 4 "$out/nb201/loss.png")" = $'\x89PNG' ]
}

@test "pipelines: a training run that stopped resumes from its checkpoint, bitwise where it would have been" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/nb201/model.svge"
    assert_status 0
    cp "$out/nb201/model.svge" "$BATS_TEST_TMPDIR/whole.svge"
    # as if stopped after epoch 1: a 1-epoch checkpoint and no model
    rm "$out/nb201/model.svge" "$out/nb201/checkpoint.svge"
    svge-train -q -o "$BATS_TEST_TMPDIR/e1.svge" --ndim 16 --gdim 8 --epochs 1 --lr 1e-3 --seed 1 \
        --checkpoint "$out/nb201/checkpoint.svge" < "$out/nb201/train.zst"
    run make -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/nb201/model.svge"
    assert_status 0
    assert_output_has "--resume $out/nb201/checkpoint.svge"
    cmp "$out/nb201/model.svge" "$BATS_TEST_TMPDIR/whole.svge"
}

@test "pipelines model-lr2.svge: a second phase at a lower rate from the first's model (--init), resumed bitwise" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/nb201/model-lr2.svge" LR2_EPOCHS=2
    assert_status 0
    # a new log and checkpoint beside the first phase's: 2 epochs at lr 1e-4, the test split evaluated
    [ "$(wc -l < "$out/nb201/train-log-lr2.tsv")" -eq 3 ]
    [ "$(awk -F'\t' 'NR > 1 && $5 == 0.0001 && $8 > 0' "$out/nb201/train-log-lr2.tsv" | wc -l)" -eq 2 ]
    [ "$(wc -l < "$out/nb201/train-log.tsv")" -eq 3 ]   # the first phase's untouched
    # the first phase's weights are the start: the second phase's first test loss is near the first
    # phase's last, far below an untrained model's
    first_end=$(awk -F'\t' 'END { print $8 }' "$out/nb201/train-log.tsv")
    second_1=$(awk -F'\t' 'NR == 2 { print $8 }' "$out/nb201/train-log-lr2.tsv")
    awk -v a="$first_end" -v b="$second_1" 'BEGIN { exit !(b < 1.2 * a) }'
    cp "$out/nb201/model-lr2.svge" "$BATS_TEST_TMPDIR/whole.svge"
    # stopped after its epoch 1: resumed from its own checkpoint, the same bytes
    rm "$out/nb201/model-lr2.svge" "$out/nb201/checkpoint-lr2.svge"
    svge-train -q -o "$BATS_TEST_TMPDIR/e1.svge" --init "$out/nb201/model.svge" --lr 1e-4 --epochs 1 --seed 1 \
        --checkpoint "$out/nb201/checkpoint-lr2.svge" < "$out/nb201/train.zst"
    run make -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/nb201/model-lr2.svge" LR2_EPOCHS=2
    assert_status 0
    assert_output_has "--resume $out/nb201/checkpoint-lr2.svge"
    cmp "$out/nb201/model-lr2.svge" "$BATS_TEST_TMPDIR/whole.svge"
}

@test "pipelines QUICK=1 cells: the best cells of a stream (default: NB101 by validation accuracy) trained by cell-train, with a table" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/cells.md"
    assert_status 0
    [ "$(stream-to-jsonl < "$out/cells/trained.zst" | wc -l)" -eq 3 ]
    # the three best NB101 cells by the table's validation accuracy, in that order
    want=$(graph-parse nb101 | stream-top --by val_acc_108ep -n 3 --skip-missing | stream-to-jsonl | grep -o '^{"v":1,"id":[0-9]*' | cut -d: -f3)
    [ "$(grep -o '^| [0-9]* |' "$out/cells.md" | tr -d '| \n')" = "$(echo $want | tr -d ' ')" ]
    [ "$(stream-to-jsonl < "$out/cells/trained.zst" | grep -c '"test_accuracy":[01][.0-9e-]*.*"parameters":[1-9]')" -eq 3 ]
    # another stream and ranking field: the 2 NB201 cells with the best CIFAR-100 validation accuracy
    graph-parse nb201 | stream-split --shard 0/50 > "$BATS_TEST_TMPDIR/c.zst"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out/b" BIN="$SVGE_BIN" "$out/b/cells/best.zst" \
        CELLS="$BATS_TEST_TMPDIR/c.zst" CELLS_BY=c100_val_200ep_mean CELLS_TOP=2
    assert_status 0
    [ "$(stream-to-jsonl < "$out/b/cells/best.zst" | grep -c '"space":"nb201"')" -eq 2 ]
}

@test "pipelines QUICK=1 learning-nb201: a results row per predictor and size, every raw row, the pictures" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" -j2 QUICK=1 OUT="$out" BIN="$SVGE_BIN" learning-nb201
    assert_status 0
    d="$out/nb201/learning"
    # QUICK: sizes 20 100, seeds 1 2, 5 predictors -> 20 rows of 13 fields, 1,563 test cells each
    [ "$(wc -l < "$d/learning.tsv")" -eq 21 ]
    [ "$(awk -F'\t' 'NR > 1 && NF == 13 && $1 == "nb201" && $5 == 1563' "$d/learning.tsv" | wc -l)" -eq 20 ]
    for p in surrogate surrogate-std gp-latent gp-adj gp-path; do
        for n in 20 100; do
            grep -q "^| $p | $n | 2 | -\?[01]\.[0-9]\{3\} ± [0-9.]* | " "$d/results.md"
        done
    done
    [ "$(grep -c '^| [a-z-]* | [0-9]* | 2 |' "$d/results.md")" -eq 10 ]
    # surrogate-std is the surrogate fine-tuned with --standardize-target: its model says so
    grep -aq regression_target_std "$d/runs/surrogate-std/20-1.model"
    ! grep -aq regression_target_std "$d/runs/surrogate/20-1.model"
    grep -q 'epochs 2' "$d/results.md"
    grep -q '^- command: `make -C pipelines learning-nb201 QUICK=1' "$d/results.md"
    # the training cells of size n and seed s are stream-split --count n --seed s of the pool
    [ "$(stream-to-jsonl < "$d/cells/100-2.zst" | wc -l)" -eq 100 ]
    stream-split --count 100 --seed 2 < "$d/pool.zst" | cmp - "$d/cells/100-2.zst"
    # a second make has nothing to do: no file changes
    touch "$BATS_TEST_TMPDIR/mark"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" learning-nb201
    assert_status 0
    [ -z "$(find "$out" -newer "$BATS_TEST_TMPDIR/mark" -type f)" ]
    # another seed: only its runs are made, and the tables grow
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" learning-nb201 LC_SEEDS="1 2 3" LC_SIZES=20
    assert_status 0
    [ "$(wc -l < "$d/learning.tsv")" -eq 16 ]
    grep -q "^| gp-path | 20 | 3 | " "$d/results.md"
    [ -z "$(find "$d/runs" -name '100-*' -newer "$BATS_TEST_TMPDIR/mark")" ]
    if ! command -v gnuplot > /dev/null; then
        skip "gnuplot is not installed: the pictures are not made (the tables are checked)"
    fi
    [ -s "$d/learning-curve.png" ] || [ -s "$d/learning-curve.svg" ]
    [ -s "$d/scatter.png" ] || [ -s "$d/scatter.svg" ]
}

@test "pipelines gp-sparse-nb201: the sparse GP against the exact one, a row per (M, seed); M = n is the exact GP" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" OUT="$out" BIN="$SVGE_BIN" gp-sparse-nb201 \
        GS_SIZE=100 GS_SEEDS=2 GS_INDUCING='20 100'
    assert_status 0
    t="$out/nb201/gp-sparse.tsv"
    [ "$(head -1 "$t")" = "$(printf 'space\tsize\tM\tseed\trmse\tspearman\tkendall\tp_at_50\tstd_spearman\tstd_ratio\tcover95')" ]
    [ "$(awk -F'\t' 'NR > 1 && NF == 11 && $1 == "nb201" && $2 == 100 && $4 == 2' "$t" | wc -l)" -eq 3 ]
    # FITC with every training point inducing is the exact GP: the same metrics, its std the same
    awk -F'\t' '$3 == 100 { m = $5; r = $6; s = $9; q = $10 } $3 == "exact" { e = $5; x = $6; c = $11 }
        END { d = m - e; if (d < 0) d = -d; exit !(d < 1e-9 * e && r == x && s > 0.999999 && q > 0.999999 && q < 1.000001 && c > 0 && c <= 1) }' "$t"
    # fewer inducing points: another GP, whose std is not the exact one's
    [ "$(awk -F'\t' '$3 == 20 && $10 != 1 && $6 > -1 && $6 < 1' "$t" | wc -l)" -eq 1 ]
}

@test "pipelines learning-nb101 without a model says so before any work" {
    out="$BATS_TEST_TMPDIR/p"
    run make -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" learning-nb101 LC_MODEL_NB101="$out/none.svge"
    assert_status 2
    assert_output_has "no NB101 model"
    [ ! -e "$out/nb101" ]
}

@test "pipelines QUICK=1 extrapolate-nb101: a tiny NB101 surrogate ranks the 8-node cells, with the report" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" extrapolate-nb101 \
        LC_MODEL_NB101="$out/none.svge" EX_TOP=4
    assert_status 0
    r="$out/nb101/extrapolation.md"
    nvalid=$(graph-gen nb101-8 --seed 1 --valid-only | stream-to-jsonl | wc -l)
    [ "$(stream-to-jsonl < "$out/nb101/extrapolate/valid-ranked.zst" | wc -l)" -eq "$nvalid" ]
    grep -q "^- 8-node cells: 1,384 generated (\`graph-gen nb101-8 --seed 1\`), $nvalid valid" "$r"
    grep -q '^- VAE: `.*tiny-vae.svge`, model id `[0-9a-f]\{16\}`, trained 1 epoch(s) on 300 graphs' "$r"
    grep -q 'model id `[0-9a-f]\{16\}`, 1 epoch(s) on 50 cells' "$r"
    # EX_TOP rows of finite predictions, ranks 1..4, then the reference winner's rank
    [ "$(grep -c '^| [1-4] | [01]\.[0-9]\{4\} | [0-9]* | family [abc], op ' "$r")" -eq 4 ]
    grep -q '^- reference winner (family b, conv3x3, .* (16)): rank [0-9]* of '"$nvalid"' (predicted [01]\.[0-9]\{4\}): \(not \)\?among the top 4$' "$r"
    # the 7-node comparison: 5 test cells with predicted and true accuracy
    [ "$(grep -c '^| [1-5] | [01]\.[0-9]\{4\} | 0\.[0-9]\{4\} | [0-9]* | input ' "$r")" -eq 5 ]
    grep -q '^- command: `make -C pipelines extrapolate-nb101 QUICK=1 .*EX_SAMPLE=50 EX_EPOCHS=1 EX_TOP=4`' "$r"
}

@test "pipelines QUICK=1 extrapolate-enas12: the ENAS-6 surrogate ranks 12-layer architectures, with the report" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" extrapolate-enas12 EX_TOP=3 EX12_N=40
    assert_status 0
    r="$out/enas6/extrapolation-enas12.md"
    [ "$(stream-to-jsonl < "$out/enas6/extrapolate/pred.zst" | grep -c '"space":"enas12".*"predicted":')" -eq 40 ]
    [ "$(stream-to-jsonl < "$out/enas6/extrapolate/test-pred.zst" | wc -l)" -eq 1902 ]
    grep -q '^- VAE: `.*data/enas6/svge.model`, model id `e911d13d73372ca8`' "$r"
    grep -q 'model id `[0-9a-f]\{16\}`, 1 epoch(s) on 50 architectures' "$r"
    grep -q '^- predictions, 12 layers: 40 architectures: mean -\?[0-9.]*, std [0-9.]*' "$r"
    # EX_TOP rows of 12 operations each, in order of prediction; the 6-layer comparison with true accuracies
    [ "$(grep -cE '^\| [1-3] \| -?[0-9]+\.[0-9]{4} \| [0-9]+ \| ([a-z0-9]+ ){11}[a-z0-9]+ \| [0-9]+ \|$' "$r")" -eq 3 ]
    [ "$(grep -cE '^\| [1-3] \| -?[0-9]+\.[0-9]{4} \| 0\.[0-9]{4} \| [0-9]+ \| ([a-z0-9]+ ){5}[a-z0-9]+ \| [0-9]+ \|$' "$r")" -eq 3 ]
    stream-to-jsonl < "$out/enas6/extrapolate/pred-top.zst" | grep -o '"predicted":[^,}]*' | cut -d: -f2 | sort -gr -c
    grep -q '^- command: `make -C pipelines extrapolate-enas12 QUICK=1 .*EX_SAMPLE=50 EX_EPOCHS=1 EX_TOP=3 EX12_N=40`' "$r"
}

@test "pipelines extrapolate-nb101 without a model says so before any work" {
    out="$BATS_TEST_TMPDIR/p"
    run make -C "$BATS_TEST_DIRNAME/../pipelines" OUT="$out" BIN="$SVGE_BIN" extrapolate-nb101 EX_MODEL_NB101="$out/none.svge"
    assert_status 2
    assert_output_has "no NB101 model"
    [ ! -e "$out/nb101" ]
}
