"""pymodbus's async client for the benchmarks: N sequential reads of 4 holding
registers at 0x1000 from unit 5.
    python3 pymodbus_client.py tcp HOST PORT N
    python3 pymodbus_client.py rtu DEVICE BAUD PARITY N
Prints one line: N, failures, seconds, this process's CPU per transaction over
the N reads (getrusage RUSAGE_SELF: user, system, both, in microseconds), tps.
"""
import asyncio
import resource
import sys
import time

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient


async def main(argv):
    if argv[1] == "tcp":
        client = AsyncModbusTcpClient(argv[2], port=int(argv[3]), timeout=1)
        n = int(argv[4])
    else:
        client = AsyncModbusSerialClient(
            argv[2], baudrate=int(argv[3]), parity=argv[4], stopbits=1, bytesize=8, timeout=1
        )
        n = int(argv[5])
    await client.connect()
    failures = 0
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    for _ in range(n):
        rr = await client.read_holding_registers(0x1000, count=4, device_id=5)
        if rr.isError() or len(rr.registers) != 4:
            failures += 1
    dt = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    client.close()
    us = 1e6 / max(n, 1)
    user = (r1.ru_utime - r0.ru_utime) * us
    sys_ = (r1.ru_stime - r0.ru_stime) * us
    print(
        f"pymodbus {argv[1]} n={n} failures={failures} seconds={dt:.3f} "
        f"user_us={user:.2f} sys_us={sys_:.2f} cpu_us={user + sys_:.2f} tps={n / dt:.0f}"
    )


asyncio.run(main(sys.argv))
