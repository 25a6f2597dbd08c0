"""The seeds' TCP walk-through as plain Python socket calls, no panel: the baseline for bench.sh."""
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
assert srv.fileno() == 3
srv.bind(("127.0.0.1", 0))
srv.listen(5)
cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
cli.connect(srv.getsockname())
conn, addr = srv.accept()
conn.send(b"Thank you for connecting")
assert cli.recv(4096) == b"Thank you for connecting"
cli.close()
assert conn.recv(4096) == b""
conn.close()
srv.close()
