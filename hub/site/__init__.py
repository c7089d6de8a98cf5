"""Running the hub for the kiosks of a site: the process (`server`), the ZeroMQ sockets
(`router`), zeroconf advertising (`discovery`), the CurveZMQ key (`keys`), and systemd's
readiness, watchdog (`sdnotify`) and journal (`logs`).

`hub.service` decides what a message means; this package moves the bytes and keeps the
process alive. Only `hub.cli` imports it.
"""
