"""Test hosts in network namespaces: a bridge namespace, a hub host and kiosk hosts on veth
pairs, with multicast for zeroconf. Addresses exist only inside namespaces made here."""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass, field

SUBNET = "10.77"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def netns_available() -> str | None:
    """None if namespaces can be made here, else the reason why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    name = f"probe{secrets.token_hex(3)}"
    result = sh("ip", "netns", "add", name, check=False)
    if result.returncode != 0:
        return f"ip netns add failed: {result.stderr.strip()}"
    sh("ip", "netns", "del", name, check=False)
    return None


@dataclass
class Host:
    ns: str
    ip: str
    dev: str  # the host's end of its veth
    bridge_dev: str  # the bridge's end

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.ns]


@dataclass
class Lan:
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def bridge_ns(self) -> str:
        return f"br{self.tag}"

    def __enter__(self) -> Lan:
        sh("ip", "netns", "add", self.bridge_ns)
        sh("ip", "-n", self.bridge_ns, "link", "add", "name", "br0", "type", "bridge")
        sh("ip", "-n", self.bridge_ns, "link", "set", "dev", "br0", "up")
        return self

    def add_host(self, name: str, index: int) -> Host:
        ns = f"{name}{self.tag}"
        host = Host(ns=ns, ip=f"{SUBNET}.0.{index}", dev=f"e{name}", bridge_dev=f"b{name}")
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "dev", "lo", "up")
        sh(
            "ip",
            "-n",
            ns,
            "link",
            "add",
            "name",
            host.dev,
            "type",
            "veth",
            "peer",
            "name",
            host.bridge_dev,
            "netns",
            self.bridge_ns,
        )
        sh("ip", "-n", ns, "addr", "add", f"{host.ip}/24", "dev", host.dev)
        sh("ip", "-n", ns, "link", "set", "dev", host.dev, "multicast", "on", "up")
        sh("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", host.dev)
        sh("ip", "-n", self.bridge_ns, "link", "set", "dev", host.bridge_dev, "master", "br0")
        sh("ip", "-n", self.bridge_ns, "link", "set", "dev", host.bridge_dev, "up")
        self.hosts[name] = host
        return host

    def cut(self, name: str) -> None:
        """Pull the cable: the bridge-side end of the host's veth goes down."""
        sh("ip", "-n", self.bridge_ns, "link", "set", "dev", self.hosts[name].bridge_dev, "down")

    def mend(self, name: str) -> None:
        sh("ip", "-n", self.bridge_ns, "link", "set", "dev", self.hosts[name].bridge_dev, "up")

    def isolate(self, name: str) -> None:
        """Lose everything silently: the host's link stays up (no carrier change for its
        kernel to report), but the bridge no longer forwards its frames, as when a switch or
        router further on dies. `rejoin` undoes it."""
        sh(
            "ip",
            "-n",
            self.bridge_ns,
            "link",
            "set",
            "dev",
            self.hosts[name].bridge_dev,
            "nomaster",
        )

    def rejoin(self, name: str) -> None:
        sh(
            "ip", "-n", self.bridge_ns, "link", "set", "dev", self.hosts[name].bridge_dev,
            "master", "br0",
        )  # fmt: skip

    def slow(self, name: str, rate: str) -> None:
        """Rate-limit both directions of a host's link (token bucket)."""
        host = self.hosts[name]
        for ns, dev in ((host.ns, host.dev), (self.bridge_ns, host.bridge_dev)):
            sh(
                "ip",
                "netns",
                "exec",
                ns,
                "tc",
                "qdisc",
                "replace",
                "dev",
                dev,
                "root",
                "tbf",
                "rate",
                rate,
                "burst",
                "16kb",
                "latency",
                "2s",
            )

    def __exit__(self, *exc: object) -> None:
        for host in self.hosts.values():
            sh("ip", "netns", "del", host.ns, check=False)
        sh("ip", "netns", "del", self.bridge_ns, check=False)
