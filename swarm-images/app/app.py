#!/usr/bin/python3
"""Stand-in for kubeworkz/ops_center's frontend and backend (the real image is not reachable here).

Serves GET /health (200 while the process runs), /metrics (Prometheus text), /ready (200 until SIGTERM, then 503 while draining),
/version (the image's APP_VERSION, role and DEPLOY_COLOR) and / (the same JSON), on APP_PORT (frontend 80,
backend 8084, the ports the plan's health checks use). On SIGTERM it stops being ready, keeps answering
in-flight and new requests for GRACEFUL_SHUTDOWN_DRAIN seconds (default 2, bounded by
GRACEFUL_SHUTDOWN_TIMEOUT), then exits 0: what a rolling update or a drain needs to lose no request.
It reads *_FILE variables' files at start (as the real image is expected to) and fails if one is unreadable.
"""
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = os.environ.get("APP_ROLE", "app")
VERSION = os.environ.get("APP_VERSION", "0")
PORT = int(os.environ.get("APP_PORT", "8080"))
COLOR = os.environ.get("DEPLOY_COLOR", "")
state = {"ready": True}

for name, path in sorted(os.environ.items()):
    if name.endswith("_FILE") and path.startswith("/"):
        try:
            with open(path) as f:
                if not f.read().strip():
                    sys.exit(f"{ROLE}: {name}={path} is empty")
        except OSError as e:
            sys.exit(f"{ROLE}: cannot read {name}={path}: {e}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, code, body):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        info = {"role": ROLE, "version": VERSION, "color": COLOR, "host": socket.gethostname()}
        if self.path == "/health":
            self._send(200, {"status": "ok", **info})
        elif self.path == "/ready":
            self._send(200 if state["ready"] else 503, {"ready": state["ready"], **info})
        elif self.path in ("/", "/version"):
            self._send(200, info)
        elif self.path == "/metrics":
            # The plan's Prometheus scrapes the backend's /metrics (renderers/prometheus.ts): Prometheus text format.
            data = (f'# TYPE ops_center_build_info gauge\nops_center_build_info{{role="{ROLE}",version="{VERSION}",color="{COLOR}"}} 1\n').encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._send(404, {"error": "not found", **info})

    def log_message(self, fmt, *args):
        pass


server = ThreadingHTTPServer(("", PORT), Handler)
server.daemon_threads = True


def on_term(_sig, _frm):
    state["ready"] = False
    limit = float(os.environ.get("GRACEFUL_SHUTDOWN_TIMEOUT", "30"))
    drain = min(float(os.environ.get("GRACEFUL_SHUTDOWN_DRAIN", "2")), limit)

    def stop():
        time.sleep(drain)
        server.shutdown()

    threading.Thread(target=stop, daemon=True).start()


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
print(f"{ROLE} {VERSION} listening on :{PORT}", flush=True)
server.serve_forever()
print(f"{ROLE} {VERSION} stopped", flush=True)
