"""Entry point of the embedded model's server process: llama-cpp-python's OpenAI-compatible server, with
llama.cpp's extra weight buffer types switched off.

Why: a llama.cpp built for this CPU picks the AMX (or repack) buffer types when the CPU advertises them, and in
VMs that do not grant the AMX tile state the first matrix multiply crashes the process (SIGSEGV in
ggml_backend_amx_mul_mat). Plain buffers work everywhere; a 135M model hardly needs the speed-up.
"""

from __future__ import annotations

import runpy
from typing import Any


def _patch() -> None:
    import llama_cpp.llama_cpp as lib

    default = lib.llama_model_default_params

    def params() -> Any:
        p = default()
        p.use_extra_bufts = False
        return p

    lib.llama_model_default_params = params


if __name__ == "__main__":
    _patch()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
