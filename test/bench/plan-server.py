#!/usr/bin/env python3
# Serves a launch plan on a Unix socket, as the supervisor does: the plan line to each launcher
# that connects, then its reports read until it closes. Usage: plan-server.py SOCKET PLAN_FILE
import os, socket, sys

path, plan = sys.argv[1], open(sys.argv[2], "rb").read().rstrip(b"\n") + b"\n"
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)
print("listening", flush=True)
while True:
    conn, _ = server.accept()
    conn.sendall(plan)
    while conn.recv(4096):
        pass
    conn.close()
