#!/usr/bin/env bash
# Paper-profile rows on a remote GPU machine: the repository travels with
# .gpu/ (carried: data/ = the needed files of BKI_LAB_DATA, glove50.npz from
# scripts/glove_bundle.py). Rows land in /tmp/res/rows, tarred to $OUT/rows.tar every 15 s
# so that what finished comes back even when the call hits its limit.
#   bash scripts/device_rows.sh SECONDS [check] -- REPRODUCE-ARGS... [-- REPRODUCE-ARGS...]
set -u
limit=$1; shift
G=$PWD/.gpu
export BKI_LAB_DATA=$G/data BKI_LAB_GLOVE_BUNDLE=$G/glove50.npz BKI_LAB_CACHE=/tmp/bki-cache \
       PYTHONPATH=$PWD PYTHONUNBUFFERED=1 PYTORCH_NVML_BASED_CUDA_CHECK=1
end=$((SECONDS + limit))
mkdir -p /tmp/res/rows
[ -d $G/cache ] && cp -r $G/cache /tmp/bki-cache
nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv
if [ "${1:-}" = check ]; then
  shift
  python3 benchmarks/gpu_check.py --device cuda --json $OUT/gpu_check.json 2>&1 | tee $OUT/gpu_check.log
fi
( while true; do tar -cf $OUT/rows.tar.tmp -C /tmp/res rows && mv $OUT/rows.tar.tmp $OUT/rows.tar; sleep 15; done ) &
saver=$!
while [ "${1:-}" = "--" ]; do
  shift; args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  left=$((end - SECONDS - 20))
  [ $left -lt 30 ] && break
  echo "== reproduce ${args[*]} ($left s left)"
  timeout $left python3 -m bki_lab.cli reproduce "${args[@]}" --device cuda --out /tmp/res 2>&1 \
    | grep -v "^ *$" | tail -40
done
kill $saver
tar -cf $OUT/rows.tar -C /tmp/res rows
ls /tmp/res/rows | wc -l
