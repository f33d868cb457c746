#!/usr/bin/env python3
"""Measures every packaged Lambda function the way Lambda starts it.

    python infra/measure.py [--lambda-dir target/lambda | --sam-build-dir infra/.aws-sam/build]
                            [--runs 7] [--enforce]

For each `<lambda-dir>/<function>/bootstrap.zip` (what `cargo lambda build --release
--output-format zip` writes; a bare `<lambda-dir>/<function>/bootstrap`, the default output
format, is zipped the way `sam deploy` zips it when it is newer than the zip), or each
function's folder of `sam build`'s output zipped the way `sam deploy` zips it
(`--sam-build-dir`; the folder is the template's logical id of the
function whose `BuildProperties.Binary` is the function's name): its size; then the
bootstrap, extracted
from the zip into a fresh task root, is started `--runs` times against a stub of the
Lambda runtime API on 127.0.0.1 (this script) with the environment Lambda gives a
provided.al2023 function plus dummy AWS credentials and the engage settings of
infra/template.yaml, so it reaches its first poll without any network:

- init: from exec to the first `GET /2018-06-01/runtime/invocation/next` (median of
  the runs; the cold start work of main(): config, AWS clients, bundled policies), and
  the CPU time its threads had used by then (median; on a loaded machine the wall-clock
  init mostly measures waiting for a core, the CPU time much less so);
- peak memory: the bootstrap's VmHWM (peak resident set, what `/usr/bin/time -v`
  reports as maximum resident set size) read at its last poll. HTTP functions first
  get one API Gateway v2 `GET /healthz` invocation and must answer 200, so their peak
  includes serving a request; event functions are measured through init (their first
  invocation would call DynamoDB).

Goals (issue 6): zip <= 3.5 MiB, init <= 25 ms, peak <= 32 MiB. With --enforce the
script fails when a function is not packaged, cannot start or fails its invocation; with
--enforce-goals also when a zip or the peak memory is over its goal. Init time is
reported, never enforced (it depends on the machine's load).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ZIP_GOAL = 3.5 * 1024 * 1024
INIT_GOAL_MS = 25.0
PEAK_GOAL = 32 * 1024 * 1024
HTTP_FUNCTIONS = {"campaigns-api", "contact-api", "unsubscribe-api"}

HEALTHZ_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/healthz",
    "rawQueryString": "",
    "headers": {"host": "api.example.test", "user-agent": "measure"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.test",
        "domainPrefix": "api",
        "http": {
            "method": "GET",
            "path": "/healthz",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "measure",
        },
        "requestId": "measure-request",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Dec/2026:00:00:00 +0000",
        "timeEpoch": 1795996800000,
    },
    "isBase64Encoded": False,
}


class Run:
    """What the stub saw of one process."""

    def __init__(self, name, invoke):
        self.name = name
        self.invoke = invoke  # hand out one invocation on the first poll
        self.pid = None
        self.started = None
        self.first_poll = None
        self.first_poll_cpu = None
        self.polls = 0
        self.peak = None
        self.response = None
        self.error = None
        self.done = threading.Event()


def cpu_seconds(pid):
    """CPU time all threads of `pid` have run so far (the scheduler's nanosecond count), or
    None. Unlike the wall-clock init it hardly depends on the machine's load."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def peak_rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, code, body=b"", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            run = state["run"]
            if self.path != "/2018-06-01/runtime/invocation/next":
                return self.reply(404)
            now = time.perf_counter()
            run.polls += 1
            if run.first_poll is None:
                run.first_poll = now
                run.first_poll_cpu = cpu_seconds(run.pid)
            if run.invoke and run.polls == 1:
                body = json.dumps(HEALTHZ_EVENT).encode()
                deadline = int(time.time() * 1000) + 30_000
                return self.reply(
                    200,
                    body,
                    [
                        ("Content-Type", "application/json"),
                        ("Lambda-Runtime-Aws-Request-Id", "measure-request"),
                        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                        ("Lambda-Runtime-Invoked-Function-Arn",
                         f"arn:aws:lambda:us-east-1:123456789012:function:{run.name}"),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                    ],
                )
            # Idle at its poll: this is the peak of init (and the one invocation).
            run.peak = peak_rss(run.pid)
            run.done.set()
            time.sleep(3600)  # the process is killed while it waits

        def do_POST(self):
            run = state["run"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.endswith("/response"):
                run.response = body
            elif self.path.endswith("/error"):
                run.error = body.decode(errors="replace")
                run.done.set()
            self.reply(202, b"{}", [("Content-Type", "application/json")])

    return Handler


def environment(name, port, task_root, home):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": task_root,
        "_HANDLER": "bootstrap",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "measure",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIAMEASURE",
        "AWS_SECRET_ACCESS_KEY": "measure",
        "AWS_SESSION_TOKEN": "measure",
        "AWS_EC2_METADATA_DISABLED": "true",
        "ENGAGE_TABLE": "engage",
        "ENGAGE_PUBLIC_URL": "https://engage.example.test",
        "ENGAGE_UNSUBSCRIBE_SECRET": "measure-unsubscribe-secret",
        "ENGAGE_TOKEN_SECRET": "measure-token-secret",
        "ENGAGE_FROM_ADDRESS": "brand@example.test",
        "ENGAGE_SES_CONFIGURATION_SET": "engage",
        "ENGAGE_SEND_RATE": "10",
        "ENGAGE_EVENT_BUS": "default",
        "ENGAGE_SEND_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/engage-send",
        "ENGAGE_SEND_CONCURRENCY": "50",
    }
    return env


def measure(name, zip_path, runs, state, port):
    work = tempfile.mkdtemp(prefix=f"measure-{name}-")
    try:
        task_root = os.path.join(work, "task")
        home = os.path.join(work, "home")
        os.makedirs(home)
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(task_root)
        bootstrap = os.path.join(task_root, "bootstrap")
        os.chmod(bootstrap, 0o755)
        env = environment(name, port, task_root, home)
        inits, cpus, peaks, failures = [], [], [], []
        for _ in range(runs):
            run = Run(name, name in HTTP_FUNCTIONS)
            state["run"] = run
            run.started = time.perf_counter()
            proc = subprocess.Popen([bootstrap], cwd=task_root, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            run.pid = proc.pid
            finished = run.done.wait(10)
            proc.kill()
            _, stderr = proc.communicate()
            if not finished or run.first_poll is None:
                failures.append(f"never polled (exit {proc.returncode}): {stderr.decode(errors='replace')[-400:]}")
                continue
            if run.error:
                failures.append(f"reported an error: {run.error[:400]}")
                continue
            if run.invoke:
                status = json.loads(run.response or b"{}").get("statusCode")
                if status != 200:
                    failures.append(f"GET /healthz answered {status}: {run.response!r}")
                    continue
            inits.append((run.first_poll - run.started) * 1000)
            if run.first_poll_cpu is not None:
                cpus.append(run.first_poll_cpu * 1000)
            if run.peak:
                peaks.append(run.peak)
        return {
            "function": name,
            "zipBytes": os.path.getsize(zip_path),
            "binaryBytes": os.path.getsize(bootstrap),
            "initMs": round(statistics.median(inits), 2) if inits else None,
            "initMsMin": round(min(inits), 2) if inits else None,
            "initCpuMs": round(statistics.median(cpus), 2) if cpus else None,
            "peakBytes": max(peaks) if peaks else None,
            "measuredThrough": "init + GET /healthz" if name in HTTP_FUNCTIONS else "init",
            "runs": len(inits),
            "failures": failures,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sam_functions(template):
    """Function name (`BuildProperties.Binary`) -> logical id, read from the template's text
    (its short-form intrinsics are not plain YAML)."""
    ids, current = {}, None
    with open(template) as f:
        for line in f:
            if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
                current = line.strip()[:-1]
            binary = line.strip()
            if binary.startswith("Binary:") and current:
                ids[binary.split(":", 1)[1].strip()] = current
    return ids


def zip_sam_artifact(folder, out_dir, name):
    """The function's `sam build` folder zipped as `sam deploy` uploads it (deflate, the
    bootstrap executable)."""
    zip_path = os.path.join(out_dir, f"{name}.zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for entry in sorted(os.listdir(folder)):
            info = zipfile.ZipInfo(entry)
            info.external_attr = 0o755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(folder, entry), "rb") as f:
                z.writestr(info, f.read())
    return zip_path


def lambda_dir_artifact(folder, out_dir, name):
    """The function's package in a `cargo lambda build` output folder: its `bootstrap.zip`
    (`--output-format zip`), or its bare `bootstrap` (the default output format) zipped as
    `sam deploy` would, whichever is newer, so a stale zip is never measured."""
    zip_path = os.path.join(folder, "bootstrap.zip")
    binary = os.path.join(folder, "bootstrap")
    if os.path.exists(binary) and (not os.path.exists(zip_path)
                                   or os.path.getmtime(binary) > os.path.getmtime(zip_path)):
        only = tempfile.mkdtemp(prefix=f"measure-{name}-bootstrap-", dir=out_dir)
        shutil.copy2(binary, os.path.join(only, "bootstrap"))
        return zip_sam_artifact(only, out_dir, name)
    return zip_path


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lambda-dir", default=os.path.join(root, "target", "lambda"))
    ap.add_argument("--sam-build-dir", help="measure `sam build`'s artifacts instead")
    ap.add_argument("--template", default=os.path.join(root, "infra", "template.yaml"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--enforce", action="store_true")
    ap.add_argument("--enforce-goals", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    names = sorted(d for d in os.listdir(os.path.join(root, "functions"))
                   if os.path.exists(os.path.join(root, "functions", d, "Cargo.toml")))
    state = {"run": None}
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    results, problems, over = [], [], []
    logical_ids = sam_functions(args.template) if args.sam_build_dir else {}
    zips = tempfile.mkdtemp(prefix="measure-zips-")
    for name in names:
        if args.sam_build_dir:
            folder = os.path.join(args.sam_build_dir, logical_ids.get(name, "?"))
            if not os.path.exists(os.path.join(folder, "bootstrap")):
                problems.append(f"{name}: not built by sam ({folder}/bootstrap missing)")
                continue
            zip_path = zip_sam_artifact(folder, zips, name)
        else:
            zip_path = lambda_dir_artifact(os.path.join(args.lambda_dir, name), zips, name)
        if not os.path.exists(zip_path):
            problems.append(f"{name}: not packaged ({zip_path} missing)")
            continue
        r = measure(name, zip_path, args.runs, state, port)
        results.append(r)
        for f in r["failures"]:
            problems.append(f"{name}: {f}")
        if r["zipBytes"] > ZIP_GOAL:
            over.append(f"{name}: zip {r['zipBytes'] / 2**20:.2f} MiB over the 3.5 MiB goal")
        if r["peakBytes"] and r["peakBytes"] > PEAK_GOAL:
            over.append(f"{name}: peak memory {r['peakBytes'] / 2**20:.1f} MiB over the 32 MiB goal")
    server.shutdown()
    shutil.rmtree(zips, ignore_errors=True)

    mib = 2 ** 20
    print(f"{'function':<20} {'zip MiB':>8} {'binary MiB':>10} {'init ms':>8} {'min ms':>7} "
          f"{'cpu ms':>7} {'peak MiB':>9}  measured through")
    for r in results:
        init = f"{r['initMs']:.1f}" if r["initMs"] is not None else "-"
        low = f"{r['initMsMin']:.1f}" if r["initMsMin"] is not None else "-"
        cpu = f"{r['initCpuMs']:.1f}" if r["initCpuMs"] is not None else "-"
        peak = f"{r['peakBytes'] / mib:.1f}" if r["peakBytes"] else "-"
        slow = " (over 25 ms)" if r["initMs"] and r["initMs"] > INIT_GOAL_MS else ""
        print(f"{r['function']:<20} {r['zipBytes'] / mib:>8.2f} {r['binaryBytes'] / mib:>10.2f} "
              f"{init:>8} {low:>7} {cpu:>7} {peak:>9}  {r['measuredThrough']}{slow}")
    print(f"goals: zip <= 3.5 MiB, init <= {INIT_GOAL_MS:.0f} ms, peak <= 32 MiB; {args.runs} runs each")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    for p in over:
        print(f"OVER GOAL: {p}", file=sys.stderr)
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    if (args.enforce and problems) or (args.enforce_goals and over):
        sys.exit(1)


if __name__ == "__main__":
    main()
