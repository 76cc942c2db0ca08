#!/usr/bin/env bash
# learning-table.sh SPACE learning.tsv: results.md, the learning curves as a Markdown table (mean ±
# standard deviation over the seeds, per predictor and training size). The settings come from the
# environment (LC_COMMAND, LC_SURR_EPOCHS, LC_SIZES, LC_SURR_SIZES, LC_SEEDS, LC_MODEL, LC_TARGET,
# LC_EXTRA), as pipelines/Makefile passes them.
set -euo pipefail
space=$1 tsv=$2
ntest=$(awk -F'\t' 'NR == 2 { print $5 }' "$tsv")
echo "# Learning curves of the predictors: $space"
echo
echo "- command: \`${LC_COMMAND:-?}\` (in the repository's root), finished $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- target: \`${LC_TARGET:-?}\`; test cells: $ntest; training sizes: ${LC_SIZES:-?}; seeds: ${LC_SEEDS:-?}"
preds=" ${LC_PREDICTORS:-surrogate surrogate-std gp-latent gp-adj gp-path} "
echo "- predictors:$preds"
slow=
if [[ $preds == *" surrogate-std-slowvae "* ]]; then
    slow="; surrogate-std-slowvae: surrogate-std with \`--vae-lr-scale ${LC_VAE_LR_SCALE:-?}\` (the VAE fine-tunes at that fraction of the rate)"
fi
if [[ $preds == *" surrogate "* || $preds == *" surrogate-std "* || $preds == *" surrogate-std-slowvae "* ]]; then
    echo "- surrogate: \`svge-train --init ${LC_MODEL:-?} --surrogate ${LC_TARGET:-?} --sample n --seed s --epochs ${LC_SURR_EPOCHS:-?}\`" \
         "at sizes ${LC_SURR_SIZES:-?} (the reference's fine-tuning, on the raw target); surrogate-std: the same with" \
         "\`--standardize-target\` (the head learns the target standardized over its n training cells)$slow"
    if [ "${LC_SURR_EPOCHS:-100}" != 100 ]; then
        echo "  (**not the reference's 100 epochs**: ${LC_SURR_EPOCHS:-?} here. On this 2-core machine an epoch of the surrogate over 5,000"
        echo "  cells takes 40-100 s depending on the other load, so 100 epochs x 5 seeds at that size alone would take 6-14 hours)"
    fi
    if [ "${LC_SURR_SIZES:-}" != "${LC_SIZES:-}" ]; then
        echo "  (**the surrogate is not trained at every size**: only at ${LC_SURR_SIZES:-?}; LC_SURR_SIZES)"
    fi
fi
echo "- GPs (\`gp-fit\`, its defaults: exact up to 4,000 points, else sparse FITC with 1,000 inducing points): gp-latent on the latents of \`${LC_MODEL:-?}\`, gp-adj on the adjacency + one-hot encoding, gp-path on the path encoding (graph-features${LC_PATH_OPTS:+ \`$LC_PATH_OPTS\`})"
echo "- every number: mean ± standard deviation (n − 1) over the seeds of pred-metrics on the test cells; raw rows: learning.tsv; protocol: pipelines/PREDICTION.md"
echo
extra=${LC_EXTRA:-}
if [ -n "$extra" ]; then
    echo "| predictor | training cells | seeds | Spearman ρ | Kendall τ | Pearson r | RMSE | P@10 | P@50 | ρ vs \`$extra\` | τ vs \`$extra\` |"
    echo "| --- | ---: | ---: | --- | --- | --- | --- | --- | --- | --- | --- |"
else
    echo "| predictor | training cells | seeds | Spearman ρ | Kendall τ | Pearson r | RMSE | P@10 | P@50 |"
    echo "| --- | ---: | ---: | --- | --- | --- | --- | --- | --- |"
fi
awk -F'\t' -v extra="$extra" '
NR == 1 { next }
{
    key = $2 SUBSEP $3
    if (!(key in seen)) { seen[key] = 1; keys[++nk] = key; pred[nk] = $2; size[nk] = $3 }
    ns[key]++
    for (c = 6; c <= 13; c++) if ($c != "NA") { s[key, c] += $c; ss[key, c] += $c * $c; cnt[key, c]++ }
}
function ms(key, c, d,   m, v) {
    if (!cnt[key, c]) return "NA"
    m = s[key, c] / cnt[key, c]
    if (cnt[key, c] < 2) return sprintf("%." d "f", m)
    v = (ss[key, c] - cnt[key, c] * m * m) / (cnt[key, c] - 1)
    return sprintf("%." d "f ± %." d "f", m, v > 0 ? sqrt(v) : 0)
}
END {
    # predictors in the order surrogate, surrogate-std, gp-latent, gp-adj, gp-path (others after), sizes ascending
    split("surrogate surrogate-std gp-latent gp-adj gp-path", order, " ")
    for (i in order) rank[order[i]] = i
    for (i = 1; i <= nk; i++) { r = (pred[i] in rank) ? rank[pred[i]] : 99; sortkey[i] = sprintf("%03d %-20s %012d", r, pred[i], size[i]) }
    for (i = 1; i <= nk; i++) for (j = i + 1; j <= nk; j++) if (sortkey[j] < sortkey[i]) {
        t = sortkey[i]; sortkey[i] = sortkey[j]; sortkey[j] = t
        t = keys[i]; keys[i] = keys[j]; keys[j] = t
        t = pred[i]; pred[i] = pred[j]; pred[j] = t
        t = size[i]; size[i] = size[j]; size[j] = t
    }
    for (i = 1; i <= nk; i++) {
        k = keys[i]
        line = sprintf("| %s | %d | %d | %s | %s | %s | %s | %s | %s |", pred[i], size[i], ns[k],
                       ms(k, 8, 3), ms(k, 9, 3), ms(k, 7, 3), ms(k, 6, 4), ms(k, 10, 2), ms(k, 11, 2))
        if (extra != "") line = line sprintf(" %s | %s |", ms(k, 12, 3), ms(k, 13, 3))
        print line
    }
}' "$tsv"
echo
echo "Pictures: learning-curve (ρ and τ against the training size, log x, error bars ± 1 std over the seeds) and"
echo "scatter (predicted against true, each predictor's largest size, first seed), .png or .svg, beside this file."
