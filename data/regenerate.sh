#!/usr/bin/env bash
# regenerate.sh: rebuild data/ from the project's shared data (../shared/data, see data/SOURCES.md).
# The copies are the original tables, recompressed with zstd (-19 --long); the NB101 accuracy table
# drops the structure columns that nb101/cells.csv.zst already holds (joined back by hash).
# Usage: bash data/regenerate.sh [SHARED_DATA_DIR]   (default: ../shared/data beside the checkout)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../../shared/data}
z() { zstd -q -19 --long=27 -f -o "$1"; }

mkdir -p "$here/nb101" "$here/nb201" "$here/enas6"
zcat "$src/nasbench101/nb101_cells.csv.gz" | z "$here/nb101/cells.csv.zst"
# hash + accuracy columns (columns 2-4 repeat the structure)
cut -d, -f1,5- "$src/nasbench101/nb101_vis20k_val_accuracies.csv" | z "$here/nb101/val_accuracies.csv.zst"
# op_code (column 3) is derived from arch_str
cut -d, -f1,2,4- "$src/nasbench201/nb201_accuracies.csv" | z "$here/nb201/accuracies.csv.zst"
z "$here/enas6/final_structures6.txt.zst" < "$src/enas/final_structures6.txt"
bash "$here/cifar10/make_subset.sh" "$src/cifar10"
( cd "$here" && sha256sum nb101/*.zst nb201/*.zst enas6/*.zst cifar10/*.jpgrec ) > "$here/SHA256SUMS"
echo "data/ regenerated from $src"
