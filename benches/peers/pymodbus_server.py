"""pymodbus's async TCP server for the benchmarks: unit 5's holding registers
0x1000..0x1003 as the 4 120 83 holds them (230 V in mV, 10 A in mA).
    python3 pymodbus_server.py PORT
"""
import asyncio
import sys

from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
)
from pymodbus.server import StartAsyncTcpServer


async def main(port):
    # pymodbus adds 1 to the protocol address inside its data blocks.
    block = ModbusSequentialDataBlock(0x1000 + 1, [3, 33392, 0, 10000])
    device = ModbusDeviceContext(hr=block)
    context = ModbusServerContext(devices={5: device}, single=False)
    print(f"pymodbus server listening on {port}", flush=True)
    await StartAsyncTcpServer(context=context, address=("127.0.0.1", port))


asyncio.run(main(int(sys.argv[1])))
