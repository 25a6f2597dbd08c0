"""N TCP listeners (socket, bind 127.0.0.1:0, listen) as plain Python calls: the baseline for
bench.sh's setup rows. Usage: listeners.py N"""
import socket
import sys

held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    held.append(s)
