"""A small real upstream for the proxy scenario: HTTP and websocket echo (aiohttp).

GET /            -> 200 JSON: the request's method, path and the headers the proxy set
POST /upload     -> 200 JSON: the number of body bytes received
GET /ws          -> websocket: every text message is sent back prefixed with "echo: "
"""

from aiohttp import WSMsgType, web


async def index(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "upstream": "mp-app",
            "method": request.method,
            "path": request.path_qs,
            "x_forwarded_proto": request.headers.get("X-Forwarded-Proto"),
            "x_forwarded_for": request.headers.get("X-Forwarded-For"),
            "x_request_id": request.headers.get("X-Request-ID"),
        }
    )


async def upload(request: web.Request) -> web.Response:
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
    return web.json_response({"received": size})


async def ws(request: web.Request) -> web.WebSocketResponse:
    sock = web.WebSocketResponse(heartbeat=None)
    await sock.prepare(request)
    async for msg in sock:
        if msg.type == WSMsgType.TEXT:
            await sock.send_str("echo: " + msg.data)
        elif msg.type == WSMsgType.ERROR:
            break
    return sock


app = web.Application(client_max_size=4 * 1024**3)
app.add_routes([web.get("/", index), web.post("/upload", upload), web.get("/ws", ws)])

if __name__ == "__main__":
    web.run_app(app, host="0.0.0.0", port=8000, access_log=None)
