"""DVC stage entry points: `python -m pipelines.<stage>`, one per stage in dvc.yaml.

Imported before each stage's own imports (numpy among them), so this is where the stages pin
OpenBLAS's kernel: it picks one per CPU at load time (AVX-512 here, AVX2 on another machine), and
the kernels round differently, so the linear candidate's bytes followed the CPU (measured: three
kernels, three model files). Haswell's AVX2 kernel runs on every x86-64 CPU from 2013 on; the
same bytes on any of them is what `make repro-check` compares (docs/reproducibility.md).
"""

import os
import platform

if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
