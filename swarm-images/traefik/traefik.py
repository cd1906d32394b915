#!/usr/bin/python3
"""Stand-in for the traefik binary (no Traefik binary exists on this machine or in Debian 12).

`traefik [--configFile=F]` reads the static configuration (default /etc/traefik/traefik.yml), listens on every
entryPoint's address and answers GET /ping with "OK" on the ping entryPoint (as Traefik's ping handler does); every
other request gets Traefik's "404 page not found". It routes NOTHING: the edge's routing is proven by the
rendered-config tests, not here. `traefik healthcheck --ping` does what Traefik's does: GET /ping on the ping
entryPoint of the static configuration, exit 0 on 200, 1 otherwise.
"""
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml


def load(argv):
    path = "/etc/traefik/traefik.yml"
    for a in argv:
        if a.startswith("--configFile=") or a.startswith("--configfile="):
            path = a.split("=", 1)[1]
    with open(path) as f:
        return yaml.safe_load(f) or {}


def port_of(address):
    return int(str(address).rsplit(":", 1)[1])


def ping_port(cfg):
    eps = cfg.get("entryPoints") or {}
    name = (cfg.get("ping") or {}).get("entryPoint", "traefik")
    if name in eps:
        return port_of(eps[name]["address"])
    return 8080  # Traefik's default "traefik" entryPoint


def metrics_port(cfg):
    prom = (cfg.get("metrics") or {}).get("prometheus")
    if prom is None:
        return None
    eps = cfg.get("entryPoints") or {}
    name = (prom or {}).get("entryPoint", "traefik")
    return port_of(eps[name]["address"]) if name in eps else 8080


def make_handler(is_ping, is_metrics=False):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if is_ping and self.path == "/ping":
                code, body = 200, b"OK"
            elif is_metrics and self.path == "/metrics":
                # Traefik serves Prometheus metrics on metrics.prometheus.entryPoint (default "traefik").
                code, body = 200, b"# TYPE traefik_config_reloads_total counter\ntraefik_config_reloads_total 1\n"
            else:
                code, body = 404, b"404 page not found\n"
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, fmt, *args):
            pass

    return H


def main(argv):
    if argv[:1] == ["healthcheck"]:
        cfg = load(argv[1:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ping_port(cfg)}/ping", timeout=3) as r:
                ok = r.status == 200
        except Exception as e:  # noqa: BLE001
            print(f"Error calling healthcheck: {e}", file=sys.stderr)
            return 1
        print("OK: http://:%d/ping" % ping_port(cfg) if ok else "Bad healthcheck status")
        return 0 if ok else 1
    if argv[:1] == ["version"]:
        print("Version: stand-in (no Traefik binary here)")
        return 0
    cfg = load(argv)
    eps = cfg.get("entryPoints") or {"traefik": {"address": ":8080"}}
    pport = ping_port(cfg)
    servers = []
    for name, ep in eps.items():
        port = port_of(ep["address"])
        srv = ThreadingHTTPServer(("", port), make_handler(port == pport and "ping" in cfg, port == metrics_port(cfg)))
        srv.daemon_threads = True
        servers.append(srv)
        print(f"traefik stand-in: entryPoint {name} on :{port}", flush=True)
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[0].serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
