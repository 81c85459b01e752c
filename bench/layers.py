"""What the channel layer costs per call, per layer, beside Channels' own layers in the same invocation (issue 11).

    .venv/bin/python bench/layers.py                         # everything: in memory, then Redis (~2 minutes)
    .venv/bin/python bench/layers.py --skip-redis --calls 200
    .venv/bin/python bench/layers.py --sizes 100,2000 --fanout 500

In memory, Channels' ``InMemoryChannelLayer`` (stock) against Parley's ``InProcessChannelLayer``
(contact_center/channel_layer.py), at each of ``--sizes`` channels. Every channel is in a group of its own and
has a consumer parked in ``receive``, as an open socket does; a probe channel, also in a group of its own, is
what is measured: the CPU time of one ``group_send`` to its group and of one ``receive`` of a waiting
message on it (this process's CPU time, so a busy machine does not inflate it), the median of batches of
``--batch`` calls. Then fan-out: ``--fanout`` consumers in one group, one ``group_send``, time until every
consumer has it, as deliveries/s (median of ``--rounds``). Also Parley's whole-layer sweep (once per 5 s).

On Redis (``--redis-url``, loopback only), Channels' ``RedisChannelLayer`` (core, Parley's layer until
issue 11) and ``RedisPubSubChannelLayer`` (pubsub) against Parley's ``RedisEventsLayer``
(contact_center/redis_channel_layer.py), all with Parley's connection options: with
``--redis-channels`` consumers parked, the wall time of one ``group_send`` to the probe's group, the
wall time from that ``group_send`` until the probe's consumer has the message (a round trip through
Redis), and fan-out as above. CPU of this process and of the Redis server per fan-out delivery. Each
run uses its own key prefix and deletes its keys afterwards.

Progress goes to stderr, the table to stdout with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from channels.layers import InMemoryChannelLayer  # noqa: E402

from bench._loadgen import Progress  # noqa: E402
from contact_center.channel_layer import InProcessChannelLayer, _Queue  # noqa: E402

progress = Progress("layers")
CAPACITY = 1000  # Parley's, on both backends


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Consumers:
    """``count`` consumers, each looping on ``receive`` of its own channel, in its own group or in ``group``."""

    def __init__(self, layer, count: int, group: str | None = None, prefix: str = "c"):
        self.layer, self.count, self.group, self.prefix = layer, count, group, prefix
        self.received = 0
        self.all_in = asyncio.Event()
        self.expected = 0
        self.tasks: list[asyncio.Task] = []
        self.channels: list[str] = []

    async def start(self, named: bool = False):
        for n in range(self.count):
            channel = await self.layer.new_channel() if named else f"{self.prefix}{n}"
            self.channels.append(channel)
            await self.layer.group_add(self.group or f"g-{self.prefix}{n}", channel)
            self.tasks.append(asyncio.create_task(self._run(channel)))
        await asyncio.sleep(0)

    async def _run(self, channel: str):
        while True:
            message = await self.layer.receive(channel)
            if message["type"] == "bench.stop":
                return
            self.received += 1
            if self.received >= self.expected:
                self.all_in.set()

    async def stop(self):
        # Told to stop rather than cancelled: channels-redis' receive can hang on a cancellation that
        # arrives while it holds its receive lock on a blocking BZPOPMIN.
        for channel in self.channels:
            await self.layer.send(channel, {"type": "bench.stop"})
        done, pending = await asyncio.wait(self.tasks, timeout=30)
        for task in pending:
            task.cancel()


def per_call_us(samples: list[float], batch: int) -> float:
    return statistics.median(samples) / batch * 1e6


async def memory_calls(layer, size: int, calls: int, batch: int) -> dict:
    """CPU time of group_send and receive on a probe channel while ``size`` other consumers are parked."""
    parked = Consumers(layer, size)
    await parked.start()
    await layer.group_add("probe-group", "probe")
    sends, receives = [], []
    for _ in range(max(1, calls // batch)):
        t = time.process_time()
        for _ in range(batch):
            await layer.group_send("probe-group", {"type": "cc.event", "event": {"id": 1}})
        sends.append(time.process_time() - t)
        t = time.process_time()
        for _ in range(batch):
            await layer.receive("probe")
        receives.append(time.process_time() - t)
    await parked.stop()
    return {"group_send_us": per_call_us(sends, batch), "receive_us": per_call_us(receives, batch)}


async def fanout(layer, members: int, rounds: int, named: bool = False, redis_url: str | None = None) -> dict:
    """Deliveries/s of one group_send to ``members`` consumers; median of ``rounds`` after one unmeasured."""
    consumers = Consumers(layer, members, group="fanout", prefix="f")
    await consumers.start(named=named)
    rates, cpu = [], []
    server_cpu = 0.0
    message = {"type": "cc.event", "event": {"type": "entry.created", "entry": {"id": 1, "body": "x" * 200}}}
    for n in range(rounds + 1):
        consumers.received, consumers.expected = 0, members
        consumers.all_in.clear()
        server0 = redis_cpu_seconds(redis_url) if redis_url else 0.0
        cpu0, t0 = time.process_time(), time.perf_counter()
        await layer.group_send("fanout", message)
        await asyncio.wait_for(consumers.all_in.wait(), timeout=60)
        elapsed = time.perf_counter() - t0
        if n:
            rates.append(members / elapsed)
            cpu.append((time.process_time() - cpu0) / members * 1e6)
            if redis_url:
                server_cpu += redis_cpu_seconds(redis_url) - server0
        await asyncio.sleep(0.05)
    await consumers.stop()
    result = {"deliveries_per_s": statistics.median(rates), "cpu_us_per_delivery": statistics.median(cpu)}
    if redis_url:
        result["redis_cpu_us_per_delivery"] = server_cpu / (members * rounds) * 1e6
    return result


def sweep_us(size: int) -> float:
    """Parley's whole-layer sweep with ``size`` channels (an empty queue each) and memberships."""
    layer = InProcessChannelLayer(capacity=CAPACITY)

    async def fill():
        for n in range(size):
            await layer.group_add(f"g{n}", f"c{n}")
            layer.channels[f"c{n}"] = _Queue(CAPACITY)

    asyncio.run(fill())
    samples = []
    for _ in range(5):
        t = time.process_time()
        layer._sweep(layer.clock())
        samples.append(time.process_time() - t)
    return statistics.median(samples) * 1e6


async def redis_calls(layer, parked_count: int, calls: int) -> dict:
    """Wall time of group_send, and of group_send until the probe's consumer has it, through Redis."""
    parked = Consumers(layer, parked_count)
    await parked.start(named=True)
    probe = Consumers(layer, 1, group="probe-group", prefix="p")
    await probe.start(named=True)
    sends, trips = [], []
    message = {"type": "cc.event", "event": {"id": 1}}
    for n in range(calls):
        probe.received, probe.expected = 0, 1
        probe.all_in.clear()
        t0 = time.perf_counter()
        await layer.group_send("probe-group", message)
        t1 = time.perf_counter()
        await asyncio.wait_for(probe.all_in.wait(), timeout=30)
        if n >= 10:  # the first calls open connections
            sends.append(t1 - t0)
            trips.append(time.perf_counter() - t0)
    await probe.stop()
    await parked.stop()
    return {"group_send_us": statistics.median(sends) * 1e6, "round_trip_us": statistics.median(trips) * 1e6}


def redis_layers(url: str, prefix: str) -> dict:
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from redis import exceptions as redis_errors

    from contact_center.redis_channel_layer import RedisEventsLayer

    # Parley's options (contact_center/settings.py), for all three.
    host = {
        "address": url,
        "socket_timeout": 15,
        "retry_on_error": [redis_errors.ConnectionError],
        "max_connections": 1000,
    }
    return {
        "redis core": lambda: RedisChannelLayer(hosts=[host], prefix=prefix + "core", capacity=CAPACITY, expiry=30),
        "redis pubsub": lambda: RedisPubSubChannelLayer(hosts=[host], prefix=prefix + "pubsub"),
        "parley redis": lambda: RedisEventsLayer(hosts=[host], prefix=prefix + "parley", capacity=CAPACITY, expiry=30),
    }


def redis_cpu_seconds(url: str) -> float:
    """The Redis server's own CPU time (its getrusage, in microseconds: /proc's 10 ms ticks are too coarse)."""
    import redis

    with redis.Redis.from_url(url) as client:
        info = client.info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def delete_keys(url: str, prefix: str) -> None:
    import redis

    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    progress(f"deleted {len(keys)} keys under {prefix}*")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,2000,10000", help="parked channels, in memory (default 100,2000,10000)")
    parser.add_argument("--calls", type=int, default=1000, help="measured calls per case (default 1000)")
    parser.add_argument("--batch", type=int, default=100, help="in-memory calls per timed batch (default 100)")
    parser.add_argument("--fanout", type=int, default=1000, help="members in the fan-out group (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="measured fan-out rounds (default 5)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--redis-channels", type=int, default=2000, help="parked consumers on Redis (default 2000)")
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument("--skip-memory", action="store_true", help="only the Redis layers")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    before = loadavg()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; load average before: {before}")

    layers = {
        "stock in-memory": lambda: InMemoryChannelLayer(capacity=CAPACITY),
        "parley in-process": lambda: InProcessChannelLayer(capacity=CAPACITY),
    }
    if args.skip_memory:
        layers, sizes = {}, []
    print("\nIn memory: CPU per call on a probe channel, with N other channels parked in receive (each in a group)")
    print(f"{'layer':<18} {'N':>7} {'group_send us':>14} {'receive us':>11}")
    for size in sizes:
        for name, make in layers.items():
            calls = args.calls if name.startswith("parley") or size < 5000 else max(args.batch, args.calls // 5)
            progress(f"{name}, {size} channels, {calls} calls")
            r = asyncio.run(memory_calls(make(), size, calls, args.batch))
            print(f"{name:<18} {size:>7} {r['group_send_us']:>14.1f} {r['receive_us']:>11.1f}", flush=True)
    for size in sizes:
        print(f"{'parley sweep':<18} {size:>7} {sweep_us(size):>14.0f} us once per 5 s", flush=True)

    print(f"\nFan-out: one group_send to {args.fanout} consumers, median of {args.rounds} rounds")
    print(f"{'layer':<18} {'deliveries/s':>13} {'CPU us/delivery':>16} {'redis CPU us/delivery':>22}")
    for name, make in layers.items():
        progress(f"{name}, fan-out to {args.fanout}")
        r = asyncio.run(fanout(make(), args.fanout, args.rounds))
        print(f"{name:<18} {r['deliveries_per_s']:>13,.0f} {r['cpu_us_per_delivery']:>16.1f} {'-':>22}", flush=True)

    if not args.skip_redis:
        prefix = f"bench-layers-{os.getpid()}-"
        try:
            rows = []
            for name, make in redis_layers(args.redis_url, prefix).items():
                progress(f"{name}, fan-out to {args.fanout}")
                fan = asyncio.run(fanout(make(), args.fanout, args.rounds, named=True, redis_url=args.redis_url))
                progress(f"{name}, {args.calls} group_sends with {args.redis_channels} consumers parked")
                calls = asyncio.run(redis_calls(make(), args.redis_channels, args.calls))
                rows.append((name, fan, calls))
                print(
                    f"{name:<18} {fan['deliveries_per_s']:>13,.0f} {fan['cpu_us_per_delivery']:>16.1f} "
                    f"{fan['redis_cpu_us_per_delivery']:>22.1f}",
                    flush=True,
                )
            print(f"\nRedis: wall time per call, {args.redis_channels} consumers parked, median of {args.calls}")
            print(f"{'layer':<18} {'group_send us':>14} {'to the consumer us':>19}")
            for name, _fan, calls in rows:
                print(f"{name:<18} {calls['group_send_us']:>14.0f} {calls['round_trip_us']:>19.0f}")
        finally:
            delete_keys(args.redis_url, prefix)
    print(f"\nload average before: {before}; after: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
