"""Stands in for an API server that is not up yet: a port on loopback where nothing listens (connections are
refused, as before kube-apiserver starts) until :meth:`LateServer.open`; from then on every connection is
passed, byte for byte, to the real API server (TLS goes through untouched: clients verify the real server's
certificate, which names ``localhost``)."""

from __future__ import annotations

import contextlib
import socket
import threading

from .operatorbed import free_port


class LateServer:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listeners: list[socket.socket] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def open(self) -> None:
        for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            try:
                listener = socket.create_server((address, self.port), family=family)
            except OSError:  # no IPv6 loopback here: 127.0.0.1 is enough
                continue
            self._listeners.append(listener)
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for s in [*self._listeners, *self._open]:
            with contextlib.suppress(OSError):
                s.close()
        self._listeners.clear()
        self._open.clear()
