#!/usr/bin/env python3
"""A hostile `run` client of the supervisor's agent multiplexer (agent.sock).

usage: mux-attacker.py SOCKET MODE LIMIT
  MODE hello: HELLO frames, over and over
       start: HELLO, then START frames for new session ids (each runs `sleep 600`)
       samestart: HELLO, then START frames all for session 1
       stdin: HELLO, START of `sleep 600`, then STDIN for it far beyond its credit
Sends up to LIMIT bytes without ever reading, then prints one line:
  dropped sent=N   the mux closed the connection (EPIPE / ECONNRESET)
  alive sent=N     everything was accepted
  stalled sent=N   the mux stopped reading (a send blocked for 10 s)
"""
import socket
import struct
import sys

T_HELLO, T_START, T_STDIN = 0x01, 0x10, 0x11


def frame(ftype, session, payload):
    return struct.pack("<IIB3x", len(payload), session, ftype) + payload


def hello():
    return frame(T_HELLO, 0, struct.pack("<IIII", 2, 65536, 0, 262144) + b"attacker")


def start(session):
    strings = b"\0\0" + b"sleep\0" + b"600\0"  # cwd, user, argv
    return frame(T_START, session, struct.pack("<IHHII", 0, 0, 0, 2, 0) + strings)


def stream(mode):
    """Yields chunks of about 64 KiB of frames."""
    if mode == "hello":
        chunk = hello() * (65536 // len(hello()))
        while True:
            yield chunk
    first = hello()
    if mode == "start":
        sid = 1
        while True:
            frames = [start(sid + i) for i in range(1000)]
            sid += 1000
            yield first + b"".join(frames)
            first = b""
    if mode == "samestart":
        chunk = b"".join(start(1) for _ in range(1000))
        yield first + chunk
        while True:
            yield chunk
    if mode == "stdin":
        data = frame(T_STDIN, 1, b"x" * 65536)
        yield first + start(1)
        while True:
            yield data
    raise SystemExit("unknown mode " + mode)


def main():
    path, mode, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    sent = 0
    result = "alive"
    try:
        for chunk in stream(mode):
            if sent >= limit:
                break
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        result = "dropped"
    except socket.timeout:
        result = "stalled"
    if result != "dropped":
        # a dropped client sees EOF once it reads (the mux may close after our last send)
        s.settimeout(2)
        try:
            while True:
                if not s.recv(1 << 20):
                    result = "dropped"
                    break
        except (socket.timeout, ConnectionResetError):
            pass
    print("%s sent=%d" % (result, sent), flush=True)


main()
