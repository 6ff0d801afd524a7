"""pymodbus's async client for the benchmarks: N sequential reads of 4 holding
registers at 0x1000 from unit 5.
    python3 pymodbus_client.py tcp HOST PORT N
    python3 pymodbus_client.py rtu DEVICE BAUD PARITY N
"""
import asyncio
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
    t0 = time.monotonic()
    for _ in range(n):
        rr = await client.read_holding_registers(0x1000, count=4, device_id=5)
        if rr.isError() or len(rr.registers) != 4:
            failures += 1
    dt = time.monotonic() - t0
    client.close()
    print(f"pymodbus {argv[1]} n={n} failures={failures} seconds={dt:.3f} tps={n / dt:.0f}")


asyncio.run(main(sys.argv))
