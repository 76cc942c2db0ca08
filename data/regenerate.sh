#!/usr/bin/env bash
# regenerate.sh: rebuild data/ from the source files described in data/SOURCES.md.
# The copies are the source tables, recompressed with zstd (-19 --long); the NB101 accuracy table
# drops the structure columns that nb101/cells.csv.zst already holds (joined back by hash).
# Usage: bash data/regenerate.sh SRC_DIR   (or: make data SRC=SRC_DIR)
# SRC_DIR holds nasbench101/nb101_cells.csv.gz, nasbench101/nb101_vis20k_val_accuracies.csv,
# nasbench201/nb201_accuracies.csv, enas/final_structures6.txt and cifar10/cifar10_{train,test}.jpgrec;
# each is checked against the sha256 that data/SOURCES.md gives before anything is written.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: bash data/regenerate.sh SRC_DIR (the source files of data/SOURCES.md)" >&2; exit 2; }
src=$1
z() { zstd -q -19 --long=27 -f -o "$1"; }

( cd "$src" && sha256sum -c --quiet ) <<'SUMS' || { echo "regenerate.sh: $src: a source file is missing or differs (data/SOURCES.md)" >&2; exit 1; }
914f0c81c74f209ec7cdb514bf6553d02b0527419cd9176c0fc09cb67c838fd9  nasbench101/nb101_cells.csv.gz
20c62ef6dc87f32ab746f100a5e0b018575684e1a1f84dae8ef43f3b63d3598b  nasbench101/nb101_vis20k_val_accuracies.csv
d8c94c2ac7949699c5ecd1e6555e3b14d45b8191bb7c44eeb49780314566ff0d  nasbench201/nb201_accuracies.csv
fea9a7dde1545e7d3bd58fd4b9c3db08a89c18e0351f770cde2fe530c4791725  enas/final_structures6.txt
634b61a796d83d1dbde3d541f0257c7fd27abfca855b020077045a34b012a7ac  cifar10/cifar10_train.jpgrec
f55906c10df161a6f44f628e3577df020d4c3bc46117a947ecceba8d666481f3  cifar10/cifar10_test.jpgrec
SUMS

mkdir -p "$here/nb101" "$here/nb201" "$here/enas6"
zcat "$src/nasbench101/nb101_cells.csv.gz" | z "$here/nb101/cells.csv.zst"
# hash + accuracy columns (columns 2-4 repeat the structure)
cut -d, -f1,5- "$src/nasbench101/nb101_vis20k_val_accuracies.csv" | z "$here/nb101/val_accuracies.csv.zst"
# op_code (column 3) is derived from arch_str
cut -d, -f1,2,4- "$src/nasbench201/nb201_accuracies.csv" | z "$here/nb201/accuracies.csv.zst"
z "$here/enas6/final_structures6.txt.zst" < "$src/enas/final_structures6.txt"
bash "$here/cifar10/make_subset.sh" "$src/cifar10"
( cd "$here" && sha256sum nb101/*.zst nb101/svge.model nb201/*.zst nb201/svge.model enas6/svge.model enas6/*.zst cifar10/*.jpgrec ) > "$here/SHA256SUMS"
echo "data/ regenerated from $src"
