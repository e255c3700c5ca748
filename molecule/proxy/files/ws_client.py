"""Websocket client used by the scenario's tests on mp-app: connect, send, print the answer.

usage: python3 ws_client.py URL CAFILE MESSAGE   (exit 0 and prints the reply)
"""

import asyncio
import ssl
import sys

import aiohttp


async def main(url: str, cafile: str, message: str) -> None:
    context = ssl.create_default_context(cafile=cafile)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, ssl=context, timeout=10) as sock,
    ):
        await sock.send_str(message)
        reply = await sock.receive(timeout=10)
        print(reply.data)


asyncio.run(main(*sys.argv[1:4]))
