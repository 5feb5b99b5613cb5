"""A real S3 API on 127.0.0.1 for the tests: moto's server, behind a small proxy that counts the
requests trailtui makes and injects the faults S3 gives (AccessDenied on chosen keys, SlowDown
for the first requests of others).

The proxy forwards every request unchanged (moto does not check signatures) and answers the
injected faults itself with S3's XML error body, as S3 would.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>trailtui-test</RequestId></Error>"
)


# What S3 answers a GET of an SSE-KMS object when the caller may not use the KMS key.
KMS_DENIED = (
    "The ciphertext refers to a customer master key that does not exist, does not exist in this region,"
    " or you are not allowed to access."
)


def _signed_region(authorization: str) -> str:
    """The Region of a SigV4 ``Authorization`` header's credential scope
    (``Credential=AKID/20240507/eu-west-1/s3/aws4_request``); "" for none."""
    _, found, rest = authorization.partition("Credential=")
    scope = rest.split(",", 1)[0].split("/") if found else []
    return scope[2] if len(scope) >= 4 else ""


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-request (a loader stopped while downloading) is no error."""

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@dataclass
class Request:
    """One request the proxy saw: ``method``, ``bucket``, ``key`` ("" for a bucket request) and
    the query parameters (``list-type``, ``prefix``, ``delimiter``...)."""

    method: str
    bucket: str
    key: str
    query: dict[str, str]

    @property
    def is_listing(self) -> bool:
        return self.method == "GET" and not self.key and self.query.get("list-type") == "2"

    @property
    def is_get_object(self) -> bool:
        return self.method == "GET" and bool(self.key)


@dataclass
class Faults:
    """``denied``: keys answered 403 AccessDenied; ``slow_down``: key -> how many of its next
    GETs are answered 503 SlowDown; ``denied_prefixes``: listing prefixes answered 403;
    ``get_delay``: seconds each object GET waits before it is answered (a slow link);
    ``kms_denied``: keys answered as S3 answers a GET of an SSE-KMS object whose key the caller
    may not use (403 AccessDenied naming the KMS key); ``bucket_regions``: bucket -> the Region
    it lives in: a request signed for another Region gets S3's 301 PermanentRedirect with the
    ``x-amz-bucket-region`` header, as S3 answers a client configured for the wrong Region;
    ``listing_delays``: prefix -> seconds a listing of exactly that prefix waits (a slow
    folder among many); ``cut_bodies``: key -> how many of its next GETs send the headers and
    half the body, then drop the connection (a connection lost mid-download)."""

    get_delay: float = 0.0
    denied: set[str] = field(default_factory=set)
    kms_denied: set[str] = field(default_factory=set)
    bucket_regions: dict[str, str] = field(default_factory=dict)
    listing_delays: dict[str, float] = field(default_factory=dict)
    cut_bodies: dict[str, int] = field(default_factory=dict)
    slow_down: dict[str, int] = field(default_factory=dict)
    denied_prefixes: set[str] = field(default_factory=set)


class S3TestServer:
    """moto's S3 server with the counting, fault-injecting proxy in front; ``endpoint_url`` is
    the proxy's. Use as a context manager, or :meth:`start` / :meth:`stop`."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.requests: list[Request] = []
        #: The Region each request was signed for (its Authorization header's credential scope).
        self.signed_regions: list[str] = []
        self.faults = Faults()
        self._lock = threading.Lock()
        self._proxy: ThreadingHTTPServer | None = None

    def start(self) -> S3TestServer:
        self._moto.start()
        upstream = self._moto.get_host_and_port()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _forward(self) -> None:
                parts = urlsplit(self.path)
                segments = parts.path.lstrip("/").split("/", 1)
                bucket, key = segments[0], unquote(segments[1]) if len(segments) > 1 else ""
                query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
                request = Request(self.command, bucket, key, query)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                signed = _signed_region(self.headers.get("Authorization") or "")
                fault = server._fault(request, signed)
                with server._lock:
                    server.requests.append(request)
                    server.signed_regions.append(signed)
                if request.is_get_object and server.faults.get_delay:
                    time.sleep(server.faults.get_delay)
                if request.is_listing:
                    time.sleep(server.faults.listing_delays.get(request.query.get("prefix", ""), 0.0))
                if fault:
                    status, code, message = fault
                    payload = ERROR_BODY.format(code=code, message=message).encode()
                    self.send_response(status)
                    if code == "PermanentRedirect":
                        self.send_header("x-amz-bucket-region", server.faults.bucket_regions[bucket])
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                connection = http.client.HTTPConnection(*upstream, timeout=30)
                headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
                headers["Host"] = f"{upstream[0]}:{upstream[1]}"
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(name, value)
                # A HEAD answer has no body but says the object's length, as S3's does.
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if request.is_get_object and response.status == 200 and server._cut(request.key):
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self._proxy = _QuietServer(("127.0.0.1", 0), Handler)
        self._proxy.daemon_threads = True
        threading.Thread(target=self._proxy.serve_forever, daemon=True).start()
        return self

    def _fault(self, request: Request, signed_region: str) -> tuple[int, str, str] | None:
        with self._lock:
            home = self.faults.bucket_regions.get(request.bucket)
            if home and signed_region != home:
                return 301, "PermanentRedirect", (
                    "The bucket you are attempting to access must be addressed using the specified endpoint."
                )
            if request.is_get_object and request.key in self.faults.denied:
                return 403, "AccessDenied", "Access Denied"
            if request.is_get_object and request.key in self.faults.kms_denied:
                return 403, "AccessDenied", KMS_DENIED
            if request.is_get_object and self.faults.slow_down.get(request.key, 0) > 0:
                self.faults.slow_down[request.key] -= 1
                return 503, "SlowDown", "Please reduce your request rate."
            if request.is_listing and request.query.get("prefix", "") in self.faults.denied_prefixes:
                return 403, "AccessDenied", "Access Denied"
        return None

    def _cut(self, key: str) -> bool:
        with self._lock:
            if self.faults.cut_bodies.get(key, 0) > 0:
                self.faults.cut_bodies[key] -= 1
                return True
        return False

    @property
    def endpoint_url(self) -> str:
        assert self._proxy is not None
        host, port = self._proxy.server_address[:2]
        return f"http://{host}:{port}"

    def take_requests(self) -> list[Request]:
        """The requests seen since the last call (and forget them, and their signed Regions)."""
        with self._lock:
            taken, self.requests, self.signed_regions = self.requests, [], []
        return taken

    def stop(self) -> None:
        if self._proxy is not None:
            self._proxy.shutdown()
            self._proxy.server_close()
        self._moto.stop()

    def __enter__(self) -> S3TestServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
