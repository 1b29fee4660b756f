#!/usr/bin/env bash
# The inference bench on a machine with a real GPU: hardware WebGPU in headless Chromium (Vulkan) instead of
# SwiftShader, plus llama.cpp's own WebGPU backend (wllama, all layers offloaded) as the GPU anchor.
# Writes bench/results/<date>-gpu.json and docs/benchmarks-gpu.md (+ docs/img/gpu/); the CPU page is left alone.
#   e2e/bench/gpu-bench.sh [--quick] [--runs N] [--engines webgpu,wllama-webgpu,...]
# Needs: a GPU driver with Vulkan (NVIDIA: the proprietary driver, `nvidia-smi` and `vulkaninfo --summary` work),
# Chromium 120+, Node 20+, a JDK 21+. Fails fast when Chromium only offers a fallback (software) adapter.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
fi
if command -v vulkaninfo >/dev/null 2>&1; then
  vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName" >&2 || true
fi
exec "$ROOT/earnidle" bench --gpu "$@"
