"""N calls of setblocking(False) on one TCP socket in plain Python: the baseline for bench.sh's
round trip of one command. Usage: nonblock.py N"""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
for _ in range(int(sys.argv[1])):
    s.setblocking(False)
