"""The pack's HTTP routes in a real aiohttp server, and a client that calls them the way the Settings panel
does (every call declared as JSON, as js/ui/key_panel.js sends it) while keeping every answer it got."""

import asyncio
import threading

import requests
from aiohttp import web

from nodes.routes import register
from nodes.routes.key_routes import ROUTE_PREFIX


class RouteServer:
    """The pack's routes in a real aiohttp server on `host` (127.0.0.1 by default), on its own loop thread."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = None
        self.port = None

    def __enter__(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _start(self):
        routes = web.RouteTableDef()
        register(routes)
        app = web.Application()
        app.add_routes(routes)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    @property
    def netloc(self):
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, path):
        return f"http://{self.netloc}{ROUTE_PREFIX}{path}"


class Client:
    """Calls the routes and keeps every answer, so each test can check that none of them holds a key."""

    def __init__(self, server):
        self.server = server
        self.bodies = []

    def call(self, method, path, headers=None, **kwargs):
        headers = {"Content-Type": "application/json", **(headers or {})}
        headers = {name: value for name, value in headers.items() if value is not None}
        response = requests.request(method, self.server.url(path), headers=headers, timeout=30, **kwargs)
        self.bodies.append(response.text)
        return response

    def save(self, key, **kwargs):
        return self.call("POST", "/key", json={"key": key}, **kwargs)

    def save_raw(self, data, **kwargs):
        return self.call("POST", "/key", data=data, **kwargs)

    def status(self, **kwargs):
        return self.call("GET", "/key", **kwargs).json()

    def test(self, **kwargs):
        return self.call("POST", "/key/test", **kwargs).json()
